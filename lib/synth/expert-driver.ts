/**
 * Drives simulated experts through Platina's real HTTP API (the contract in docs/api.md): each expert logs
 * in, takes `GET /api/queue/next` until it answers 204 (or a vote cap is reached) and votes with
 * `PUT /api/images/:id/votes/me`. All experts run concurrently, so this doubles as an end-to-end load generator.
 *
 * Votes come from the pure model in experts.ts, keyed by the image's file name, so they are the same whatever order
 * the queue hands images out in. Images the manifest does not know (real uploads beside the synthetic set) are
 * never voted on: they are passed back to the queue through its `exclude` parameter (at most 50 per expert; an
 * expert stops when that many unknown images block its queue).
 */
import { basename } from 'node:path';
import { simulateVote, type ExpertProfile, type ImageTruth } from './experts.ts';
import type { ManifestRow } from './manifest.ts';

export interface ExpertAccount {
  username: string;
  password: string;
  profile: ExpertProfile;
  /** Stop after this many votes (default: until the queue is empty). */
  maxVotes?: number;
}

export interface DriveOptions {
  url: string;
  seed: number;
  experts: ExpertAccount[];
  /** Ground truth by image file name (see {@link truthByName}). */
  truth: Map<string, ImageTruth & { verdict?: string }>;
  onVote?: (username: string, imageName: string, verdict: string) => void;
}

export interface ExpertRunReport {
  username: string;
  votes: number;
  /** Share of this expert's votes that match the manifest's verdict. */
  agreementWithTruth: number | null;
  skippedUnknown: number;
}

export interface DriveReport {
  experts: ExpertRunReport[];
  votes: number;
  seconds: number;
  /** Latency of `PUT …/votes/me` in milliseconds. */
  voteLatencyMs: { p50: number; p99: number } | null;
}

/** The manifest's rows as voting truth, keyed by file name (`bundle-01-001.tif`), which is the image's API name. */
export function truthByName(
  rows: readonly ManifestRow[],
): Map<string, ImageTruth & { verdict: string; difficulty: number }> {
  return new Map(
    rows.map((r) => [
      basename(r.file),
      { key: r.file, anomalies: r.anomalies, verdict: r.verdict, difficulty: r.difficulty },
    ]),
  );
}

/** A failed API call, with the server's problem+json detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    what: string,
    detail: string,
  ) {
    super(`${what}: HTTP ${status}${detail ? ` (${detail})` : ''}`);
  }
}

/** JSON request against the API; returns status and parsed body. */
export async function apiCall<T = unknown>(
  url: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T };
}

function detailOf(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body)
    return String((body as { detail: unknown }).detail);
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

/** Logs in and returns the bearer token. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const r = await apiCall<{ token?: string }>(url, 'POST', '/api/auth/login', {
    json: { username, password },
  });
  if (r.status !== 200 || !r.body?.token)
    throw new ApiError(r.status, `login as ${username}`, detailOf(r.body));
  return r.body.token;
}

/** Casts one vote as the caller. */
export async function castVote(
  url: string,
  token: string,
  imageId: string,
  vote: { verdict: string; anomalies: string[] },
): Promise<void> {
  const r = await apiCall(url, 'PUT', `/api/images/${encodeURIComponent(imageId)}/votes/me`, {
    token,
    json: vote,
  });
  if (r.status !== 200) throw new ApiError(r.status, `vote on image ${imageId}`, detailOf(r.body));
}

const MAX_EXCLUDE = 50;

/** Runs every expert's voting loop concurrently until their queues are empty or their caps are reached. */
export async function driveExperts(o: DriveOptions): Promise<DriveReport> {
  const started = performance.now();
  const latencies: number[] = [];
  const reports = await Promise.all(
    o.experts.map(async (account): Promise<ExpertRunReport> => {
      const token = await login(o.url, account.username, account.password);
      const unknown: string[] = [];
      let votes = 0;
      let agree = 0;
      while (votes < (account.maxVotes ?? Infinity)) {
        const q = unknown.length ? `?exclude=${unknown.map(encodeURIComponent).join(',')}` : '';
        const next = await apiCall<{ id: string; name: string }>(o.url, 'GET', `/api/queue/next${q}`, {
          token,
        });
        if (next.status === 204) break;
        if (next.status !== 200)
          throw new ApiError(next.status, `queue for ${account.username}`, detailOf(next.body));
        const image = next.body;
        const truth = o.truth.get(image.name);
        if (!truth) {
          unknown.push(image.id);
          if (unknown.length >= MAX_EXCLUDE) break;
          continue;
        }
        const vote = simulateVote(o.seed, account.profile, truth);
        const t0 = performance.now();
        await castVote(o.url, token, image.id, vote);
        latencies.push(performance.now() - t0);
        votes++;
        if (truth.verdict === vote.verdict) agree++;
        o.onVote?.(account.username, image.name, vote.verdict);
      }
      return {
        username: account.username,
        votes,
        agreementWithTruth: votes > 0 ? agree / votes : null,
        skippedUnknown: unknown.length,
      };
    }),
  );
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    experts: reports,
    votes: reports.reduce((n, r) => n + r.votes, 0),
    seconds: (performance.now() - started) / 1000,
    voteLatencyMs: latencies.length ? { p50: pick(0.5), p99: pick(0.99) } : null,
  };
}
