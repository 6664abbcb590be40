// Real Redis topologies for tests: a 3-master Redis Cluster, and a primary + replica watched by a
// Sentinel that can be told to fail over. Throwaway servers on free ports, killed after the file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { ensureTool } from './debianTool.ts';
import { freePort } from './freePort.ts';
import { startRedisProcess, type OwnRedis } from './testRedis.ts';

const REDIS_CLI = { command: 'redis-cli', candidates: ['/usr/bin/redis-cli'], pkg: 'redis-tools', neededBy: 'the Redis Cluster tests' };

/** A started topology: its REDIS_URL and its servers. */
export interface RedisTopology {
  /** `redis+cluster://…` or `redis+sentinel://…/name`. */
  url: string;
  servers: OwnRedis[];
}

/** A Sentinel topology, which can fail over. */
export interface RedisSentinelTopology extends RedisTopology {
  /** The primary's name the Sentinel watches. */
  name: string;
  /** Port of the current primary, as the Sentinel reports it. */
  primaryPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once the Sentinel reports the replica as the new primary. */
  failover(): Promise<number>;
}

/** A folder for the servers' files (cluster node tables, Sentinel's rewritten config), removed after the file. */
function workDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pgpress-${tag}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A plain client to one server, for the harness's own commands. */
async function direct<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Three masters (no replicas) sharing the 16384 slots; resolves once every node reports cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisTopology> {
  const cli = ensureTool(REDIS_CLI);
  const dir = workDir('redis-cluster');
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = await Promise.all(ports.map((p) => startRedisProcess(p, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${p}.conf`), '--cluster-node-timeout', '2000', '--dir', dir])));
  const create = spawnSync(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout.slice(-500)} ${create.stderr.slice(-500)}`);
  for (const p of ports) {
    await until(`cluster node ${p} ok`, 20_000, () => direct(p, async (r) => ((await r.cluster('INFO')).includes('cluster_state:ok') ? true : undefined)));
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, servers };
}

/** A primary, its replica, and one Sentinel (quorum 1) watching them as `name`. */
export async function startRedisSentinel(name = 'pgpress'): Promise<RedisSentinelTopology> {
  const dir = workDir('redis-sentinel');
  const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const servers = [await startRedisProcess(primary, ['--dir', dir])];
  servers.push(await startRedisProcess(replica, ['--dir', dir, '--replicaof', '127.0.0.1', String(primary)]));
  await until('replica in sync', 20_000, () => direct(replica, async (r) => ((await r.info('replication')).includes('master_link_status:up') ? true : undefined)));
  // Sentinel rewrites its config file: one of its own, in the work folder.
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `sentinel monitor ${name} 127.0.0.1 ${primary} 1`,
    `sentinel down-after-milliseconds ${name} 2000`,
    `sentinel failover-timeout ${name} 10000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n'));
  servers.push(await startRedisProcess(sentinel, [conf, '--sentinel', '--dir', dir]));
  const primaryPort = (): Promise<number> => direct(sentinel, async (r) => Number(((await r.call('SENTINEL', 'get-master-addr-by-name', name)) as string[])[1]));
  // The Sentinel must have found the replica before it can promote it.
  await until('sentinel sees the replica', 20_000, () => direct(sentinel, async (r) => (((await r.call('SENTINEL', 'replicas', name)) as unknown[]).length > 0 ? true : undefined)));
  return {
    url: `redis+sentinel://127.0.0.1:${sentinel}/${name}`,
    servers,
    name,
    primaryPort,
    async failover() {
      const before = await primaryPort();
      await until('SENTINEL FAILOVER accepted', 10_000, () => direct(sentinel, async (r) => ((await r.call('SENTINEL', 'failover', name)) === 'OK' ? true : undefined)));
      const now = await until('sentinel reports a new primary', 20_000, async () => {
        const p = await primaryPort();
        return p !== before ? p : undefined;
      });
      // The promoted server accepts writes.
      await until('new primary writable', 10_000, () => direct(now, async (r) => ((await r.info('replication')).includes('role:master') ? true : undefined)));
      return now;
    },
  };
}
