/**
 * Speed of the residual block (issue 13, item 5): working image + residual evidence for one full-size 16-bit
 * electrode (1150×2070), beside decoding the same file with `decodeTiff`, on this thread (one core).
 *
 *   npx tsx model-runner/src/evidence/residual-speed.ts [repeats]
 *
 * Prints JSON: median and min over the repeats after a warm-up (the first call includes JIT compilation and is
 * reported separately as `firstMs`). The picture is hand-built noise with a gradient and a few defects, so the
 * connected-region and profile code paths run as they would on a real image. The TIFF is uncompressed, so the
 * decode figure is the cheapest a real upload can have (deflate/LZW files decode slower).
 */
import { decodeTiff } from '../../../lib/imaging/tiff-decode.ts';
import { encodeTiff } from '../../../lib/imaging/tiff-write.ts';
import { residualEvidence } from './residual.ts';
import { noisePicture, paint, to16 } from './residual-fixtures.ts';
import { workingImage } from './working-image.ts';

const repeats = Number(process.argv[2] ?? 30);
const [W, H] = [1150, 2070];
const image = to16(
  paint(noisePicture(W, H, 2800, 60, 7), (x, y) => {
    const disc = (x - 300) ** 2 + (y - 900) ** 2 <= 36 ? 600 : 0;
    const line = y === 1500 ? 60 : 0;
    return 0.2 * x + 0.1 * y + disc + line;
  }),
);
const file = encodeTiff({ width: W, height: H, bitDepth: 16 }, image.data as Uint16Array);

async function time(f: () => unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const first = await time(() => residualEvidence(workingImage(image)));
const decode: number[] = [];
const working: number[] = [];
const residual: number[] = [];
for (let i = 0; i < repeats; i++) {
  decode.push(await time(() => decodeTiff(file)));
  let w = workingImage(image);
  working.push(await time(() => (w = workingImage(image))));
  residual.push(await time(() => residualEvidence(w)));
}
const total = working.map((t, i) => t + residual[i]);
const round = (x: number) => Math.round(x * 10) / 10;
const stats = (a: number[]) => {
  const s = [...a].sort((p, q) => p - q);
  return { medianMs: round(s[s.length >> 1]), minMs: round(s[0]) };
};
console.log(
  JSON.stringify(
    {
      image: `${W}×${H} 16-bit, ${(file.length / 1e6).toFixed(1)} MB uncompressed TIFF`,
      repeats,
      firstMs: round(first),
      decodeTiff: stats(decode),
      workingImage: stats(working),
      residualEvidence: stats(residual),
      workingPlusResidual: stats(total),
      budgetMs: 60,
    },
    null,
    2,
  ),
);
