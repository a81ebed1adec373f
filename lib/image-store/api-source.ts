import { createHash } from 'node:crypto';
import { ImageMissingError, type ImageSourceReader } from './image-store.ts';

/**
 * A runner's image source on a machine that shares neither the API's disk nor a bucket: the bytes through an API
 * instance (`GET /api/images?sha256=…` for the id, then `GET /api/images/:id/raw`), as a user with the role
 * `runner`. With a user and password it signs in at the first request and again when its token expires (401);
 * a fixed token is used as given. The bytes are checked against their hash, so a proxy or a wrong API cannot
 * feed the model another image.
 */
export function apiImageSource(o: {
  url: string;
  token: string | null;
  user: string | null;
  password: string | null;
}): ImageSourceReader {
  let token = o.token;

  async function signIn(): Promise<string> {
    const r = await fetch(`${o.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: o.user, password: o.password }),
    });
    const body = (await r.json().catch(() => null)) as { token?: string; detail?: string } | null;
    if (r.status !== 200 || !body?.token)
      throw new Error(`signing in to ${o.url} as ${o.user} failed: ${r.status} ${body?.detail ?? ''}`);
    return body.token;
  }

  async function call(p: string): Promise<Response> {
    token ??= await signIn();
    let r = await fetch(o.url + p, { headers: { authorization: `Bearer ${token}` } });
    if (r.status === 401 && o.user && o.password) {
      await r.body?.cancel();
      token = await signIn();
      r = await fetch(o.url + p, { headers: { authorization: `Bearer ${token}` } });
    }
    return r;
  }

  async function failure(r: Response, what: string): Promise<Error> {
    const text = await r.text().catch(() => '');
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
    } catch {
      // not problem+json
    }
    return new Error(`${what} through ${o.url} failed: ${r.status} ${detail}`);
  }

  return {
    description: `${o.url} (GET /api/images/:id/raw)`,
    async source(sha256) {
      const list = await call(`/api/images?sha256=${sha256}&limit=1`);
      if (list.status !== 200) throw await failure(list, `finding image ${sha256}`);
      const { items } = (await list.json()) as { items: { id: string }[] };
      if (items.length === 0) throw new ImageMissingError(sha256, o.url);
      const raw = await call(`/api/images/${items[0].id}/raw`);
      if (raw.status !== 200) throw await failure(raw, `reading image ${items[0].id}`);
      const bytes = new Uint8Array(await raw.arrayBuffer());
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== sha256)
        throw new Error(`image ${items[0].id} from ${o.url} hashes to ${got}, not ${sha256}`);
      return { bytes };
    },
  };
}
