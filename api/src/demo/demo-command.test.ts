import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoCommand } from './demo-command.ts';

test('the banner’s demo command reaches the port the server uses', () => {
  assert.equal(demoCommand(8080, null), 'npm run demo');
  assert.equal(demoCommand(9000, null), 'PORT=9000 npm run demo');
});

test('a generated admin password travels with it; one from the environment is asked for instead', () => {
  assert.equal(demoCommand(8080, 's3cret-x'), 'PLATINA_ADMIN_PASSWORD=s3cret-x npm run demo');
  assert.equal(demoCommand(9000, 's3cret-x'), 'PORT=9000 PLATINA_ADMIN_PASSWORD=s3cret-x npm run demo');
});
