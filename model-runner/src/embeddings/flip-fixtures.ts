/**
 * The flips written the plain way, on the host: the reference the graph's flips (flip-graph.ts) are
 * tested against.
 */
import ort from 'onnxruntime-node';
import type { Flip } from './cache.ts';

/** A flipped copy of a C×H×W tensor: 'h' mirrors left–right (width), 'v' top–bottom (height), 'hv' both. */
export function hostFlip(data: Float32Array, channels: number, height: number, width: number, flip: Flip) {
  const out = new Float32Array(data.length);
  const flipH = flip === 'h' || flip === 'hv';
  const flipV = flip === 'v' || flip === 'hv';
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        out[(c * height + (flipV ? height - 1 - y : y)) * width + (flipH ? width - 1 - x : x)] =
          data[(c * height + y) * width + x];
  return out;
}

/** The plain backbone (`bytes`, input `input`, output `features`) on `inputs` (each 3×H×W), one run: [N × 512]. */
export async function plainFeatures(
  bytes: Uint8Array,
  inputs: Float32Array[],
  height: number,
  width: number,
) {
  const session = await ort.InferenceSession.create(bytes);
  const batch = new Float32Array(inputs.length * inputs[0].length);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const out = await session.run({
    input: new ort.Tensor('float32', batch, [inputs.length, 3, height, width]),
  });
  await session.release();
  return out.features.data as Float32Array;
}
