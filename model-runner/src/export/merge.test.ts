import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildUntrainedResNet34 } from '../backbone/resnet34.ts';
import { decodeModel, GraphBuilder, modelMetadata } from '../onnx/graph.ts';
import { initHead } from '../head/params.ts';
import { predictHead } from '../head/train.ts';
import { createRandom } from '../head/random.ts';
import { mergeClassifier, MERGED_INPUT, MERGED_OUTPUT } from './merge.ts';

describe('merged classifier export (backbone + head in one ONNX file)', () => {
  test('onnxruntime on the merged file reproduces backbone-then-head probabilities within 1e-5', async () => {
    const backbone = await buildUntrainedResNet34(0);
    const head = initHead({ seed: 4 });
    // He-initialised biases are zero; give them values so a mis-wired bias would show.
    const random = createRandom(8);
    for (const layer of head)
      for (let k = 0; k < layer.bias.length; k++) layer.bias[k] = random.normal() * 0.05;
    const merged = mergeClassifier({
      backbone: backbone.bytes,
      head,
      metadata: { 'platina.model.version': '7' },
    });

    const [n, h, w] = [2, 64, 32];
    const image = Float32Array.from({ length: n * 3 * h * w }, () => random.normal());
    const backboneSession = await ort.InferenceSession.create(backbone.bytes);
    const features = (await backboneSession.run({ input: new ort.Tensor('float32', image, [n, 3, h, w]) }))
      .features;
    const expected = await predictHead(head, features.data as Float32Array);
    await backboneSession.release();

    const session = await ort.InferenceSession.create(merged);
    assert.deepEqual(session.inputNames, [MERGED_INPUT]);
    assert.deepEqual(session.outputNames, [MERGED_OUTPUT]);
    const out = await session.run({ [MERGED_INPUT]: new ort.Tensor('float32', image, [n, 3, h, w]) });
    await session.release();
    const p = out[MERGED_OUTPUT].data as Float32Array;
    assert.deepEqual(out[MERGED_OUTPUT].dims, [n, 2]);
    for (let k = 0; k < expected.length; k++)
      assert.ok(
        Math.abs(p[k] - expected[k]) <= 1e-5,
        `p[${k}] = ${p[k]}, backbone then head: ${expected[k]}`,
      );

    // The backbone's "untrained" mark travels with the file; its ImageNet fc is pruned away.
    const model = decodeModel(merged);
    const meta = modelMetadata(model);
    assert.equal(meta['platina.backbone'], 'untrained');
    assert.equal(meta['platina.model.version'], '7');
    const names = (model.graph?.initializer ?? []).map((t) => t.name);
    assert.ok(names.includes('backbone/conv1.weight') && names.includes('head/fc0_weight'));
    assert.ok(!names.includes('backbone/fc.weight'));
  });

  test('a backbone without the feature output is refused with the outputs it does have', () => {
    const g = new GraphBuilder('not_a_backbone');
    const x = g.input('image', 'float32', ['N', 3, 8, 8]);
    g.op('Identity', [x], {}, { output: 'y' });
    g.output('y', 'float32', ['N', 3, 8, 8]);
    assert.throws(
      () => mergeClassifier({ backbone: g.toBytes(), head: initHead({ seed: 1 }) }),
      /no output "features" \(outputs: y\)/,
    );
  });
});
