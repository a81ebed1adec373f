/** Worker entry for worker-pool.test.ts: tasks that echo, fail, crash and take time. */
import { serveTasks } from './worker-pool.ts';

export const fixtureTasks = {
  double: (input: { values: Float64Array }) => ({ values: input.values.map((v) => v * 2) }),
  fail: (input: { message: string }) => {
    throw Object.assign(new RangeError(input.message), { code: 'E_FIXTURE' });
  },
  crash: (input: { code: number }) => process.exit(input.code),
  sleep: async (input: { ms: number; id: number }) => {
    await new Promise((r) => setTimeout(r, input.ms));
    return input.id;
  },
};

serveTasks(fixtureTasks);
