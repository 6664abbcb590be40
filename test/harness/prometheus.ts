// Debian's Prometheus for the tests: promtool to check and unit-test deploy/prometheus/alerts.yml,
// and a throwaway prometheus server on loopback (temp dir, free port, fast intervals) that scrapes
// a test pgpress and evaluates rules, read back through its HTTP API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTool } from './debianTool.ts';
import { freePort } from './freePort.ts';

const NEEDED_BY = 'test/deploy (alert rules and the Prometheus integration test)';

/** The promtool binary (package prometheus), installed when missing and possible. */
export function ensurePromtool(): string {
  return ensureTool({ command: 'promtool', candidates: ['/usr/bin/promtool'], pkg: 'prometheus', neededBy: NEEDED_BY });
}

/** The prometheus server binary (package prometheus), installed when missing and possible. */
export function ensurePrometheusBinary(): string {
  return ensureTool({ command: 'prometheus', candidates: ['/usr/bin/prometheus'], pkg: 'prometheus', neededBy: NEEDED_BY });
}

/** Runs promtool with args; its exit status and combined output. */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const r = spawnSync(ensurePromtool(), args, { encoding: 'utf8', cwd, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** An alert as Prometheus's /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/** A running throwaway Prometheus. */
export interface TestPrometheus {
  url: string;
  /** Alerts pending or firing now. */
  alerts(): Promise<PromAlert[]>;
  /** Result vector of an instant query. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Its log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** What to scrape and which rule files to evaluate. */
export interface PrometheusOptions {
  /** host:port of each target serving /metrics. */
  targets: string[];
  /** Rule file contents, written into the temp dir. */
  rules: string[];
  /** Scrape and evaluation interval (default 1s). */
  interval?: string;
}

async function waitReady(url: string, child: ChildProcess, logOf: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${logOf().slice(-2000)}`);
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${logOf().slice(-2000)}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** Starts prometheus on 127.0.0.1 with its own temp dir; stop() kills it and removes the dir. */
export async function startPrometheus(opts: PrometheusOptions): Promise<TestPrometheus> {
  const bin = ensurePrometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-prom-'));
  const interval = opts.interval ?? '1s';
  const ruleFiles = opts.rules.map((text, i) => {
    const p = join(dir, `rules-${i}.yml`);
    writeFileSync(p, text);
    return p;
  });
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'rule_files:',
    ...ruleFiles.map((p) => `  - ${JSON.stringify(p)}`),
    'scrape_configs:',
    '  - job_name: pgpress',
    `    scrape_timeout: ${interval}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(opts.targets)}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const logOf = (): string => log;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    await waitReady(url, child, logOf);
  } catch (e) {
    await stop();
    throw e;
  }
  async function api<T>(path: string): Promise<T> {
    const r = await fetch(`${url}${path}`);
    const body = (await r.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? r.status}`);
    return body.data;
  }
  return {
    url,
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    log: logOf,
    stop,
  };
}

/** The alert rules file shipped in deploy/, as text. */
export function shippedRules(): string {
  return readFileSync(new URL('../../deploy/prometheus/alerts.yml', import.meta.url), 'utf8');
}
