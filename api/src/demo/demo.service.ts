import type { Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { runDemo, type DemoReport } from '../../../lib/synth/demo.ts';

let running = false;

/**
 * Load the demo into this server (the admin page's button): the same `runDemo` as `npm run demo`,
 * talking to this very server over HTTP with the calling admin's token, so every image and vote
 * goes through the same validation as a user's. One at a time per process.
 */
export async function loadDemo(
  services: Services,
  selfUrl: string,
  adminToken: string,
  seed?: number,
): Promise<DemoReport> {
  if (running) throw new AppError('conflict', 'the demo is already loading; wait for it to finish');
  running = true;
  try {
    return await runDemo({
      url: selfUrl,
      adminToken,
      seed,
      dataDir: services.config.dataDir,
      log: (line) => services.logger.info(line),
    });
  } finally {
    running = false;
  }
}

/** One sentence for the admin page, with the new users' passwords (shown once, like the CLI does). */
export function describe(report: DemoReport): string {
  const users = report.users
    .map((u) => `${u.username} (${u.role}): ${u.password ?? 'existed already'}`)
    .join('; ');
  const statuses = Object.entries(report.statuses)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return `Imported ${report.imported} images (${report.skipped} were there). Users — ${users}. ${report.votes} expert votes and ${report.leadVotes} lead votes cast; images: ${statuses}.`;
}
