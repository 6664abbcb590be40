// /readyz is cheap: it answers from a health snapshot, so a crowd of probes costs the database
// no more than one check per READYZ_CACHE_MS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { freePort } from '../harness/freePort.ts';
import { ADMIN_URL } from '../harness/services.ts';
import { testApp } from '../harness/testApp.ts';

const CACHE_MS = 1_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Transactions the server has counted in one database (from another database, so this adds none). */
async function xacts(admin: pg.Client, db: string): Promise<number> {
  // Backends publish their counts when idle, at most once a second: wait for it first.
  await sleep(1_500);
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ n: string }>('SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = $1', [db]);
  return Number(rows[0]!.n);
}

test('200 concurrent /readyz cost at most two health checks of database work', async (t) => {
  const { app, url } = await testApp({ readyzCacheMs: CACHE_MS });
  const db = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    assert.equal((await app.inject('/readyz')).statusCode, 200); // warm the pool
    await sleep(CACHE_MS + 100);
    // One check, as the unit of cost.
    let before = await xacts(admin, db);
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    const perCheck = (await xacts(admin, db)) - before;
    assert.ok(perCheck >= 1, 'a check reaches the database');
    await sleep(CACHE_MS + 100);
    before = await xacts(admin, db);
    const codes = await Promise.all(Array.from({ length: 200 }, () => app.inject('/readyz').then((r) => r.statusCode)));
    const spent = (await xacts(admin, db)) - before;
    assert.deepEqual(new Set(codes), new Set([200]));
    t.diagnostic(`200 concurrent probes: ${spent} transactions; one check: ${perCheck}`);
    assert.ok(spent <= 2 * perCheck, `200 probes cost ${spent} transactions; one check costs ${perCheck}`);
  } finally {
    await admin.end();
  }
});

test('a crowd of probes while not ready logs "not ready" once per snapshot, not once per probe', async () => {
  const port = await freePort();
  const store = await createStore({ url: `postgres://postgres@127.0.0.1:${port}/none`, pool: { max: 2, acquireTimeoutMs: 500 } });
  const logs = captureLogs();
  const app = await buildApp({ store, tokens: tokenService(randomBytes(32).toString('hex')), logger: createLogger('warn', logs.stream), readyzCacheMs: 60_000, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const codes = await Promise.all(Array.from({ length: 50 }, () => app.inject('/readyz').then((r) => r.statusCode)));
    assert.deepEqual(new Set(codes), new Set([503]));
    assert.equal(logs.lines().filter((l) => l.msg === 'not ready').length, 1);
  } finally {
    await app.close();
    await store.close();
  }
});
