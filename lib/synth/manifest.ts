/**
 * `manifest.csv`: the ground truth of a generated data set, one row per image, in data-set order.
 *
 * Columns (stable order):
 *   file           path of the TIFF relative to the manifest's folder: `<bundle>/<bundle>-<nnn>.tif`
 *   bundle         bundle name (`bundle-01` …), also the TIFF's folder
 *   verdict        true verdict: `normal` or `abnormal` (abnormal ⇔ some anomaly has severity ≥ 0.5)
 *   anomalies      `type:severity` pairs separated by `;`, most severe first (empty for a clean electrode)
 *   max_severity   highest severity (0 without anomalies)
 *   difficulty     0–1, how borderline the image is (1 = worst anomaly exactly at the threshold); experts use it
 *   width, height  pixels
 *   bright_particles  plateau value of bright foreign particles, empty when none (they are not anomalies: they
 *                  exist to reproduce the paper's method-2 upper bound, section 2.3.2)
 * No field contains a comma or a quote, so no quoting is needed.
 */
import { ANOMALY_TYPES, type AnomalySpec, type AnomalyType, type ImageSpec } from './plan.ts';

export const MANIFEST_COLUMNS = [
  'file',
  'bundle',
  'verdict',
  'anomalies',
  'max_severity',
  'difficulty',
  'width',
  'height',
  'bright_particles',
] as const;

/** One parsed manifest row. */
export interface ManifestRow {
  file: string;
  bundle: string;
  verdict: 'normal' | 'abnormal';
  anomalies: AnomalySpec[];
  maxSeverity: number;
  difficulty: number;
  width: number;
  height: number;
  brightParticles: number | null;
}

export function manifestCsv(images: readonly ImageSpec[]): string {
  const lines = [MANIFEST_COLUMNS.join(',')];
  for (const im of images) {
    lines.push(
      [
        im.file,
        im.bundle,
        im.verdict,
        im.anomalies.map((a) => `${a.type}:${a.severity.toFixed(2)}`).join(';'),
        im.maxSeverity.toFixed(2),
        im.difficulty.toFixed(2),
        im.width,
        im.height,
        im.artifact ? im.artifact.peak : '',
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** Parses a manifest written by {@link manifestCsv}; throws with the line number on anything else. */
export function parseManifest(text: string): ManifestRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== MANIFEST_COLUMNS.join(',')) {
    throw new Error(`not a synthetic-data manifest: the header should be "${MANIFEST_COLUMNS.join(',')}"`);
  }
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    const fail = (what: string) => new Error(`manifest line ${i + 2}: ${what}`);
    if (f.length !== MANIFEST_COLUMNS.length)
      throw fail(`expected ${MANIFEST_COLUMNS.length} fields, got ${f.length}`);
    const verdict = f[2];
    if (verdict !== 'normal' && verdict !== 'abnormal') throw fail(`unknown verdict "${verdict}"`);
    const anomalies =
      f[3] === ''
        ? []
        : f[3].split(';').map((pair) => {
            const [type, sev] = pair.split(':');
            if (!ANOMALY_TYPES.includes(type as AnomalyType)) throw fail(`unknown anomaly type "${type}"`);
            return { type: type as AnomalyType, severity: Number(sev) };
          });
    return {
      file: f[0],
      bundle: f[1],
      verdict,
      anomalies,
      maxSeverity: Number(f[4]),
      difficulty: Number(f[5]),
      width: Number(f[6]),
      height: Number(f[7]),
      brightParticles: f[8] === '' ? null : Number(f[8]),
    };
  });
}
