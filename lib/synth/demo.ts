/**
 * The demo (`npm run demo`, the admin page's demo button) — populates a running Platina with a few full-size synthetic electrodes so that every screen has
 * something real to show:
 *
 *  1. generates DEMO_BUNDLES × DEMO_IMAGES_PER_BUNDLE full-size images (about 1150 × 2070, as the paper's; lib/synth)
 *     under $PLATINA_DATA_DIR/demo-synth — fewer than the paper's 714, so the demo loads in about a minute,
 *  2. imports it through the API, one bundle per folder (lib/import/folder.ts importFolder: same validation and
 *     storage as any upload),
 *  3. creates a lead (`lead`) and three experts (`expert1` … `expert3`) with random passwords, printed once,
 *  4. lets the simulated experts cast a first round of votes through the API (lib/synth/expert-driver.ts): each
 *     takes the queue up to a different cap, so the round ends with unanimous, majority (split) and still-pending
 *     images and some images nobody has seen yet; expert3 is the panel's careless expert (expert1's eye, but it
 *     waves 80 % of its plates through as normal unseen), which the agreement screen marks below the panel,
 *  5. stages a few ties: on the three most borderline split (2–1) images the lead adds a fourth vote with the
 *     minority, so they become 2–2 ties, the `needs_lead` work the review queue exists for. (Platina's rule sends
 *     ties to the lead; with three experts a tie needs a fourth vote.)
 *
 *   npm run demo -- [--url http://localhost:$PORT] [--admin admin] [--seed N]
 *   The admin's password: PLATINA_ADMIN_PASSWORD (or PLATINA_PASSWORD); without it the script asks for it
 *   (hidden, on a terminal) or reads it as the first line of its input.
 *
 * Re-running is safe: images already there are skipped; if the demo users exist already, no new votes are cast.
 */
import { join } from 'node:path';
import { apiCall, castVote, driveExperts, login, truthByName } from './expert-driver.ts';
import { expertPanel } from './experts.ts';
import { DEFAULT_SEED, generateDataset } from './generate.ts';
import { parseManifest } from './manifest.ts';
import { existsSync, readFileSync } from 'node:fs';
import { importFolder } from '../import/folder.ts';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface DemoOptions {
  url: string;
  adminUser?: string;
  /** Sign in as the admin with this password, or use `adminToken` (the API's demo endpoint passes its caller's). */
  adminPassword?: string;
  adminToken?: string;
  /** Where the synthetic TIFFs are written (a `demo-synth-<seed>-<bundles>x<images>` folder inside, reused when complete). */
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

/** The demo's data set: full-size electrodes, few of them (rendering one costs about a second of CPU). */
export const DEMO_BUNDLES = 12;
export const DEMO_IMAGES_PER_BUNDLE = 6;
const DEMO_IMAGES = DEMO_BUNDLES * DEMO_IMAGES_PER_BUNDLE;
/**
 * Votes each expert casts in the first round: overlapping but unequal, so outcomes vary; the careless expert3 is
 * the fastest.
 */
const EXPERT_CAPS = [0.6, 0.7, 0.85].map((share) => Math.round(share * DEMO_IMAGES));
/** Ties the lead stages at most. */
const MAX_TIES = 3;

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const log = o.log ?? (() => {});
  const seed = o.seed ?? DEFAULT_SEED;
  const url = o.url.replace(/\/$/, '');
  const folder = join(o.dataDir, `demo-synth-${seed}-${DEMO_BUNDLES}x${DEMO_IMAGES_PER_BUNDLE}`);
  const manifestPath = join(folder, 'manifest.csv');

  // The manifest is written last (generate.ts): when it is there, the set is complete and rendering is skipped.
  if (existsSync(manifestPath)) log(`reusing the synthetic electrodes in ${folder}`);
  else {
    log(`generating ${DEMO_IMAGES} full-size synthetic electrodes (seed ${seed}) in ${folder} …`);
    await generateDataset({
      out: folder,
      seed,
      scale: 'full',
      bundles: DEMO_BUNDLES,
      imagesPerBundle: DEMO_IMAGES_PER_BUNDLE,
      // Worker threads: full-size rendering on the calling thread would stall a server that runs the demo.
      workers: Math.min(4, availableParallelism()),
    });
  }
  const truth = truthByName(parseManifest(readFileSync(manifestPath, 'utf8')));

  const admin =
    o.adminToken ??
    (await login(url, o.adminUser ?? 'admin', o.adminPassword ?? missing('an admin password or token')));
  log(`importing ${truth.size} images into ${DEMO_BUNDLES} bundles …`);
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

  // expert3 is the panel's careless expert. It gets expert1's eye (a panel draws each expert's skill at random, and
  // with the default seed the last expert drew the sharpest eye of the three, so its carelessness cost less than
  // the others' weaker eyes and it topped the agreement table), so carelessness is the only difference. It waves
  // four of five plates through as normal without looking — the habit a QC lab fears most, which plain agreement
  // rewards (most plates are normal) and Dawid–Skene's sensitivity exposes — and it is the fastest. Gross on
  // purpose: the demo's 72 plates hold about 15 abnormal ones, too few to tell a subtler habit from chance
  // (a sensitivity over 15 plates has a standard error near 0.1); reference images are the instrument for that.
  const [first, second] = expertPanel(seed, 3);
  const panel = [
    first,
    second,
    { ...first, name: 'expert3', carelessness: 0.8, carelessVote: 'normal' as const },
  ];
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
