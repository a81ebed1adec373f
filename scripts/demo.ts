/**
 * `npm run demo` — populates a running Platina with the small synthetic data set so that every screen has
 * something real to show:
 *
 *  1. generates the small-scale set (12 bundles × 8 images, lib/synth) under $PLATINA_DATA_DIR/demo-synth,
 *  2. imports it through the API, one bundle per folder (scripts/import.ts's importFolder: same validation and
 *     storage as any upload),
 *  3. creates a lead (`lead`) and three experts (`expert1` … `expert3`) with random passwords, printed once,
 *  4. lets the simulated experts cast a first round of votes through the API (lib/synth/expert-driver.ts): each
 *     takes the queue up to a different cap, so the round ends with unanimous, majority (split) and still-pending
 *     images and some images nobody has seen yet; expert3 is the panel's careless expert (40 % of votes cast
 *     without looking), which the agreement screen should expose,
 *  5. stages a few ties: on the three most borderline split (2–1) images the lead adds a fourth vote with the
 *     minority, so they become 2–2 ties, the `needs_lead` work the review queue exists for. (Platina's rule sends
 *     ties to the lead; with three experts a tie needs a fourth vote.)
 *
 *   npm run demo -- [--url http://localhost:8080] [--admin admin] [--seed N]
 *   (admin password: PLATINA_ADMIN_PASSWORD or PLATINA_PASSWORD)
 *
 * Re-running is safe: images already there are skipped; if the demo users exist already, no new votes are cast.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { apiCall, castVote, driveExperts, login, truthByName } from '../lib/synth/expert-driver.ts';
import { expertPanel } from '../lib/synth/experts.ts';
import { DEFAULT_SEED, generateDataset } from '../lib/synth/generate.ts';
import { parseManifest } from '../lib/synth/manifest.ts';
import { readFileSync } from 'node:fs';
import { importFolder } from './import.ts';

export interface DemoOptions {
  url: string;
  adminUser?: string;
  /** Sign in as the admin with this password, or use `adminToken` (the API's demo endpoint passes its caller's). */
  adminPassword?: string;
  adminToken?: string;
  /** Where the synthetic TIFFs are written (a `demo-synth` folder is created inside). */
  dataDir: string;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoReport {
  imported: number;
  skipped: number;
  users: { username: string; role: 'lead' | 'expert'; password: string | null }[];
  votes: number;
  leadVotes: number;
  /** Images per consensus status after the round. */
  statuses: Record<string, number>;
}

/** Votes each expert casts in the first round (of 96 images): overlapping but unequal, so outcomes vary. */
const EXPERT_CAPS = [80, 68, 56];
/** Ties the lead stages at most. */
const MAX_TIES = 3;

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const log = o.log ?? (() => {});
  const seed = o.seed ?? DEFAULT_SEED;
  const url = o.url.replace(/\/$/, '');
  const folder = join(o.dataDir, 'demo-synth');

  log(`generating the small synthetic data set (seed ${seed}) in ${folder} …`);
  const gen = await generateDataset({ out: folder, seed, scale: 'small', workers: 0 });
  const truth = truthByName(parseManifest(readFileSync(gen.manifestPath, 'utf8')));

  const admin =
    o.adminToken ??
    (await login(url, o.adminUser ?? 'admin', o.adminPassword ?? missing('an admin password or token')));
  log(`importing ${gen.images} images into ${gen.plan.bundles.length} bundles …`);
  const imp = await importFolder({ folder, bundleFromDir: true, url, token: admin, concurrency: 2 });
  if (imp.rejected.length + imp.failed.length > 0) {
    const first = [
      ...imp.rejected.map((r) => `${r.file}: ${r.reason}`),
      ...imp.failed.map((f) => `${f.file}: ${f.reason}`),
    ];
    throw new Error(`import failed for ${first.length} files, e.g. ${first[0]}`);
  }

  const users: DemoReport['users'] = [];
  for (const [username, role] of [
    ['lead', 'lead'],
    ['expert1', 'expert'],
    ['expert2', 'expert'],
    ['expert3', 'expert'],
  ] as const) {
    const password = randomBytes(9).toString('base64url');
    const r = await apiCall(url, 'POST', '/api/users', { token: admin, json: { username, password, role } });
    if (r.status === 201) users.push({ username, role, password });
    else if (r.status === 409) users.push({ username, role, password: null });
    else throw new Error(`creating user ${username}: HTTP ${r.status}`);
  }
  const report: DemoReport = {
    imported: imp.imported.length,
    skipped: imp.skipped.length,
    users,
    votes: 0,
    leadVotes: 0,
    statuses: {},
  };
  if (users.some((u) => u.password === null)) {
    log('the demo users exist already: no new votes (start from an empty database to run the demo again)');
    report.statuses = await statusCounts(url, admin);
    return report;
  }

  const panel = expertPanel(seed, 3, { careless: true });
  log('simulated experts are voting …');
  const round = await driveExperts({
    url,
    seed,
    truth,
    experts: users
      .filter((u) => u.role === 'expert')
      .map((u, i) => ({
        username: u.username,
        password: u.password!,
        profile: panel[i],
        maxVotes: EXPERT_CAPS[i],
      })),
  });
  report.votes = round.votes;

  // Staged ties: on the most borderline split images (by the manifest's difficulty), the lead adds a fourth vote
  // with the minority. Simulating the lead honestly mostly sides with the majority (it is usually right), which
  // would leave the review queue empty; the demo needs some ties to show, so it says plainly that it stages them.
  const lead = users.find((u) => u.role === 'lead')!;
  const leadToken = await login(url, lead.username, lead.password!);
  const split: { id: string; minority: 'normal' | 'abnormal'; difficulty: number; key: string }[] = [];
  for (const image of await listImages(url, leadToken)) {
    const t = truth.get(image.name);
    if (!t || image.status !== 'resolved') continue;
    const c = await apiCall<{ counts: { normal: number; abnormal: number } }>(
      url,
      'GET',
      `/api/images/${image.id}/consensus`,
      { token: leadToken },
    );
    const { normal, abnormal } = c.body.counts;
    if (normal + abnormal !== 3 || normal === 0 || abnormal === 0) continue;
    split.push({
      id: image.id,
      minority: normal < abnormal ? 'normal' : 'abnormal',
      difficulty: t.difficulty,
      key: t.key,
    });
  }
  split.sort((a, b) => b.difficulty - a.difficulty || a.key.localeCompare(b.key));
  for (const s of split.slice(0, MAX_TIES)) {
    const anomalies =
      s.minority === 'abnormal'
        ? truth
            .get(s.key.split('/')[1])!
            .anomalies.filter((a) => a.severity >= 0.4)
            .map((a) => a.type)
        : [];
    await castVote(url, leadToken, s.id, { verdict: s.minority, anomalies });
    report.leadVotes++;
  }
  report.statuses = await statusCounts(url, admin);
  return report;
}

function missing(what: string): never {
  throw new Error(`runDemo needs ${what}`);
}

async function listImages(
  url: string,
  token: string,
): Promise<{ id: string; name: string; status: string }[]> {
  const out: { id: string; name: string; status: string }[] = [];
  let cursor: string | null = null;
  do {
    const r: {
      status: number;
      body: { items: { id: string; name: string; status: string }[]; nextCursor: string | null };
    } = await apiCall(
      url,
      'GET',
      `/api/images?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    if (r.status !== 200) throw new Error(`listing images: HTTP ${r.status}`);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function statusCounts(url: string, token: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const i of await listImages(url, token)) counts[i.status] = (counts[i.status] ?? 0) + 1;
  return counts;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 8080}` },
      admin: { type: 'string', default: 'admin' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
    },
  });
  const adminPassword = process.env.PLATINA_ADMIN_PASSWORD ?? process.env.PLATINA_PASSWORD;
  if (!adminPassword) {
    console.error(`set PLATINA_ADMIN_PASSWORD (or PLATINA_PASSWORD) to the password of ${values.admin}`);
    return 2;
  }
  const health = await fetch(`${values.url}/api/health`).catch(() => null);
  if (!health?.ok) {
    console.error(`no Platina answers at ${values.url}: start it with \`npm start\` first (or give --url)`);
    return 1;
  }
  const report = await runDemo({
    url: values.url,
    adminUser: values.admin,
    adminPassword,
    dataDir: resolve(process.env.PLATINA_DATA_DIR?.trim() || './data'),
    seed: Number(values.seed),
    log: (line) => console.log(line),
  });
  console.log(`images: ${report.imported} imported, ${report.skipped} already there`);
  for (const u of report.users) {
    console.log(
      `  ${u.role.padEnd(6)} ${u.username.padEnd(8)} password: ${u.password ?? '(existed already, unchanged)'}`,
    );
  }
  console.log(
    `votes: ${report.votes} by the experts, ${report.leadVotes} by the lead (ties for the review queue)`,
  );
  console.log(
    `image status: ${Object.entries(report.statuses)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main().catch((err: Error) => {
    console.error(`demo failed: ${err.message}`);
    return 1;
  });
}
