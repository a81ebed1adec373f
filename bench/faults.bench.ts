import os from 'node:os';
import { findPostgresBinaries } from '../test/faults/processes.ts';
import {
  apiKillScenario,
  faultTable,
  postgresRestartScenario,
  runnerKillScenario,
  type FaultRow,
} from '../test/faults/scenarios.ts';
import type { BenchReport, BenchRow } from './report.ts';

/**
 * The fault suite's figures (the scenarios of test/faults/scenarios.ts, also asserted by
 * api/src/process-faults.test.ts in `npm test`): per scenario, the acknowledged writes, the share of them
 * missing afterwards (the target is 0), and the seconds until writes are acknowledged again, beside the
 * outage itself (the killed API restarted and healthy, the server down): a ratio near 1 means the system
 * served again as soon as the outage ended. The API kill
 * runs on both databases (PostgreSQL at 127.0.0.1:5432, a fresh database); the server restart on a private
 * PostgreSQL server started for it (skipped when initdb is not installed).
 */
export default async function runBench(): Promise<BenchReport> {
  const results: FaultRow[] = [];
  results.push(await apiKillScenario('pglite'));
  results.push(await apiKillScenario('postgres'));
  results.push(await runnerKillScenario());
  const bins = findPostgresBinaries();
  if (bins) results.push(await postgresRestartScenario());
  console.log(`\n${faultTable(results)}\n`);

  const rows: BenchRow[] = results.flatMap((r): BenchRow[] => [
    {
      metric: `${r.scenario}: acknowledged writes missing`,
      value: r.missing,
      unit: 'writes',
      reference: { metric: 'acknowledged writes', value: r.acknowledged, unit: 'writes' },
      ratio: r.missing / r.acknowledged,
      note: `target 0; ${r.failed} requests failed unacknowledged (allowed)`,
    },
    {
      metric: `${r.scenario}: recovered`,
      value: r.recoveredSeconds ?? Infinity,
      unit: 's',
      ...(r.outageSeconds !== null
        ? {
            reference: { metric: 'the outage itself', value: r.outageSeconds, unit: 's' },
            ratio: (r.recoveredSeconds ?? Infinity) / r.outageSeconds,
          }
        : {}),
      note: `lower is better; ${r.note}`,
    },
  ]);
  return {
    name: 'faults',
    rows,
    context: {
      table: results.map(({ scenario, acknowledged, missing, failed, recoveredSeconds }) => ({
        scenario,
        acknowledged,
        missing,
        failed,
        recoveredSeconds,
      })),
      details: results.map((r) => ({ scenario: r.scenario, details: r.details })),
      postgresRestart: bins ? `private server (${bins.pgCtl})` : 'skipped: initdb/pg_ctl not found',
      loadAverage1m: os.loadavg()[0],
    },
  };
}
