/**
 * The one HTTP client of the web app: bearer token, JSON, and problem+json errors turned into sentences a
 * user can act on. It holds no application state; the session slice gives it the token and learns of 401s.
 */

/** An answer from the API that is not 2xx. `message` is the sentence to show the user. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title || `The server answered ${status}.`);
  }
}

/** The request never got an answer (offline, server down, aborted by a timeout). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(cause: unknown) {
    super('The server cannot be reached. Check the network connection; nothing was lost.', { cause });
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null | string[]>;
  body?: unknown;
  signal?: AbortSignal;
  /** 'json' (default), 'arrayBuffer' or 'none' (204s, or ignore the body). */
  as?: 'json' | 'arrayBuffer' | 'none';
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  baseUrl?: string;
  getToken: () => string | null;
  /** Called on every 401 from an authenticated request (expired or revoked token). */
  onUnauthorized?: () => void;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL((this.options.baseUrl ?? '') + path, location.origin);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) {
        if (v.length) u.searchParams.set(k, v.join(','));
      } else u.searchParams.set(k, String(v));
    }
    return u.pathname + u.search;
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...o.headers,
    };
    const token = this.options.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (o.body instanceof ArrayBuffer || o.body instanceof Blob) body = o.body;
    else if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, o.query), { method, headers, body, signal: o.signal });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      throw new NetworkError(err);
    }
    if (!res.ok) {
      const error = await toApiError(res);
      if (res.status === 401 && token) this.options.onUnauthorized?.();
      throw error;
    }
    if (o.as === 'none' || res.status === 204) return undefined as T;
    if (o.as === 'arrayBuffer') return (await res.arrayBuffer()) as T;
    return (await res.json()) as T;
  }

  /**
   * Sends `body` as the raw request body (an upload), reporting bytes sent: fetch cannot report upload progress,
   * so this one request goes through XMLHttpRequest. The file is streamed from disk by the browser, never read
   * into memory here. Errors as `request`: ApiError with the problem's detail, NetworkError, or the abort.
   */
  send<T>(
    method: string,
    path: string,
    body: Blob,
    o: {
      query?: RequestOptions['query'];
      onProgress?: (sent: number, total: number) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, this.url(path, o.query));
      xhr.setRequestHeader('accept', 'application/json, application/problem+json');
      const token = this.options.getToken();
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.responseType = 'text';
      xhr.upload.onprogress = (e) => o.onProgress?.(e.loaded, e.lengthComputable ? e.total : body.size);
      const abort = () => xhr.abort();
      o.signal?.addEventListener('abort', abort, { once: true });
      const done = () => o.signal?.removeEventListener('abort', abort);
      xhr.onabort = () => {
        done();
        reject(o.signal?.reason ?? new DOMException('aborted', 'AbortError'));
      };
      xhr.onerror = () => {
        done();
        reject(new NetworkError(new Error(`${method} ${path} failed`)));
      };
      xhr.onload = () => {
        done();
        const headers = new Headers({ 'content-type': xhr.getResponseHeader('content-type') ?? '' });
        const res = new Response(xhr.status === 204 ? null : xhr.responseText, {
          status: xhr.status,
          statusText: xhr.statusText,
          headers,
        });
        if (!res.ok) {
          if (res.status === 401 && token) this.options.onUnauthorized?.();
          void toApiError(res).then(reject);
          return;
        }
        resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T);
      };
      xhr.send(body);
    });
  }

  get<T>(path: string, o?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, o);
  }
  post<T>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...o, body });
  }
  put<T>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...o, body });
  }
  patch<T>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, { ...o, body });
  }
  delete<T>(path: string, o?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, { ...o, as: o?.as ?? 'none' });
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const fallback: Record<number, string> = {
    401: 'Your session has ended. Please sign in again.',
    403: 'Your role does not allow this.',
    404: 'Not found. It may have been removed.',
    413: 'The upload is larger than the server accepts.',
    429: 'Too many attempts. Wait a minute and try again.',
  };
  let title = res.statusText;
  let detail = '';
  try {
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('json')) {
      const p = (await res.json()) as { title?: string; detail?: string };
      title = p.title ?? title;
      detail = p.detail ?? '';
    }
  } catch {
    // A body that is not JSON: the status and the fallback sentence still say what happened.
  }
  if (!detail)
    detail =
      fallback[res.status] ?? (res.status >= 500 ? 'The server failed. Try again in a moment.' : title);
  return new ApiError(res.status, title, detail);
}

/** The sentence to show for any error thrown by a data function. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof NetworkError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
