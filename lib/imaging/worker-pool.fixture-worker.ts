/** Worker entry for worker-pool.test.ts: tasks that echo, fail, crash, take time, spin and hoard memory. */
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
  /** Never returns: a decoder stuck in a loop. */
  spin: (_input: Record<string, never>) => {
    for (;;);
  },
  /** Grows the JavaScript heap without bound: a decoder building an ever-longer array. */
  hoard: (_input: Record<string, never>) => {
    const kept: number[][] = [];
    for (;;) kept.push(Array.from({ length: 1024 }, (_, i) => i + 0.5));
  },
};

serveTasks(fixtureTasks);
