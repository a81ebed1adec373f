import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration from the environment', () => {
  test('defaults: port 8080, ./data, embedded database with the runner inside, 64 MB uploads, 12 h tokens', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, path.resolve('./data'));
    assert.equal(c.databaseUrl, null);
    assert.equal(c.embeddedRunner, true);
    assert.equal(c.maxUploadBytes, 64 * 1024 * 1024);
    assert.equal(c.tokenTtlHours, 12);
    assert.equal(c.trustProxy, false, 'client addresses are socket peers unless told otherwise');
    assert.deepEqual(c.imageStore, { kind: 'local', dir: path.resolve('./data/images') });
  });

  test('PLATINA_IMAGE_STORE=s3://bucket/prefix keeps the originals in an S3-compatible bucket', () => {
    const c = loadConfig({
      PLATINA_IMAGE_STORE: 's3://plant-xray/platina',
      AWS_ENDPOINT_URL: 'http://minio:9000',
    });
    assert.equal(c.imageStore.kind, 's3');
    assert.deepEqual(c.imageStore.kind === 's3' && [c.imageStore.bucket, c.imageStore.prefix], [
      'plant-xray',
      'platina',
    ]);
  });

  test('DATABASE_URL switches to PostgreSQL and, by default, out of the in-process runner', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/platina' });
    assert.equal(c.databaseUrl, 'postgres://u@db:5432/platina');
    assert.equal(c.embeddedRunner, false);
  });

  test('a wrong value names the variable and what is allowed', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'eighty' }, 'PORT="eighty" is invalid: expected an integer from 0 to 65535'],
      [
        { PLATINA_TRUST_PROXY: 'yes' },
        'PLATINA_TRUST_PROXY="yes" is invalid: expected 1 (behind a reverse proxy that sets X-Forwarded-For) or 0',
      ],
      [
        { PLATINA_MAX_UPLOAD_MB: '0' },
        'PLATINA_MAX_UPLOAD_MB="0" is invalid: expected an integer from 1 to 4096',
      ],
      [
        { DATABASE_URL: 'mysql://x' },
        'DATABASE_URL is invalid: expected postgres://user@host:port/database (leave it unset for the embedded database)',
      ],
      [
        { PLATINA_ADMIN_PASSWORD: 'short' },
        'PLATINA_ADMIN_PASSWORD is invalid: expected at least 8 characters',
      ],
      [{ PLATINA_RUNNER: 'maybe' }, 'PLATINA_RUNNER="maybe" is invalid: expected auto, embedded or off'],
      [
        { PLATINA_IMAGE_STORE: 'http://api-a:8080' },
        'PLATINA_IMAGE_STORE="http://api-a:8080" is invalid for an API instance, which stores images itself: expected unset (the directory PLATINA_DATA_DIR/images), s3://bucket/prefix (an S3-compatible object store; AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as for any AWS client). Only a model runner reads through an API\'s URL',
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: Error) => err instanceof ConfigError && err.message === message,
      );
    }
  });
});
