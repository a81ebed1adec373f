/**
 * Backbone checks that need torch on the device (run from bench/gpu/embed-bench.sh):
 *
 *   node backbone-checks.mjs write-model /tmp/platina-r34.onnx
 *       writes the untrained backbone (seed 0) for bench/gpu/torch_bench.py's topology comparison;
 *   node backbone-checks.mjs validate /tmp/tv-r34.onnx /out/export-check.json
 *       runs the runner's own checks on a real torchvision export made by export-resnet34.py:
 *       validation, fc extraction for the head, and features from onnxruntime-node on CPU.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { buildUntrainedResNet34 } from '../../model-runner/src/backbone/resnet34.ts';
import { extractFcWeights, validateBackbone } from '../../model-runner/src/backbone/load.ts';

const [what, file, out] = process.argv.slice(2);
if (what === 'write-model') {
  const { bytes } = await buildUntrainedResNet34(0);
  writeFileSync(file, bytes);
  console.log(`wrote ${file} (${bytes.length} bytes)`);
} else if (what === 'validate') {
  const result: Record<string, unknown> = { file };
  try {
    const b = validateBackbone(readFileSync(file), file, { height: 2000, width: 1000 });
    Object.assign(result, {
      valid: true,
      untrained: b.untrained,
      inputName: b.inputName,
      featuresName: b.featuresName,
      logitsName: b.logitsName,
      dynamicSize: b.inputHeight === null && b.inputWidth === null,
    });
    const fc = extractFcWeights(b.bytes);
    result.fcFound = fc !== undefined;
    if (fc) result.fcWeightRms = Math.sqrt(fc.weight.reduce((s, v) => s + v * v, 0) / fc.weight.length);
    const session = await ort.InferenceSession.create(b.bytes);
    const x = new Float32Array(2 * 3 * 224 * 112).map((_, i) => Math.sin(i) * 0.5);
    const o = await session.run({ [b.inputName]: new ort.Tensor('float32', x, [2, 3, 224, 112]) });
    result.featuresDims = o[b.featuresName].dims;
    if (b.logitsName) result.logitsDims = o[b.logitsName].dims;
  } catch (err) {
    result.valid = false;
    result.error = (err as Error).message;
  }
  console.log(JSON.stringify(result));
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
} else {
  console.error('usage: backbone-checks write-model FILE | validate FILE [OUT.json]');
  process.exit(2);
}
