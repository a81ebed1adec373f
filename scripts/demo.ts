/**
 * `npm run demo` — the CLI over lib/synth/demo.ts (what the demo does is said there).
 *
 *   npm run demo -- [--url http://localhost:$PORT] [--admin admin] [--seed N]
 *   The admin's password: PLATINA_ADMIN_PASSWORD (or PLATINA_PASSWORD); without it the script asks for it
 *   (hidden, on a terminal) or reads it as the first line of its input.
 *
 * Re-running is safe: images already there are skipped; if the demo users exist already, no new votes are cast.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED } from '../lib/synth/generate.ts';
import { runDemo } from '../lib/synth/demo.ts';
export { DEMO_BUNDLES, DEMO_IMAGES_PER_BUNDLE, runDemo, type DemoReport } from '../lib/synth/demo.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 8080}` },
      admin: { type: 'string', default: 'admin' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
    },
  });
  const health = await fetch(`${values.url}/api/health`).catch(() => null);
  if (!health?.ok) {
    console.error(
      `no Platina answers at ${values.url}: start it with \`npm start\` first (or give --url, or set PORT)`,
    );
    return 1;
  }
  const adminPassword =
    process.env.PLATINA_ADMIN_PASSWORD ||
    process.env.PLATINA_PASSWORD ||
    (await askPassword(`Password of ${values.admin} (npm start printed it at the first start): `));
  if (!adminPassword) {
    console.error(
      `no password for ${values.admin}: type it when asked, or set PLATINA_ADMIN_PASSWORD (or PLATINA_PASSWORD)`,
    );
    return 2;
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

/**
 * The admin's password from the terminal, not echoed; from a pipe, its first line (`echo … | npm run demo`).
 * Empty when there is none.
 */
export async function askPassword(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): Promise<string> {
  if (!input.isTTY) {
    const rl = createInterface({ input, terminal: false });
    const line = await new Promise<string>((resolveLine) => {
      rl.once('line', resolveLine);
      rl.once('close', () => resolveLine(''));
    });
    rl.close();
    return line.trim();
  }
  // A terminal: raw mode, so the typed characters are read one by one and never echoed.
  output.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolvePassword) => {
    let typed = '';
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\u0003') {
          // Ctrl-C: leave as the shell expects.
          input.setRawMode(false);
          process.exit(130);
        } else if (c === '\r' || c === '\n' || c === '\u0004') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          output.write('\n');
          resolvePassword(typed.trim());
          return;
        } else if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else typed += c;
      }
    };
    input.on('data', onData);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main().catch((err: Error) => {
    console.error(`demo failed: ${err.message}`);
    return 1;
  });
}
