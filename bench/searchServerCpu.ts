// Server CPU per GET /v1/search: each variant is a server entry file (e.g. this checkout's and an
// old revision's worktree, src/bench/servers/full.ts) started as the search scenario starts it
// (query cache and shedding off), with optional environment; rounds interleave the variants
// (A B, B A, ...), or run them all at once (SEARCH_SERVER_TOGETHER=1), each round sends the same
// fixed number of requests at 16 connections (closed loop, autocannon) and reads the server's CPU
// from /proc: the run time of its threads (schedstat, ns) and, for the split, utime and stime (stat,
// 10 ms ticks). Prints each round, then per variant the median CPU per request and the geometric
// mean and median of its per-round ratios to the first variant, with the load average: on a loaded
// machine compare only ratios (at load 8-12, ±10-30 % a round: 20 rounds or more). One at a time,
// a round also reads the database's backends (every client backend of the database, on this
// machine): their CPU per request is the variant's.
//   DATABASE_URL=<seeded database> node --import tsx bench/searchServerCpu.ts \
//     old=/tmp/old/src/bench/servers/full.ts new=src/bench/servers/full.ts ['lean=<entry>#KEY:value;KEY:value']
// A variant `name%rate=...` is sent at that many requests per second (autocannon overallRate).
// Env: SEARCH_SERVER_REQUESTS (2500 a round), SEARCH_SERVER_ROUNDS (8), SEARCH_SERVER_PATHS (comma
// list of paths instead of the scenario's ten common words), SEARCH_SERVER_TOGETHER (1: together).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { startServerProcess, type ServerProcess } from '../src/bench/httpLoad.ts';
import { COMMON_TERMS } from '../src/bench/scenarios/search.ts';
import { median } from '../src/bench/measure.ts';
import { clientBackendPids, cpuBetween, cpuByPid, processCpuMs } from '../src/bench/cpuMeter.ts';

const REQUESTS = Number(process.env.SEARCH_SERVER_REQUESTS ?? 2500);
const ROUNDS = Number(process.env.SEARCH_SERVER_ROUNDS ?? 8);
const CONNECTIONS = 16;
// Every variant loaded at the same time (each by its own 16 connections): what the machine's other
// work does to one, it does to the others (rounds in turn: the load moves between them).
const TOGETHER = process.env.SEARCH_SERVER_TOGETHER === '1';
const PATHS = process.env.SEARCH_SERVER_PATHS?.split(',') ?? COMMON_TERMS.map((t) => `/v1/search?q=${encodeURIComponent(t)}&limit=10`);
const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must name a seeded database (pgpress seed --scale 10 or more).');

interface Variant { name: string; rate: number | undefined; entry: string; env: Record<string, string>; server?: ServerProcess; pid?: number }

/** name[%rate]=entry[#KEY:value;KEY:value] */
function parseVariant(arg: string): Variant {
  const eq = arg.indexOf('=');
  if (eq < 1) throw new Error(`A variant is name=entry[#KEY:value;…], got ${JSON.stringify(arg)}`);
  const [name, rate] = arg.slice(0, eq).split('%');
  const [entry, envs] = arg.slice(eq + 1).split('#');
  const env: Record<string, string> = {};
  for (const kv of (envs ?? '').split(';').filter(Boolean)) {
    const [k, v] = kv.split(':');
    env[k!] = v ?? '';
  }
  return { name: name!, rate: rate === undefined ? undefined : Number(rate), entry: resolve(entry!), env };
}

/** This process's children now (the server started last is the new one). */
function children(): number[] {
  return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** utime and stime of pid in ms (10 ms ticks), and its threads' run time in ms (processCpuMs: ns
 *  precision, the GC's helper threads included). */
function cpuOf(pid: number): { user: number; sys: number; run: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(f[11]) * 10, sys: Number(f[12]) * 10, run: processCpuMs(pid) ?? NaN };
}

async function send(v: Variant, amount: number): Promise<{ p95: number; rps: number; failed: number }> {
  let i = 0;
  const latencies: number[] = [];
  const instance = autocannon({
    url: v.server!.url, connections: CONNECTIONS, amount, ...(v.rate ? { overallRate: v.rate } : {}),
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: PATHS[i++ % PATHS.length]! }) }],
  });
  (instance as unknown as autocannon.Instance).on('response', (_c: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  const r = await instance;
  latencies.sort((a, b) => a - b);
  return { p95: latencies[Math.floor(latencies.length * 0.95)] ?? NaN, rps: r.requests.average, failed: r.non2xx + r.errors };
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
const backendsCpu = async (): Promise<Map<number, number>> => cpuByPid(await clientBackendPids(admin));

const variants = process.argv.slice(2).map(parseVariant);
if (variants.length === 0) throw new Error('Name at least one variant: name=entry (see the comment at the top).');
const common = { DATABASE_URL: url, JWT_SECRET: randomBytes(32).toString('hex'), RATE_LIMIT_MAX: '0', MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent', REDIS_URL: '', CACHE_ENABLED: 'false', SHED_EVENT_LOOP_DELAY_MS: '0' };
// Variants that differ only in rate share one server.
const byKey = new Map<string, Variant>();
try {
  for (const v of variants) {
    const key = `${v.entry}#${JSON.stringify(v.env)}`;
    const same = byKey.get(key);
    if (same) {
      v.server = same.server!;
      v.pid = same.pid!;
      continue;
    }
    const before = new Set(children());
    v.server = await startServerProcess(v.entry, { ...common, ...v.env });
    v.pid = children().find((c) => !before.has(c));
    if (v.pid === undefined) throw new Error(`Could not find the process of ${v.entry}.`);
    byKey.set(key, v);
  }
  for (const v of variants) await send(v, Math.min(1500, REQUESTS)); // warm-up: JIT, pool
  const perRequest = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  const perRequestDb = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  const measure = async (r: number, v: Variant): Promise<void> => {
    const b0 = TOGETHER ? undefined : await backendsCpu();
    const c0 = cpuOf(v.pid!);
    const res = await send(v, REQUESTS);
    const c1 = cpuOf(v.pid!);
    const b1 = TOGETHER ? undefined : await backendsCpu();
    const db = b0 && b1 ? (cpuBetween(b0, b1) ?? NaN) / REQUESTS : NaN;
    if (!Number.isNaN(db)) perRequestDb.get(v)!.push(db);
    const run = (c1.run - c0.run) / REQUESTS;
    const user = (c1.user - c0.user) / REQUESTS;
    const sys = (c1.sys - c0.sys) / REQUESTS;
    perRequest.get(v)!.push(run);
    console.log(`round ${r} ${v.name}${v.rate ? `@${v.rate}/s` : ''}: ${run.toFixed(3)} ms CPU/request (user ${user.toFixed(3)}, system ${sys.toFixed(3)}; database ${db.toFixed(3)}), ${res.rps.toFixed(0)} req/s, p95 ${res.p95.toFixed(1)} ms, ${res.failed} failed, load average ${loadavg()[0]!.toFixed(1)}`);
  };
  for (let r = 0; r < ROUNDS; r++) {
    if (TOGETHER) await Promise.all(variants.map((v) => measure(r, v)));
    else for (const v of r % 2 === 0 ? variants : [...variants].reverse()) await measure(r, v);
  }
  const first = perRequest.get(variants[0]!)!;
  for (const v of variants) {
    const xs = perRequest.get(v)!;
    // The geometric mean of per-round ratios: with the order reversed every other round (an even
    // number of rounds), a cost of running first or second in a round cancels out (measured at load
    // 20-25: the variant that ran first in a round used less CPU in 9 rounds of 10).
    // Together, a round's ratio has no order to cancel, and a round where one server alone was
    // starved of CPU (3x its usual cost, seen at load 11-15) moves a mean: the median is printed too.
    const ratios = xs.map((x, i) => x / first[i]!);
    const ratio = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
    const dbs = perRequestDb.get(v)!;
    console.log(`${v.name}${v.rate ? `@${v.rate}/s` : ''}: median ${median(xs).toFixed(3)} ms CPU/request${dbs.length > 0 ? ` (database ${median(dbs).toFixed(3)})` : ''}, ratio to ${variants[0]!.name} ${ratio.toFixed(3)}, median ratio ${median(ratios).toFixed(3)} (geometric mean and median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(' ')})`);
  }
} finally {
  for (const v of byKey.values()) await v.server!.stop();
  await admin.end();
}
