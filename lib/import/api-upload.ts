/**
 * Uploading TIFFs through Platina's HTTP API, for `npm run import` (a folder once, or watched): the importer
 * talks to the API, never to the database, so every file gets exactly the validation, statistics and
 * content-addressed storage of any other upload, and it works against a remote server.
 */

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown> | null;
}

export async function api(url: string, token: string, p: string, init: RequestInit = {}): Promise<ApiAnswer> {
  const res = await fetch(url + p, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as Record<string, unknown> | null };
}

/** The problem+json `detail` of an answer, or its text. */
export function detail(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body)
    return String((body as { detail: unknown }).detail);
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body);
}

/** SHA-256 of every image already on the server (through the paged list). */
export async function knownHashes(url: string, token: string): Promise<Set<string>> {
  const known = new Set<string>();
  let cursor: string | null = null;
  do {
    const r = await api(
      url,
      token,
      `/api/images?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (r.status !== 200) throw new Error(`listing images failed: ${r.status} ${detail(r.body)}`);
    const page = r.body as unknown as { items: { sha256: string }[]; nextCursor: string | null };
    for (const i of page.items) known.add(i.sha256);
    cursor = page.nextCursor;
  } while (cursor);
  return known;
}

/**
 * What became of one upload: `imported` (201), `duplicate` (200: the same bytes were stored already),
 * `rejected` (413 or 422: the file itself is wrong, retrying cannot help; the server's reason), `failed`
 * (anything else: the server or the network; worth retrying).
 */
export type UploadOutcome =
  | {
      kind: 'imported';
      imageId: string;
      /** The upload report's flag: the image lies far outside the method-2 bounds (issue 15); null when not. */
      outsideBounds: string | null;
    }
  | { kind: 'duplicate'; imageId: string }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'failed'; reason: string };

export async function uploadTiff(
  url: string,
  token: string,
  o: { bundle: string; name: string; bytes: Uint8Array },
): Promise<UploadOutcome> {
  const q = `bundle=${encodeURIComponent(o.bundle)}&name=${encodeURIComponent(o.name)}`;
  let r: ApiAnswer;
  try {
    r = await api(url, token, `/api/images?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'image/tiff' },
      body: o.bytes as BodyInit,
    });
  } catch (err) {
    return { kind: 'failed', reason: (err as Error).message };
  }
  if (r.status === 201) {
    const upload = r.body?.upload as { outsideBounds?: { message?: string } | null } | undefined;
    return {
      kind: 'imported',
      imageId: String(r.body?.id),
      outsideBounds: upload?.outsideBounds?.message ?? null,
    };
  }
  if (r.status === 200) return { kind: 'duplicate', imageId: String(r.body?.id) };
  if (r.status === 413 || r.status === 422)
    return { kind: 'rejected', status: r.status, reason: detail(r.body) };
  return { kind: 'failed', reason: `HTTP ${r.status}: ${detail(r.body)}` };
}
