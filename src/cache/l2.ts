// L2: the Redis tier. Every multi-key step is one Lua script, so an invalidation and a store of
// data read before it can never interleave; all keys share one hash slot ({c}) so the scripts
// also run on Redis Cluster.
import type { Cluster as RedisCluster, Redis } from 'ioredis';

/** A connected ioredis client: a single server (or Sentinel-managed primary) or a Cluster. */
export type RedisClient = Redis | RedisCluster;

/** How long a tag's invalidation mark lives: longer than any load takes. */
const MARK_TTL_MS = 60_000;

// KEYS: entry, lease, seq, floor. ARGV: lease owner, lease ms.
// Returns the entry (or false) and, on a miss, whether this caller holds the lease, the
// invalidation sequence and the newest commit position any instance invalidated at.
const GET_OR_LEASE = `
local e = redis.call('GET', KEYS[1])
if e then return {e} end
local got = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
return {false, got and 1 or 0, redis.call('GET', KEYS[3]) or '0', redis.call('GET', KEYS[4]) or ''}
`;

// KEYS: entry, lease. Returns the entry, or false and whether a lease is still held.
const POLL = `
local e = redis.call('GET', KEYS[1])
if e then return {e} end
return {false, redis.call('EXISTS', KEYS[2])}
`;

// KEYS: lease. ARGV: owner. Releases the lease only if this caller still holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

// KEYS: entry, lease, mark of '*', mark_1..n, set_1..n, settle_1..n. ARGV: bytes, seq at load start, entry ms, n, entry key, set ms.
// Stores nothing when a tag (or everything: '*') was invalidated after the load began, or is settling.
const SET_IF_CURRENT = `
local n = tonumber(ARGV[4])
for i = 0, n do
  local m = redis.call('GET', KEYS[3 + i])
  if m and tonumber(m) > tonumber(ARGV[2]) then redis.call('DEL', KEYS[2]) return 0 end
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[3 + 2 * n + i]) == 1 then redis.call('DEL', KEYS[2]) return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
for i = 1, n do
  local s = KEYS[3 + n + i]
  redis.call('SADD', s, ARGV[5])
  redis.call('PEXPIRE', s, ARGV[6])
end
redis.call('DEL', KEYS[2])
return 1
`;

// KEYS: seq, floor, mark_1..n, set_1..n. ARGV: n, commit position (sortable hex or ''), mark ms, channel,
// message ('' : none is published), '1' when '*' is among the tags (every entry is deleted: a SCAN of this namespace, rare), entry pattern,
// settle ms (> 0: for that long no entry carrying one of the tags is stored; KEYS then also hold settle_1..n).
const INVALIDATE = `
local n = tonumber(ARGV[1])
local s = redis.call('INCR', KEYS[1])
if ARGV[6] == '1' then
  local cursor = '0'
  repeat
    local r = redis.call('SCAN', cursor, 'MATCH', ARGV[7], 'COUNT', 1000)
    cursor = r[1]
    for _, k in ipairs(r[2]) do redis.call('DEL', k) end
  until cursor == '0'
end
if ARGV[2] ~= '' and (redis.call('GET', KEYS[2]) or '') < ARGV[2] then redis.call('SET', KEYS[2], ARGV[2]) end
for i = 1, n do
  redis.call('SET', KEYS[2 + i], s, 'PX', ARGV[3])
  local members = redis.call('SMEMBERS', KEYS[2 + n + i])
  for _, k in ipairs(members) do redis.call('DEL', k) end
  redis.call('DEL', KEYS[2 + n + i])
  if tonumber(ARGV[8]) > 0 then redis.call('SET', KEYS[2 + 2 * n + i], 1, 'PX', ARGV[8]) end
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return s
`;

/** What a miss in L2 tells the loader. */
export interface L2Miss {
  /** This caller holds the load lease: it loads; the others wait for its entry. */
  leader: boolean;
  /** Invalidation sequence when the load began (for the store's check). */
  seq: string;
  /** Newest commit position (sortable form) any instance invalidated at: loads read at least there. */
  floor: string;
}

interface Scripts {
  cacheGetOrLeaseBuffer(entry: string, lease: string, seq: string, floor: string, owner: string, ms: number): Promise<[Buffer | null, number?, Buffer?, Buffer?]>;
  cacheSetIfCurrent(...args: (string | number | Buffer)[]): Promise<number>;
  cacheInvalidate(...args: (string | number)[]): Promise<number>;
  cachePollBuffer(entry: string, lease: string): Promise<[Buffer | null, number?]>;
  cacheRelease(lease: string, owner: string): Promise<number>;
}

/** The Redis tier over one client (commands time out and fail at once while disconnected). */
export class L2 {
  private readonly r: RedisClient & Scripts;
  /** Every key's prefix; the {…} hash tag puts them all in one Redis Cluster slot. */
  private readonly p: string;
  /** The pub/sub channel every instance's L1 listens on. */
  readonly channel: string;

  /** namespace: deployments (or test files) sharing one Redis each use their own. */
  constructor(redis: RedisClient, namespace = 'c') {
    this.p = `pgpress:c:{${namespace}}:`;
    this.channel = `pgpress:cache:${namespace}:invalidate`;
    redis.defineCommand('cacheGetOrLease', { numberOfKeys: 4, lua: GET_OR_LEASE });
    redis.defineCommand('cacheSetIfCurrent', { lua: SET_IF_CURRENT });
    redis.defineCommand('cacheInvalidate', { lua: INVALIDATE });
    redis.defineCommand('cachePoll', { numberOfKeys: 2, lua: POLL });
    redis.defineCommand('cacheRelease', { numberOfKeys: 1, lua: RELEASE });
    this.r = redis as RedisClient & Scripts;
  }

  /** The entry's bytes, or what the miss means for this caller. */
  async getOrLease(key: string, owner: string, leaseMs: number): Promise<Buffer | L2Miss> {
    const [e, leader, seq, floor] = await this.r.cacheGetOrLeaseBuffer(this.p + 'e:' + key, this.p + 'l:' + key, this.p + 'seq', this.p + 'floor', owner, leaseMs);
    if (e) return e;
    return { leader: leader === 1, seq: seq?.toString() ?? '0', floor: floor?.toString() ?? '' };
  }

  /** The entry's bytes; else 'loading' while the lease is held, 'gone' once it is released or expired. */
  async poll(key: string): Promise<Buffer | 'loading' | 'gone'> {
    const [e, held] = await this.r.cachePollBuffer(this.p + 'e:' + key, this.p + 'l:' + key);
    return e ?? (held === 1 ? 'loading' : 'gone');
  }

  /** Gives the lease up without an entry (the answer is not cacheable, or the load failed): waiters load themselves. */
  async release(key: string, owner: string): Promise<void> {
    await this.r.cacheRelease(this.p + 'l:' + key, owner);
  }

  /** Stores bytes under key for ttlMs unless a tag was invalidated after seq; releases the lease. */
  async set(key: string, bytes: Buffer, tags: readonly string[], seq: string, ttlMs: number): Promise<boolean> {
    const n = tags.length;
    const keys = [this.p + 'e:' + key, this.p + 'l:' + key, this.p + 'm:*', ...tags.map((t) => this.p + 'm:' + t), ...tags.map((t) => this.p + 's:' + t), ...tags.map((t) => this.p + 'q:' + t)];
    const ok = await this.r.cacheSetIfCurrent(keys.length, ...keys, bytes, seq, ttlMs, n, this.p + 'e:' + key, ttlMs);
    return ok === 1;
  }

  /** Marks tags invalidated (entries stored later by loads that began earlier are refused), deletes their entries, publishes message (unless ''). */
  async invalidate(tags: readonly string[], sortableLsn: string, message: string, settleMs = 0): Promise<void> {
    const keys = [this.p + 'seq', this.p + 'floor', ...tags.map((t) => this.p + 'm:' + t), ...tags.map((t) => this.p + 's:' + t), ...tags.map((t) => this.p + 'q:' + t)];
    const all = tags.includes('*') ? '1' : '0';
    await this.r.cacheInvalidate(keys.length, ...keys, tags.length, sortableLsn, MARK_TTL_MS, this.channel, message, all, this.p + 'e:*', settleMs);
  }

  /** Memory Redis reports in use (the L2 bytes metric), or undefined when it does not answer. */
  async usedBytes(): Promise<number | undefined> {
    const info = await this.r.info('memory').catch(() => '');
    const m = /used_memory:(\d+)/.exec(typeof info === 'string' ? info : '');
    return m ? Number(m[1]) : undefined;
  }
}
