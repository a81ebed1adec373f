import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tinyBackbone } from '../backbone/fixtures.ts';
import { BackboneMismatchError, closeExporter, exportClassifier } from './entry.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-export-entry-'));
const file = path.join(dir, 'tiny.onnx');
fs.writeFileSync(file, tinyBackbone({ seed: 3 }).bytes);
after(async () => {
  await closeExporter();
  fs.rmSync(dir, { recursive: true, force: true });
});

const head = [{ inputs: 512, outputs: 2, weight: new Float32Array(1024), bias: new Float32Array(2) }];

test('a head trained on another backbone is refused with a typed error naming both backbones', async () => {
  await assert.rejects(
    exportClassifier({ env: { PLATINA_BACKBONE: file }, head, backboneHash: 'f'.repeat(64), metadata: {} }),
    (err: Error) => {
      assert.ok(err instanceof BackboneMismatchError);
      assert.match(err.message, /trained on backbone ffffffffffff; this configuration has /);
      return true;
    },
  );
});

test('closeExporter ends the thread, and a later export starts a new one', async () => {
  await closeExporter();
  await assert.rejects(
    exportClassifier({ env: { PLATINA_BACKBONE: file }, head, backboneHash: 'f'.repeat(64), metadata: {} }),
    BackboneMismatchError,
  );
});
