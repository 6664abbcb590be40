// HTTP load for benchmarks: a server in its own process, autocannon in this one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { processCpuMs } from './cpuMeter.ts';
import { onAbort } from './lifecycle.ts';
import { recordOp } from './timeline.ts';

/** A benchmark server in its own process. */
export interface ServerProcess {
  url: string;
  /** CPU time the process has run so far, every thread, in ms (processCpuMs). */
  cpuMs(): number;
  /** Resident memory of the process now, in MiB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

// This file is src/bench/httpLoad.ts in a checkout (run through tsx) and dist/bench/httpLoad.js
// when installed: the servers beside it have the same extension, and only .ts needs the loader.
const OWN_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The entry file of a server that ships with pgpress bench (src/bench/servers/<name>). */
export function shippedServer(name: 'full' | 'hello'): string {
  return fileURLToPath(new URL(`./servers/${name}${OWN_EXTENSION}`, import.meta.url));
}

const running = new Set<ServerProcess>();

/** The bench servers running now (the sampler reads their CPU and memory). */
export function runningServers(): ServerProcess[] {
  return [...running];
}

/** A server process started from an entry file (.ts through tsx); resolves once it reports its URL. It gets an
 *  IPC channel (the URL comes back on it, and the server exits when it closes: this process died)
 *  and its stdout goes nowhere, so a server logging at `info` pays for its log lines but this
 *  process, which runs the load generator, does not read them. */
export async function startServerProcess(entry: string, env: Record<string, string>): Promise<ServerProcess> {
  // tsx resolved here, not from the working directory (`pgpress bench` may run anywhere).
  const loader = entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const child: ChildProcess = spawn(process.execPath, [...loader, entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const unregister = onAbort(() => void child.kill('SIGKILL'));
  const url = await new Promise<string>((ok, fail) => {
    child.once('message', (m: { url?: string }) => (m.url ? ok(m.url) : fail(new Error(`${entry} sent ${JSON.stringify(m)}`))));
    child.once('exit', (code) => fail(new Error(`${entry} exited with ${code} before listening`)));
  });
  const pid = child.pid!;
  const server: ServerProcess = {
    url,
    cpuMs: () => processCpuMs(pid) ?? NaN,
    rssMb() {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return Number(kb) / 1024;
    },
    stop: () =>
      new Promise((ok) => {
        running.delete(server);
        if (child.exitCode !== null || child.signalCode !== null) return ok(unregister());
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          unregister();
          ok();
        });
        child.kill('SIGTERM');
      }),
  };
  running.add(server);
  return server;
}

/** Latency and throughput of one autocannon run. */
export interface LoadResult {
  rps: number;
  /** Requests completed. */
  total: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** 503 answers (load shedding, when the server has it on): counted in non2xx too. */
  shed: number;
}

/** One request of a mixed load. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Runs autocannon against 127.0.0.1 for `seconds`, cycling through the given paths. */
export async function load(base: string, paths: string[], connections: number, seconds: number): Promise<LoadResult> {
  let i = 0;
  return summary(await recorded(autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  })));
}

/** Feeds every response autocannon sees into the active timeline; resolves with its result. */
function recorded(run: Promise<autocannon.Result>): Promise<autocannon.Result> {
  // Without a callback autocannon returns its Instance (an EventEmitter) made thenable; the types
  // declare only the promise.
  const instance = run as unknown as autocannon.Instance;
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => recordOp(ms, statusCode < 400));
  return run;
}

/** Runs autocannon against 127.0.0.1 for `seconds`, each request the next one `next` returns. */
export async function loadMix(base: string, next: () => LoadRequest, connections: number, seconds: number): Promise<LoadResult> {
  return summary(await recorded(autocannon({ url: base, connections, duration: seconds, requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }] })));
}

function summary(result: autocannon.Result): LoadResult {
  const shed = result.statusCodeStats?.['503']?.count ?? 0;
  return { rps: result.requests.average, total: result.requests.total, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, shed };
}
