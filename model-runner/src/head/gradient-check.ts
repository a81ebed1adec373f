import assert from 'node:assert/strict';
import type { ReferenceResult } from './reference.ts';

/** Parameters the check can nudge in place (float64 copies of a head's layers). */
type Values = { [k: number]: number; readonly length: number };

/**
 * Test helper: every weight and bias of `layers` against central finite differences of `loss` (which reads the
 * layers as they are when called), within 1e-7 + 1e-5·|analytic|. Returns how many parameters it checked.
 */
export function assertGradientsMatchFiniteDifferences(
  layers: readonly { weight: Values; bias: Values }[],
  gradients: ReferenceResult['gradients'],
  loss: () => number,
): number {
  const h = 1e-6;
  let checked = 0;
  layers.forEach((layer, l) => {
    for (const key of ['weight', 'bias'] as const) {
      const values = layer[key];
      for (let k = 0; k < values.length; k++) {
        const keep = values[k];
        values[k] = keep + h;
        const up = loss();
        values[k] = keep - h;
        const down = loss();
        values[k] = keep;
        const numeric = (up - down) / (2 * h);
        const analytic = gradients[l][key][k];
        assert.ok(
          Math.abs(numeric - analytic) <= 1e-7 + 1e-5 * Math.abs(analytic),
          `fc${l} ${key}[${k}]: analytic ${analytic}, numeric ${numeric}`,
        );
        checked++;
      }
    }
  });
  return checked;
}
