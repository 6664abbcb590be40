// Which Redis a URL names: one server, a Sentinel-managed primary or a Cluster; and its client.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from './l2.ts';

/** A parsed REDIS_URL. */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; password?: string; db: number; tls: boolean }
  | { mode: 'cluster'; nodes: { host: string; port: number }[]; password?: string; tls: boolean };

const MULTI = /^redis\+(sentinel|cluster)(s?):\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/?#]+)(?:\/([^?#]*))?$/;

function hosts(list: string, defaultPort: number): { host: string; port: number }[] {
  return list.split(',').map((hp) => {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(hp.trim());
    if (!m) throw new TypeError(`not host[:port]: ${JSON.stringify(hp)}`);
    return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
  });
}

/**
 * `redis://` / `rediss://` (one server), `redis+sentinel://[:pw@]h1:26379,h2:26379/primaryName[/db]`
 * or `redis+cluster://[:pw@]h1:7000,h2:7001` (a `s` after the scheme's name: TLS). Throws TypeError.
 */
export function parseRedisTarget(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) {
    new URL(url); // throws on a malformed URL
    return { mode: 'single', url };
  }
  const m = MULTI.exec(url);
  if (!m) throw new TypeError('must start with redis://, rediss://, redis+sentinel:// or redis+cluster://');
  const [, kind, tls, password, list, path] = m;
  const pw = password ? decodeURIComponent(password) : undefined;
  if (kind === 'cluster') return { mode: 'cluster', nodes: hosts(list!, 6379), ...(pw ? { password: pw } : {}), tls: tls === 's' };
  const [name, db] = (path ?? '').split('/');
  if (!name) throw new TypeError('a Sentinel URL names the primary: redis+sentinel://host:26379/mymaster');
  return { mode: 'sentinel', sentinels: hosts(list!, 26379), name, ...(pw ? { password: pw } : {}), db: db ? Number(db) : 0, tls: tls === 's' };
}

/** A client for url with options (bounded commands, no offline queue: the caller's choice). */
export function createRedisClient(url: string, options: RedisOptions): RedisClient {
  const t = parseRedisTarget(url);
  if (t.mode === 'single') return new Redis(url, options);
  const tls = t.tls ? { tls: {} } : {};
  const password = t.password === undefined ? {} : { password: t.password };
  if (t.mode === 'sentinel') return new Redis({ ...options, ...tls, ...password, sentinels: t.sentinels, name: t.name, db: t.db });
  return new Cluster(t.nodes, {
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    clusterRetryStrategy: (n) => Math.min(n * 200, 2_000),
    redisOptions: { ...options, ...tls, ...password },
  });
}
