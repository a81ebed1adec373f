import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAnomalyCode, type AnomalyCode } from '../../../lib/anomaly-types.ts';
import { MENTION } from '../../../lib/synth/experts.ts';

/** One image of a dataset folder, as `manifest.csv` lists it. */
export interface DatasetImage {
  /** Absolute path of the TIFF. */
  path: string;
  /** The manifest's file column (relative to the folder). */
  file: string;
  bundle: string;
  /** Ground truth: true = abnormal (the positive class). */
  abnormal: boolean;
  /** The anomaly types the image shows, when the manifest has an `anomalies` column (see {@link parseAnomalies}). */
  anomalies?: AnomalyCode[];
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const FILE_COLUMNS = ['file', 'path', 'filename'];
const BUNDLE_COLUMNS = ['bundle'];
const TRUTH_COLUMNS = ['truth', 'verdict', 'truth_verdict', 'label'];
const ANOMALY_COLUMNS = ['anomalies'];

/**
 * An `anomalies` cell: `;`-separated codes, each optionally `code:severity` as the synthetic manifest writes them.
 * A type with a severity counts when it is at least what simulated experts still list (lib/synth/experts.ts,
 * MENTION = 0.15): the truth is then the anomaly set a careful panel would name, which is what the runner's type
 * head learns from consensus labels; fainter anomalies are in the image but no expert would mark them.
 */
export function parseAnomalies(cell: string, where: string): AnomalyCode[] {
  const out = new Set<AnomalyCode>();
  for (const item of cell.split(';')) {
    if (item.trim() === '') continue;
    const [code, severity] = item.trim().split(':');
    if (!isAnomalyCode(code)) throw new Error(`${where}: unknown anomaly type "${code}"`);
    if (severity !== undefined) {
      const s = Number(severity);
      if (!Number.isFinite(s)) throw new Error(`${where}: severity "${severity}" of ${code} is not a number`);
      if (s < MENTION) continue;
    }
    out.add(code);
  }
  return [...out];
}

/**
 * Reads `<dir>/manifest.csv` (written by `npm run synth`): one row per image with its file, bundle, true verdict
 * (`normal` / `abnormal`) and, when the column exists, its anomaly types. Other columns are ignored here.
 */
export async function readManifest(dir: string): Promise<DatasetImage[]> {
  const file = path.join(dir, 'manifest.csv');
  const rows = parseCsv(await readFile(file, 'utf8'));
  if (rows.length === 0) throw new Error(`${file} is empty`);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const column = (names: string[], what: string) => {
    const k = header.findIndex((h) => names.includes(h));
    if (k < 0)
      throw new Error(
        `${file} has no ${what} column (one of ${names.join(', ')}); header: ${rows[0].join(', ')}`,
      );
    return k;
  };
  const f = column(FILE_COLUMNS, 'file');
  const b = column(BUNDLE_COLUMNS, 'bundle');
  const t = column(TRUTH_COLUMNS, 'truth verdict');
  const a = header.findIndex((h) => ANOMALY_COLUMNS.includes(h));
  return rows.slice(1).map((r, i) => {
    const verdict = (r[t] ?? '').trim().toLowerCase();
    if (verdict !== 'normal' && verdict !== 'abnormal')
      throw new Error(`${file} line ${i + 2}: verdict "${r[t]}" is neither normal nor abnormal`);
    const image: DatasetImage = {
      path: path.resolve(dir, r[f]),
      file: r[f],
      bundle: r[b],
      abnormal: verdict === 'abnormal',
    };
    if (a >= 0) image.anomalies = parseAnomalies(r[a] ?? '', `${file} line ${i + 2}`);
    return image;
  });
}
