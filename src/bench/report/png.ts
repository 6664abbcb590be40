// report.png: the report rendered by headless Chromium (Debian's chromium, or BENCH_CHROMIUM).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The Chromium binary to use, or undefined when none is installed. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.BENCH_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((x): x is string => !!x);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim().split('\n')[0] : undefined;
}

/** Renders html (a file) to png at width × height; returns why it could not, or undefined. */
export function renderPng(html: string, png: string, width: number, height: number): string | undefined {
  const bin = findChromium();
  if (!bin) return 'no Chromium found (install the chromium package, or set BENCH_CHROMIUM to a Chrome or Chromium binary)';
  const profile = mkdtempSync(join(tmpdir(), 'pgpress-bench-chromium-'));
  try {
    const r = spawnSync(bin, [
      '--headless=new',
      // As root in a container Chromium's sandbox may have no user namespaces to use.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      '--virtual-time-budget=3000',
      `--screenshot=${png}`,
      pathToFileURL(html).href,
    ], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0 || !existsSync(png)) return `chromium exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(-500)}`;
    return undefined;
  } finally {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
