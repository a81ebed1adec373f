/**
 * Generates the synthetic electrode X-ray data set.
 *
 *   npm run synth -- --out DIR [--seed N] [--scale full|small] [--bundles 12] [--workers 2]
 *
 * Writes DIR/<bundle>/<bundle>-<nnn>.tif (16-bit grayscale TIFF) and DIR/manifest.csv (ground truth; columns in
 * lib/synth/manifest.ts). Same arguments → same bytes.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, generateDataset } from '../lib/synth/generate.ts';
import type { Scale } from '../lib/synth/plan.ts';

const USAGE =
  'usage: npm run synth -- --out DIR [--seed N] [--scale full|small] [--bundles 12] [--workers N]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        out: { type: 'string' },
        seed: { type: 'string', default: String(DEFAULT_SEED) },
        scale: { type: 'string', default: 'full' },
        bundles: { type: 'string', default: '12' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.out) fail('--out is required');
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed)) fail(`--seed must be an integer, got "${values.seed}"`);
if (values.scale !== 'full' && values.scale !== 'small')
  fail(`--scale must be full or small, got "${values.scale}"`);
const bundles = Number(values.bundles);
if (!Number.isInteger(bundles) || bundles < 1 || bundles > 99)
  fail(`--bundles must be 1–99, got "${values.bundles}"`);
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) fail(`--workers must be ≥ 0`);

let last = 0;
const result = await generateDataset({
  out: values.out,
  seed,
  scale: values.scale as Scale,
  bundles,
  workers,
  onImage: (done, total) => {
    const now = Date.now();
    if (process.stderr.isTTY && (now - last > 200 || done === total)) {
      last = now;
      process.stderr.write(`\r${done}/${total} images`);
      if (done === total) process.stderr.write('\n');
    }
  },
});
const abnormal = result.plan.images.filter((i) => i.verdict === 'abnormal').length;
console.log(
  `wrote ${result.images} images (${result.images - abnormal} normal, ${abnormal} abnormal) in ` +
    `${result.plan.bundles.length} bundles, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.seconds.toFixed(1)} s ` +
    `(${(result.bytes / 1e6 / result.seconds).toFixed(1)} MB/s); manifest: ${result.manifestPath}`,
);
