import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cudaProviderInstalled, probeExecutionProvider, selectExecutionProvider } from './ep.ts';

describe('execution provider selection', () => {
  test('PLATINA_EP=cpu selects the cpu provider without probing or logging', async () => {
    const logs: string[] = [];
    const choice = await selectExecutionProvider({ PLATINA_EP: 'cpu' }, (m) => logs.push(m));
    assert.equal(choice.name, 'cpu');
    assert.deepEqual(choice.executionProviders, ['cpu']);
    assert.deepEqual(logs, []);
  });

  test('an unknown PLATINA_EP is refused with the list of valid names', async () => {
    await assert.rejects(
      selectExecutionProvider({ PLATINA_EP: 'tpu' }),
      /PLATINA_EP=tpu is not one of cpu, webgpu, cuda/,
    );
  });

  test('unset PLATINA_EP picks a provider that opens, and says so in the log when it falls back to cpu', async () => {
    const logs: string[] = [];
    const choice = await selectExecutionProvider({}, (m) => logs.push(m));
    if (choice.name === 'cpu')
      assert.ok(
        logs.some((l) => /using the cpu execution provider/.test(l)),
        logs.join('\n'),
      );
    else assert.match(choice.reason, /available/);
  });

  test('PLATINA_EP=cuda on a machine without the CUDA libraries is an error naming the provider', async (t) => {
    const choice = await selectExecutionProvider({}, () => {});
    if (choice.name === 'cuda') return t.diagnostic('CUDA is available here; nothing to refuse');
    await assert.rejects(
      selectExecutionProvider({ PLATINA_EP: 'cuda' }),
      /PLATINA_EP=cuda: the cuda execution provider cannot start here/,
    );
  });
});

test('CUDA without its provider library is reported as such, without asking onnxruntime (no red load error)', async (t) => {
  if (cudaProviderInstalled()) return t.skip('the CUDA provider is installed here');
  assert.equal(await probeExecutionProvider('cuda'), 'the CUDA provider library is not installed');
});
