/**
 * Evidence speed (issue 13, "Speed"): the evidence vector and heatmap of one 1150×2070 16-bit image on ONE core,
 * against decoding the same file (the reference: no evidence can be computed before the pixels exist), split into
 * its parts (working image + residual block; scattering graph + pooling), and through the evidence worker pool
 * (images/s with every core). The target is ≤ 150 ms an image on one core. Medians over rounds, measured in this
 * run. The image is the fixtures' noise-and-gradient X-ray (lib/imaging/tiff-fixtures.ts), not the synthetic set.
 */
import { availableParallelism } from 'node:os';
import { decodeTiff } from '../lib/imaging/tiff-decode.ts';
import { buildTiff, syntheticXray16 } from '../lib/imaging/tiff-fixtures.ts';
import { createEvidencePool } from '../model-runner/src/evidence/evidence-pool.ts';
import { cpuScattering } from '../model-runner/src/evidence/evidence-tasks.ts';
import { extractEvidence } from '../model-runner/src/evidence/extract.ts';
import { residualEvidence } from '../model-runner/src/evidence/residual.ts';
import { poolScattering } from '../model-runner/src/evidence/scattering.ts';
import { robustNormalise, workingImage } from '../model-runner/src/evidence/working-image.ts';
import { median, type BenchReport } from './report.ts';

const WIDTH = 1150;
const HEIGHT = 2070;
const ROUNDS = 15;

async function times(fn: () => Promise<unknown> | unknown, rounds = ROUNDS): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export default async function run(): Promise<BenchReport> {
  const bytes = new Uint8Array(
    buildTiff({ width: WIDTH, height: HEIGHT, data: syntheticXray16(WIDTH, HEIGHT, 3) }),
  );
  const image = await decodeTiff(bytes);
  // Warm-up: JIT and the scattering session (created once per worker in production).
  for (let i = 0; i < 3; i++) await extractEvidence(image, cpuScattering);

  const decodeMs = median(await times(() => decodeTiff(bytes)));
  const evidenceMs = median(await times(() => extractEvidence(image, cpuScattering)));
  const residualMs = median(await times(() => residualEvidence(workingImage(image))));
  const work = workingImage(image);
  const normalised = robustNormalise(work);
  const scatteringMs = median(
    await times(async () => poolScattering(await cpuScattering(normalised.data, work.height, work.width))),
  );

  const workers = Math.max(1, availableParallelism());
  const pool = createEvidencePool({ size: workers });
  const batch = 4 * workers;
  let poolIps = 0;
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.run('evidence', { source: { bytes } })));
    const t = performance.now();
    await Promise.all(Array.from({ length: batch }, () => pool.run('evidence', { source: { bytes } })));
    poolIps = batch / ((performance.now() - t) / 1000);
  } finally {
    await pool.close();
  }
  const decodeRef = {
    metric: `decodeTiff of the same ${WIDTH}×${HEIGHT} 16-bit file`,
    value: decodeMs,
    unit: 'ms',
  };
  return {
    name: 'evidence',
    context: { width: WIDTH, height: HEIGHT, rounds: ROUNDS, workers, scatteringThreads: 1 },
    rows: [
      {
        metric:
          'evidence of one image, one core (working image, residual block, scattering graph, pooling, heatmap)',
        value: evidenceMs,
        unit: 'ms',
        reference: decodeRef,
        ratio: evidenceMs / decodeMs,
        note: 'lower is better; ratio = evidence / decode; target ≤ 150 ms',
      },
      {
        metric: 'of which working image + residual block',
        value: residualMs,
        unit: 'ms',
        reference: decodeRef,
        ratio: residualMs / decodeMs,
      },
      {
        metric: 'of which scattering graph (onnxruntime CPU, 1 thread) + pooling',
        value: scatteringMs,
        unit: 'ms',
        reference: decodeRef,
        ratio: scatteringMs / decodeMs,
      },
      {
        metric: `evidence worker pool, ${workers} workers, decode included`,
        value: poolIps,
        unit: 'images/s',
        reference: {
          metric: 'one core, in-thread (1000 / evidence ms)',
          value: 1000 / evidenceMs,
          unit: 'images/s',
        },
        ratio: poolIps / (1000 / evidenceMs),
      },
    ],
  };
}
