import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { serveClient } from './static.ts';

// A built client in <tmp>/dist, and folders beside it whose names start with "dist".
let tmp: string;
let server: http.Server;
let port: number;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-static-'));
  fs.mkdirSync(path.join(tmp, 'dist', 'assets'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'dist', 'index.html'), '<!doctype html><title>Platina</title>');
  fs.writeFileSync(path.join(tmp, 'dist', 'assets', 'app.js'), 'console.log(1)');
  for (const beside of ['dist-leak', 'distx']) fs.mkdirSync(path.join(tmp, beside), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'dist-leak', 'secret.txt'), 'SECRET');
  fs.writeFileSync(path.join(tmp, 'distx', 'secret.txt'), 'SECRET');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'SECRET');
  const app = new Koa();
  app.use(serveClient(path.join(tmp, 'dist')));
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = 'not found';
  });
  server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** GET with the path sent exactly as written (fetch would normalise dot segments). */
function get(rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: rawPath }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('the static client server', () => {
  test('serves the files of the built client, and index.html for app routes', async () => {
    assert.deepEqual(await get('/assets/app.js'), { status: 200, body: 'console.log(1)' });
    const page = await get('/review');
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Platina/);
  });

  for (const p of [
    '/..%2fdist-leak/secret.txt',
    '/..%2Fdistx/secret.txt',
    '/%2e%2e%2fdist-leak/secret.txt',
    '/..%2fsecret.txt',
    '/..%5cdist-leak%5csecret.txt',
    '/assets/..%2f..%2fdist-leak/secret.txt',
    '/../dist-leak/secret.txt',
  ]) {
    test(`never serves a file outside its folder: ${p}`, async () => {
      const r = await get(p);
      assert.notEqual(r.status, 200, `${p} answered ${r.status}: ${r.body}`);
      assert.doesNotMatch(r.body, /SECRET/);
    });
  }
});
