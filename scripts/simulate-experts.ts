/**
 * Simulated experts voting through the real HTTP API (see lib/synth/experts.ts for the model and
 * lib/synth/expert-driver.ts for the driver).
 *
 *   npm run simulate-experts -- --manifest DIR/manifest.csv [--experts 5] [--careless] [--seed N]
 *        [--url http://localhost:8080] [--users name:password,…] [--max-votes N]
 *
 * Accounts: with --users, those experts vote (their profiles are the panel's first ones, in order). Without it,
 * the script signs in as admin (--admin, default "admin", password in PLATINA_PASSWORD or PLATINA_ADMIN_PASSWORD)
 * and creates experts sim-expert-1 … sim-expert-N with random passwords, which it prints.
 * Prints per expert: votes cast and agreement with the manifest's truth; overall votes/s and vote latency.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { apiCall, driveExperts, login, truthByName, type ExpertAccount } from '../lib/synth/expert-driver.ts';
import { expertPanel } from '../lib/synth/experts.ts';
import { DEFAULT_SEED } from '../lib/synth/generate.ts';
import { parseManifest } from '../lib/synth/manifest.ts';

const USAGE = `usage: npm run simulate-experts -- --manifest DIR/manifest.csv [--experts 5] [--careless] [--seed N]
       [--url http://localhost:8080] [--users name:password,...] [--admin admin] [--max-votes N]`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        manifest: { type: 'string' },
        experts: { type: 'string', default: '5' },
        careless: { type: 'boolean', default: false },
        seed: { type: 'string', default: String(DEFAULT_SEED) },
        url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 8080}` },
        users: { type: 'string' },
        admin: { type: 'string', default: 'admin' },
        'max-votes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.manifest) {
    console.error(`--manifest is required\n${USAGE}`);
    return 2;
  }
  const seed = Number(values.seed);
  const n = Number(values.experts);
  const maxVotes = values['max-votes'] === undefined ? undefined : Number(values['max-votes']);
  if (!Number.isSafeInteger(seed) || !Number.isInteger(n) || n < 1 || n > 50) {
    console.error(`--seed must be an integer and --experts 1–50\n${USAGE}`);
    return 2;
  }
  const url = values.url.replace(/\/$/, '');
  const truth = truthByName(parseManifest(readFileSync(values.manifest, 'utf8')));

  let accounts: { username: string; password: string }[];
  if (values.users) {
    accounts = values.users.split(',').map((pair) => {
      const i = pair.indexOf(':');
      return { username: pair.slice(0, i), password: pair.slice(i + 1) };
    });
  } else {
    const password = process.env.PLATINA_PASSWORD ?? process.env.PLATINA_ADMIN_PASSWORD;
    if (!password) {
      console.error(`set PLATINA_PASSWORD to the password of ${values.admin}, or give --users\n${USAGE}`);
      return 2;
    }
    const admin = await login(url, values.admin, password);
    accounts = [];
    for (let i = 1; i <= n; i++) {
      const account = { username: `sim-expert-${i}`, password: randomBytes(12).toString('base64url') };
      const r = await apiCall(url, 'POST', '/api/users', {
        token: admin,
        json: { ...account, role: 'expert' },
      });
      if (r.status === 409) {
        console.error(`user ${account.username} already exists: give its password with --users`);
        return 1;
      }
      if (r.status !== 201) throw new Error(`creating ${account.username}: HTTP ${r.status}`);
      console.log(`created expert ${account.username} with password ${account.password}`);
      accounts.push(account);
    }
  }
  const panel = expertPanel(seed, accounts.length, { careless: values.careless });
  const experts: ExpertAccount[] = accounts.map((a, i) => ({ ...a, profile: panel[i], maxVotes }));
  const report = await driveExperts({ url, seed, experts, truth });
  for (const e of report.experts) {
    const agree = e.agreementWithTruth === null ? '—' : `${(100 * e.agreementWithTruth).toFixed(1)} %`;
    const careless =
      experts.find((x) => x.username === e.username)!.profile.carelessness > 0 ? ' (careless)' : '';
    console.log(`${e.username}${careless}: ${e.votes} votes, agreement with truth ${agree}`);
  }
  const latency = report.voteLatencyMs
    ? `, vote latency p50 ${report.voteLatencyMs.p50.toFixed(1)} ms, p99 ${report.voteLatencyMs.p99.toFixed(1)} ms`
    : '';
  console.log(
    `${report.votes} votes in ${report.seconds.toFixed(1)} s (${(report.votes / report.seconds).toFixed(1)} votes/s)${latency}`,
  );
  return 0;
}

process.exitCode = await main().catch((err: Error) => {
  console.error(`simulate-experts failed: ${err.message}`);
  return 1;
});
