import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { withInputSizeDefault } from './resources.ts';

describe('the runner input size', () => {
  const logs: string[] = [];
  const logger = { info: (_: object, msg: string) => void logs.push(msg) };

  test('an explicit PLATINA_INPUT_SIZE is kept as given', () => {
    const env = { PLATINA_INPUT_SIZE: '320x160', PLATINA_EP: 'cpu' };
    assert.equal(withInputSizeDefault(env, logger), env);
  });

  test("with a GPU provider the default is the paper's 2000x1000", () => {
    assert.equal(withInputSizeDefault({ PLATINA_EP: 'webgpu' }, logger).PLATINA_INPUT_SIZE, '2000x1000');
  });

  test('on the CPU the default is 448x224, and the log says why', () => {
    logs.length = 0;
    assert.equal(withInputSizeDefault({}, logger).PLATINA_INPUT_SIZE, '448x224');
    assert.match(logs[0]!, /unaffordable on a CPU; set PLATINA_INPUT_SIZE/);
  });
});
