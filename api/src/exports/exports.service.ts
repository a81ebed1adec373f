import { Readable } from 'node:stream';
import { sortAnomalies } from '../../../lib/consensus/rule.ts';
import type { Services } from '../http/context.ts';
import { activeModelVersion } from '../models/models.repository.ts';
import * as repo from './exports.repository.ts';

/**
 * Exports, streamed: each is read page by page (keyset on id) and written as it is read, so memory stays
 * flat whatever the table size. Pages are separate statements, not one snapshot: a vote cast during a
 * long export may or may not appear. Column orders are part of the contract (docs/consensus.md): new
 * columns are only ever appended.
 */
export const LABEL_COLUMNS = [
  'image_id',
  'bundle',
  'name',
  'sha256',
  'status',
  'verdict',
  'method',
  'anomalies',
  'normal_votes',
  'abnormal_votes',
  'resolved_by',
  'resolved_at',
  'p_abnormal',
  'model_version',
  'excluded',
  'excluded_at',
  'excluded_by',
  'exclusion_reason',
] as const;

/** The exclusion history (`exclusions.csv`): every exclude and restore action. */
export const EXCLUSION_COLUMNS = [
  'event_id',
  'image_id',
  'bundle',
  'name',
  'sha256',
  'action',
  'reason',
  'username',
  'created_at',
] as const;

export const VOTE_COLUMNS = [
  'vote_id',
  'image_id',
  'bundle',
  'name',
  'sha256',
  'user_id',
  'username',
  'verdict',
  'anomalies',
  'comment',
  'model_hint_shown',
  'created_at',
  'current',
  'anomaly_hint',
] as const;

type LabelRow = Awaited<ReturnType<typeof repo.labelsPage>>[number];

function labelRecord(r: LabelRow) {
  return {
    imageId: r.id,
    bundle: r.bundle,
    name: r.name,
    sha256: r.sha256,
    status: r.status ?? 'unlabeled',
    verdict: r.verdict,
    method: r.method,
    anomalies: sortAnomalies(r.anomalies ?? []),
    counts: { normal: r.normal_votes ?? 0, abnormal: r.abnormal_votes ?? 0 },
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    pAbnormal: r.p_abnormal,
    modelVersion: r.model_version,
    excluded: r.excluded_at
      ? { at: r.excluded_at.toISOString(), by: r.excluded_by, reason: r.exclusion_reason }
      : null,
  };
}

async function* pages<T extends { id: string }>(
  read: (afterId: string) => Promise<T[]>,
): AsyncGenerator<T[]> {
  let after = '0';
  for (;;) {
    const rows = await read(after);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < repo.PAGE) return;
    after = rows[rows.length - 1].id;
  }
}

/**
 * One CSV field (RFC 4180), safe to open in a spreadsheet (OWASP "CSV Injection"). Only free text (names,
 * comments) can be hostile; numbers, ids and dates are written as they are.
 * - A text whose first visible character would start a formula (= + - @, or their full-width forms,
 *   which some spreadsheets also accept) gets a leading apostrophe — looked for after any leading
 *   whitespace (` =1+1`: spreadsheets skip it and evaluate the rest) and when it begins with a tab, CR or LF.
 * - A text holding any character a spreadsheet may split cells at — comma, but also semicolon (the list
 *   separator of many locales) and tab — or a quote or line break is quoted, so it stays one cell
 *   whichever separator the reader picks: `;=cmd|…` unquoted became a cell `=cmd|…` in a spreadsheet that
 *   splits at semicolons.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",;\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const FORMULA_START = /^(\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|[\t\r\n])/u;

const csvLine = (fields: unknown[]) => fields.map(csvField).join(',') + '\r\n';

/** A CSV export: the header, then every page of `read` (keyset on id), each row as the fields `fields` gives. */
function csvStream<T extends { id: string }>(
  columns: readonly string[],
  read: (afterId: string) => Promise<T[]>,
  fields: (row: T) => unknown[],
): Readable {
  return Readable.from(
    (async function* () {
      yield csvLine([...columns]);
      for await (const rows of pages(read)) yield rows.map((r) => csvLine(fields(r))).join('');
    })(),
  );
}

export async function labelsCsv(services: Services): Promise<Readable> {
  const model = await activeModelVersion(services.db);
  return csvStream(
    LABEL_COLUMNS,
    (after) => repo.labelsPage(services.db, after, model),
    (r) => {
      const l = labelRecord(r);
      return [
        l.imageId,
        l.bundle,
        l.name,
        l.sha256,
        l.status,
        l.verdict,
        l.method,
        l.anomalies.join(';'),
        l.counts.normal,
        l.counts.abnormal,
        l.resolvedBy,
        l.resolvedAt,
        l.pAbnormal,
        l.modelVersion,
        r.excluded,
        l.excluded?.at,
        l.excluded?.by,
        l.excluded?.reason,
      ];
    },
  );
}

export async function labelsJson(services: Services): Promise<Readable> {
  const model = await activeModelVersion(services.db);
  return Readable.from(
    (async function* () {
      yield '[';
      let first = true;
      for await (const rows of pages((after) => repo.labelsPage(services.db, after, model))) {
        const chunk = rows.map((r) => JSON.stringify(labelRecord(r))).join(',\n');
        yield (first ? '\n' : ',\n') + chunk;
        first = false;
      }
      yield '\n]\n';
    })(),
  );
}

export function votesCsv(services: Services): Readable {
  return csvStream(
    VOTE_COLUMNS,
    (after) => repo.votesPage(services.db, after),
    (r) => [
      r.id,
      r.image_id,
      r.bundle,
      r.name,
      r.sha256,
      r.user_id,
      r.username,
      r.verdict,
      sortAnomalies(r.anomalies).join(';'),
      r.comment,
      r.model_hint_shown,
      r.created_at,
      r.current,
      r.anomaly_hint && sortAnomalies(r.anomaly_hint).join(';'),
    ],
  );
}

export function exclusionsCsv(services: Services): Readable {
  return csvStream(
    EXCLUSION_COLUMNS,
    (after) => repo.exclusionsPage(services.db, after),
    (r) => [r.id, r.image_id, r.bundle, r.name, r.sha256, r.action, r.reason, r.username, r.created_at],
  );
}
