// Throwaway Patroni clusters for the HA tests: one etcd (v3 API) and three PostgreSQL nodes on
// loopback, each run by its own Patroni (as OS user postgres when we are root), all under one
// os.tmpdir()/pgpress-patroni-* directory with owner.pid, so runs left by dead processes are swept.
// Timings are the shortest Patroni accepts with room for a loaded machine: ttl 8, loop_wait 1,
// retry_timeout 3 (Patroni wants loop_wait + 2 × retry_timeout ≤ ttl), and primary_start_timeout 0
// so a crashed leader fails over instead of restarting in place.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureTool } from './debianTool.ts';
import { freePort } from './freePort.ts';
import { bindir, pgOwner, pidAlive, signalServer, tailFile } from './pgCluster.ts';

/** One Patroni-managed node. */
export interface PatroniNode {
  name: string;
  pgPort: number;
  apiPort: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** http://127.0.0.1:APIPORT */
  apiUrl: string;
  dataDir: string;
  configFile: string;
  logFile: string;
  /** kill -9 of the postmaster and every backend (Patroni itself keeps running). */
  crashPostgres(): void;
  /** The whole node dies: kill -9 of its Patroni, then of its PostgreSQL (nothing restarts it until startNode). */
  killNode(): void;
  /** Starts the node's Patroni again (after killNode): it rewinds and rejoins as a replica. */
  startNode(): void;
  /** Runs one statement on a short-lived connection. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers pick T
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A member as Patroni's GET /cluster reports it. */
export interface PatroniMember {
  name: string;
  role: string;
  state: string;
  host: string;
  port: number;
  timeline?: number;
  lag?: number | string;
}

/** Three nodes, one etcd, and ways to steer them. */
export interface PatroniCluster {
  nodes: PatroniNode[];
  /** Patroni REST endpoints, comma-separated (the PATRONI_URLS form). */
  patroniUrls: string;
  /** postgres://postgres@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/postgres (libpq multi-host form). */
  multiHostUrl(database?: string): string;
  members(): Promise<PatroniMember[]>;
  /** The node holding the leader key and running as primary (waits up to timeoutMs). */
  leader(timeoutMs?: number): Promise<PatroniNode>;
  /** Waits until every node runs, one leads, the others stream (and, in synchronous mode, one is sync_standby). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** POST /switchover from the current leader to candidate (or any healthy replica). */
  switchover(candidate?: string): Promise<void>;
  /** Stops Patroni and PostgreSQL everywhere and removes the directory; idempotent. */
  destroy(): Promise<void>;
}

const PREFIX = 'pgpress-patroni-';
const live = new Set<string>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PATRONI = { command: 'patroni', candidates: ['/usr/bin/patroni'], pkg: 'patroni', neededBy: 'the high-availability tests (test/ha)' };
const ETCD = { command: 'etcd', candidates: ['/usr/bin/etcd'], pkg: 'etcd-server', neededBy: 'the high-availability tests (test/ha)' };

async function query<T>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function getJson<T>(url: string, timeoutMs = 2_000): Promise<{ status: number; body: T | undefined }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: T | undefined;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function nodeConfig(o: { scope: string; name: string; root: string; pgPort: number; apiPort: number; etcdPort: number; synchronous: boolean }): string {
  const dir = path.join(o.root, o.name);
  // JSON is YAML: no YAML writer needed.
  return JSON.stringify({
    scope: o.scope,
    namespace: '/pgpress-test/',
    name: o.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${o.apiPort}`, connect_address: `127.0.0.1:${o.apiPort}` },
    etcd3: { hosts: [`127.0.0.1:${o.etcdPort}`] },
    bootstrap: {
      dcs: {
        ttl: 8,
        loop_wait: 1,
        retry_timeout: 3,
        primary_start_timeout: 0,
        maximum_lag_on_failover: 16 * 1024 * 1024,
        synchronous_mode: o.synchronous,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            wal_log_hints: 'on',
            max_connections: 40,
            shared_buffers: '32MB',
            wal_keep_size: '64MB',
            wal_retrieve_retry_interval: '200ms',
            max_wal_senders: 10,
            max_replication_slots: 10,
            hot_standby: 'on',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'data-checksums'],
    },
    postgresql: {
      listen: `127.0.0.1:${o.pgPort}`,
      connect_address: `127.0.0.1:${o.pgPort}`,
      data_dir: path.join(dir, 'data'),
      bin_dir: bindir(),
      pgpass: path.join(dir, 'pgpass'),
      authentication: { superuser: { username: 'postgres' }, replication: { username: 'postgres' }, rewind: { username: 'postgres' } },
      parameters: { unix_socket_directories: dir },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  }, null, 2);
}

/** Stops every process under root (Patroni, PostgreSQL, etcd) and removes root. */
function teardownSync(root: string): void {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root);
  } catch {
    // already gone
  }
  // Patroni first, so it does not restart PostgreSQL; then the servers; then etcd.
  for (const name of entries) {
    const pid = readPid(path.join(root, name, 'patroni.pid'));
    if (pid !== undefined && pidAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const name of entries) {
    const dataDir = path.join(root, name, 'data');
    const pid = readPid(path.join(dataDir, 'postmaster.pid'));
    if (pid !== undefined && pidAlive(pid)) {
      try {
        signalServer(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const etcd = readPid(path.join(root, 'etcd.pid'));
  if (etcd !== undefined && pidAlive(etcd)) {
    try {
      process.kill(etcd, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 5; i++) {
    try {
      fs.rmSync(root, { recursive: true, force: true });
      break;
    } catch {
      spawnSync('sleep', ['0.2']);
    }
  }
  live.delete(root);
}

let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const root of [...live]) teardownSync(root);
  });
}

/** Removes pgpress-patroni-* directories (and their processes) left by processes that are gone. */
export function sweepStalePatroni(): void {
  const tmp = os.tmpdir();
  for (const entry of fs.readdirSync(tmp)) {
    const root = path.join(tmp, entry);
    if (!entry.startsWith(PREFIX) || live.has(root)) continue;
    const owner = readPid(path.join(root, 'owner.pid'));
    if (owner !== undefined && owner !== process.pid && pidAlive(owner)) continue;
    teardownSync(root);
  }
}

function spawnLogged(cmd: string, args: string[], logFile: string, pidFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...env }, ...pgOwner() });
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  return child;
}

/** Starts etcd and three Patroni nodes; resolves once a leader runs and both replicas stream. */
export async function startPatroni(opts: { synchronous?: boolean; timeoutMs?: number } = {}): Promise<PatroniCluster> {
  const patroni = ensureTool(PATRONI);
  const etcdBin = ensureTool(ETCD);
  sweepStalePatroni();
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), PREFIX));
  live.add(root);
  hookExit();
  await fsp.writeFile(path.join(root, 'owner.pid'), String(process.pid));
  const { uid, gid } = pgOwner();
  const own = async (p: string): Promise<void> => {
    if (uid !== undefined && gid !== undefined) await fsp.chown(p, uid, gid);
  };
  await own(root);
  let destroying: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroying ??= Promise.resolve().then(() => teardownSync(root)));

  const etcdPort = await freePort();
  const etcdPeer = await freePort();
  const etcdLog = path.join(root, 'etcd.log');
  const scope = path.basename(root);
  const nodes: PatroniNode[] = [];
  try {
    spawnLogged(etcdBin, [
      '--name', 'etcd1', '--data-dir', path.join(root, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `etcd1=http://127.0.0.1:${etcdPeer}`, '--initial-cluster-state', 'new',
      '--initial-cluster-token', scope,
    // Debian's etcd 3.4 refuses architectures other than amd64 (and ppc64le) unless told to run anyway.
    ], etcdLog, path.join(root, 'etcd.pid'), process.arch === 'x64' ? {} : { ETCD_UNSUPPORTED_ARCH: process.arch });
    await waitFor(`etcd on ${etcdPort}`, 30_000, async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`, { signal: AbortSignal.timeout(1_000) })).ok, () => tailFile(etcdLog));

    for (let i = 1; i <= 3; i++) {
      const name = `node${i}`;
      const dir = path.join(root, name);
      await fsp.mkdir(dir, { mode: 0o700 });
      await own(dir);
      const pgPort = await freePort();
      const apiPort = await freePort();
      const configFile = path.join(dir, 'patroni.yml');
      await fsp.writeFile(configFile, nodeConfig({ scope, name, root, pgPort, apiPort, etcdPort, synchronous: opts.synchronous ?? false }));
      await own(configFile);
      const logFile = path.join(dir, 'patroni.log');
      const dataDir = path.join(dir, 'data');
      const url = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
      nodes.push({
        name, pgPort, apiPort, url, apiUrl: `http://127.0.0.1:${apiPort}`, dataDir, configFile, logFile,
        crashPostgres: () => {
          const pid = readPid(path.join(dataDir, 'postmaster.pid'));
          if (pid === undefined) throw new Error(`patroni harness: ${name} has no postmaster.pid`);
          signalServer(pid, 'SIGKILL');
        },
        killNode: () => {
          const patroniPid = readPid(path.join(dir, 'patroni.pid'));
          if (patroniPid !== undefined && pidAlive(patroniPid)) process.kill(patroniPid, 'SIGKILL');
          const pid = readPid(path.join(dataDir, 'postmaster.pid'));
          if (pid !== undefined && pidAlive(pid)) signalServer(pid, 'SIGKILL');
        },
        startNode: () => void spawnLogged(patroni, [configFile], logFile, path.join(dir, 'patroni.pid'), { PYTHONUNBUFFERED: '1' }),
        query: (sql, params) => query(url, sql, params),
      });
    }
    // The first node bootstraps alone (initdb), the others then clone it with pg_basebackup.
    const start = (n: PatroniNode): void => void spawnLogged(patroni, [n.configFile], n.logFile, path.join(path.dirname(n.configFile), 'patroni.pid'), { PYTHONUNBUFFERED: '1' });
    start(nodes[0]!);
    const cluster = makeCluster(nodes, destroy, opts.synchronous ?? false);
    await cluster.leader(opts.timeoutMs ?? 60_000);
    start(nodes[1]!);
    start(nodes[2]!);
    await cluster.waitHealthy(opts.timeoutMs ?? 90_000);
    return cluster;
  } catch (e) {
    const tails = [`--- etcd.log ---\n${tailFile(etcdLog, 15)}`, ...nodes.map((n) => `--- ${n.name}/patroni.log ---\n${tailFile(n.logFile, 25)}`)].join('\n');
    await destroy();
    throw new Error(`patroni harness: the cluster did not come up: ${(e as Error).message}\n${tails}`);
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, detail: () => string = () => ''): Promise<void> {
  let last = '';
  for (const until = Date.now() + timeoutMs; ;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > until) throw new Error(`${what}: not ready within ${timeoutMs} ms${last ? ` (${last})` : ''}\n${detail()}`);
    await sleep(200);
  }
}

function makeCluster(nodes: PatroniNode[], destroy: () => Promise<void>, synchronous: boolean): PatroniCluster {
  const members = async (): Promise<PatroniMember[]> => {
    let last: unknown;
    for (const n of nodes) {
      try {
        const { body } = await getJson<{ members: PatroniMember[] }>(`${n.apiUrl}/cluster`);
        if (body?.members) return body.members;
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no Patroni endpoint answered /cluster: ${(last as Error | undefined)?.message ?? 'no answer'}`);
  };
  const leaderNow = async (): Promise<PatroniNode | undefined> => {
    const ms = await members();
    const m = ms.find((x) => x.role === 'leader' && x.state === 'running');
    return m ? nodes.find((n) => n.name === m.name) : undefined;
  };
  return {
    nodes,
    patroniUrls: nodes.map((n) => n.apiUrl).join(','),
    multiHostUrl: (database = 'postgres') => `postgres://postgres@${nodes.map((n) => `127.0.0.1:${n.pgPort}`).join(',')}/${database}`,
    members,
    async leader(timeoutMs = 30_000) {
      let found: PatroniNode | undefined;
      await waitFor('a Patroni leader', timeoutMs, async () => {
        found = await leaderNow();
        if (!found) return false;
        const [row] = await found.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        return row?.r === false;
      }, () => nodes.map((n) => `--- ${n.name} ---\n${tailFile(n.logFile, 10)}`).join('\n'));
      return found!;
    },
    async waitHealthy(timeoutMs = 60_000) {
      await waitFor('a healthy Patroni cluster', timeoutMs, async () => {
        const ms = await members();
        const running = ms.filter((m) => m.state === 'running' || m.state === 'streaming');
        const leaders = ms.filter((m) => m.role === 'leader' && m.state === 'running');
        const syncs = ms.filter((m) => m.role === 'sync_standby');
        if (running.length !== 3 || leaders.length !== 1 || (synchronous && syncs.length !== 1)) return false;
        // Every replica replays WAL (a standby that is "running" may still be catching up).
        for (const m of ms.filter((x) => x.role !== 'leader')) {
          const node = nodes.find((n) => n.name === m.name)!;
          const [row] = await node.query<{ ok: boolean }>("SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS ok");
          if (!row?.ok) return false;
        }
        return true;
      }, () => `${nodes.map((n) => `--- ${n.name} ---\n${tailFile(n.logFile, 10)}`).join('\n')}`);
    },
    async switchover(candidate?: string) {
      const leader = await leaderNow();
      if (!leader) throw new Error('switchover: no leader');
      const res = await fetch(`${leader.apiUrl}/switchover`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ leader: leader.name, ...(candidate ? { candidate } : {}) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`switchover: ${res.status} ${text}`);
    },
    destroy,
  };
}
