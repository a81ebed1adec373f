import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/**
 * A real S3-protocol server for tests and benches: s3rver on 127.0.0.1 (a free port), its objects in a temporary
 * directory removed on close. It only stands in for the object store a deployment runs (AWS S3, MinIO, Ceph RGW);
 * Platina talks to it through the same `@aws-sdk/client-s3` code path.
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** What a Platina process needs to use it: PLATINA_IMAGE_STORE and the standard AWS variables. */
  env(prefix: string): Record<string, string>;
  close(): Promise<void>;
}

/** s3rver's fixed credentials: it checks signatures against these. */
const ACCESS_KEY = 'S3RVER';

export async function startTestS3(bucket = 'platina-test'): Promise<TestS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: (prefix) => ({
      PLATINA_IMAGE_STORE: `s3://${bucket}/${prefix}`,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
    }),
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
