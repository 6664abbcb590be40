// The cache's own rules, on a real Redis: '*' drops everything in both tiers and on every
// instance, a load that overlaps an invalidation of its tags is not stored, L1 stays within its
// byte bound, and large entries are stored deflated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCache, type Lookup } from '../../src/cache/queryCache.ts';
import { decodeEntry, encodeEntry } from '../../src/cache/entry.ts';
import { expiry } from '../../src/cache/ttl.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { cacheRedis, ready } from './cacheHarness.ts';

const redis = await startOwnRedis();

async function pair(ns: string): Promise<[QueryCache, QueryCache]> {
  const make = async (): Promise<QueryCache> => {
    const r = cacheRedis(redis.url);
    const sub = cacheRedis(redis.url);
    await Promise.all([ready(r), ready(sub)]);
    return new QueryCache({ l1MaxBytes: 1 << 20, redis: r, subscriber: sub, namespace: ns });
  };
  const cs: [QueryCache, QueryCache] = [await make(), await make()];
  await new Promise((r) => setTimeout(r, 100)); // subscriptions in place
  return cs;
}

function counter(key: string, tag: string): { lookup: Lookup<number>; loads: () => number } {
  let n = 0;
  return { lookup: { kind: 'article', key, load: async () => ++n, tags: () => [tag] }, loads: () => n };
}

test("invalidate(['*']) of a write empties L1 on every instance and every L2 entry", async () => {
  const [a, b] = await pair('all');
  const x = counter('x', 'article:1');
  const y = counter('y', 'article:2');
  assert.equal(await a.get(x.lookup), 1);
  assert.equal(await a.get(y.lookup), 1);
  assert.equal(await b.get(x.lookup), 1, 'b reads x from L2');
  // A write's: the other instance hears it over pub/sub (the change feed's '*' each instance reads itself).
  await a.invalidate(['*'], 'write');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await b.get(x.lookup), 2, 'b reloads x');
  assert.equal(await a.get(y.lookup), 2, 'a reloads y (L1 and L2 dropped)');
  await a.close();
  await b.close();
});

test('a load that overlaps an invalidation of its tag is served but not stored', async () => {
  const [a, b] = await pair('race');
  let n = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: Lookup<number> = { kind: 'article', key: 'k', tags: () => ['article:9'], load: async () => { const v = ++n; if (v === 1) await gate; return v; } };
  const first = a.get(slow);
  await new Promise((r) => setTimeout(r, 50));
  await b.invalidate(['article:9'], 'write'); // the row changed while a's load was reading the old one
  release();
  assert.equal(await first, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await a.get(slow), 2, 'a does not keep the value it read before the invalidation');
  assert.equal(await b.get(slow), 2, 'nor did it reach L2');
  await a.close();
  await b.close();
});

test('L1 holds at most its byte bound; entries of 1 KiB and more are deflated when that is smaller', async () => {
  const c = new QueryCache({ l1MaxBytes: 20_000 });
  const big = 'lorem ipsum '.repeat(300);
  for (let i = 0; i < 50; i++) await c.get({ kind: 'feed', key: `p${i}`, load: async () => `${i}${big}`, tags: () => ['feed:*'] });
  const l1 = (c as unknown as { l1: { bytes(): number } }).l1.bytes();
  assert.ok(l1 > 0 && l1 <= 20_000, `L1 holds ${l1} bytes`);
  const e = { v: big, lsn: '', tags: ['feed:*'], ...expiry({ freshMs: 1000, staleMs: 100 }, Date.now()) };
  const buf = encodeEntry(e);
  assert.equal(buf[0], 1, 'deflated');
  assert.ok(buf.length < JSON.stringify(e).length / 5);
  assert.deepEqual(decodeEntry(buf), e);
  const small = encodeEntry({ ...e, v: 'tiny' });
  assert.equal(small[0], 0, 'stored raw below 1 KiB');
  await c.close();
});

test('after an invalidation without a position (the change feed), entries with its tags are not stored for the settle window', async () => {
  const r = cacheRedis(redis.url);
  await ready(r);
  const c = new QueryCache({ l1MaxBytes: 1 << 20, redis: r, namespace: 'settle', dbSettleMs: 400 });
  const x = counter('x', 'article:5');
  assert.equal(await c.get(x.lookup), 1);
  assert.equal(await c.get(x.lookup), 1, 'cached');
  await c.invalidate(['article:5'], 'db');
  assert.equal(await c.get(x.lookup), 2, 'reloaded');
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(await c.get(x.lookup), 3, 'within the window (a replica may lag): served, not stored in L1 or L2');
  await new Promise((res) => setTimeout(res, 450));
  assert.equal(await c.get(x.lookup), 4);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(await c.get(x.lookup), 4, 'stored again after the window');
  // A write's invalidation carries its commit position: no window.
  await c.invalidate(['article:5'], 'write', '0/1');
  assert.equal(await c.get(x.lookup), 5);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(await c.get(x.lookup), 5);
  await c.close();
});
