import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** One image of a dataset folder, as `manifest.csv` lists it. */
export interface DatasetImage {
  /** Absolute path of the TIFF. */
  path: string;
  /** The manifest's file column (relative to the folder). */
  file: string;
  bundle: string;
  /** Ground truth: true = abnormal (the positive class). */
  abnormal: boolean;
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

/**
 * Reads `<dir>/manifest.csv` (written by `npm run synth`): one row per image with its file, bundle and true verdict
 * (`normal` / `abnormal`). Other columns (anomaly types, severities) are ignored here.
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
  return rows.slice(1).map((r, i) => {
    const verdict = (r[t] ?? '').trim().toLowerCase();
    if (verdict !== 'normal' && verdict !== 'abnormal')
      throw new Error(`${file} line ${i + 2}: verdict "${r[t]}" is neither normal nor abnormal`);
    return { path: path.resolve(dir, r[f]), file: r[f], bundle: r[b], abnormal: verdict === 'abnormal' };
  });
}
