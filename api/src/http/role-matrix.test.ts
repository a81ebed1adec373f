import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, type Role } from '../../../lib/db/schema.ts';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { ROUTERS } from '../routes.ts';
import type { Access } from './roles.ts';

interface Endpoint {
  method: string;
  path: string;
  access: Access;
}

/** Every route of every router, with the access its `allow(...)` declares. */
function endpoints(): Endpoint[] {
  const out: Endpoint[] = [];
  for (const router of ROUTERS) {
    for (const layer of router.stack as unknown as {
      methods: string[];
      path: string;
      stack: { access?: Access }[];
    }[]) {
      const access = layer.stack.find((mw) => mw.access !== undefined)?.access;
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
        out.push({ method, path: layer.path, access: access as Access });
      }
    }
  }
  return out;
}

describe('role × endpoint matrix', () => {
  let app: TestApp;
  const tokens = {} as Record<Role, string>;
  before(async () => {
    app = await startTestApp();
    for (const role of ROLES)
      tokens[role] = role === 'admin' ? app.admin.token : (await app.user(role)).token;
  });
  after(() => app.close());

  test('every route declares who may call it', () => {
    const missing = endpoints().filter((e) => e.access === undefined);
    assert.deepEqual(missing, [], 'routes without allow(...)');
    assert.ok(endpoints().length >= 6);
  });

  test('anonymous callers get 401 everywhere except public routes', async () => {
    for (const e of endpoints().filter((e) => e.access !== 'public')) {
      const r = await app.request(e.method, concrete(e.path));
      assert.equal(r.status, 401, `${e.method} ${e.path}`);
    }
  });

  test('each role gets 403 exactly where it is not admitted', async () => {
    for (const e of endpoints().filter((e) => Array.isArray(e.access))) {
      for (const role of ROLES) {
        // Logging out would revoke the shared token; use a fresh one for that route.
        const token = e.path.endsWith('/logout') ? await freshToken(role) : tokens[role];
        const r = await app.request(e.method, concrete(e.path), { token });
        const admitted = (e.access as readonly Role[]).includes(role);
        if (admitted)
          assert.ok(r.status !== 403 && r.status !== 401, `${role} ${e.method} ${e.path}: ${r.status}`);
        else {
          assert.equal(r.status, 403, `${role} ${e.method} ${e.path}`);
          assert.match(r.body.detail, new RegExp(`you are ${role}`));
        }
      }
    }
  });

  async function freshToken(role: Role) {
    return role === 'admin' ? app.login('admin', app.admin.password) : (await app.user(role)).token;
  }
});

/** Path parameters become an id that parses but does not exist. */
function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) =>
    name === 'version' || name.endsWith('id') || name === 'id' ? '987654' : 'x',
  );
}
