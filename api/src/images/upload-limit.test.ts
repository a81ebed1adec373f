import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';

/**
 * The body-size limit as a browser or curl meets it: a file over PLATINA_MAX_UPLOAD_MB (default 64 MB)
 * sent whole with its Content-Length gets the 413 problem+json, not a connection reset.
 */
let app: TestApp;
let lead: TestUser;
before(async () => {
  app = await startTestApp();
  lead = await app.user('lead');
});
after(() => app?.close());

/** POSTs `size` bytes with a Content-Length, writing them all as a client does; resolves with the answer. */
function postWhole(size: number): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${app.url}/api/images?bundle=big&name=big.tif`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${lead.token}`,
        'content-type': 'image/tiff',
        'content-length': String(size),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
      );
    });
    const chunk = Buffer.alloc(1024 * 1024);
    let left = size;
    const write = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

test('a 70 MB upload with its Content-Length gets 413 problem+json, not a connection reset', async () => {
  const r = await postWhole(70 * 1024 * 1024);
  assert.equal(r.status, 413);
  assert.match(r.type, /^application\/problem\+json/);
  assert.equal(
    JSON.parse(r.body).detail,
    'the upload is larger than the limit of 64 MB (PLATINA_MAX_UPLOAD_MB)',
  );
  const list = await app.request('GET', '/api/images?bundle=big', { token: lead.token });
  assert.deepEqual(list.body.items, [], 'nothing stored');
});
