// What the shipped scenarios need beyond the database, and the errors when it is missing: PostgreSQL's
// server programs (replicas, tune: PGP_TOOL_MISSING naming the Debian package), HypoPG (tune: its
// package), Redis (cache: PGP_SERVICE_MISSING, checked before anything is made).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { findBindir } from '../../src/bench/clusters.ts';
import { assertHypopgAvailable, hypopgMissing } from '../../src/bench/hypopg.ts';
import { assertRedisAnswers } from '../../src/bench/redisCheck.ts';
import { freePort } from '../../src/db/freePort.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { ADMIN_URL, REDIS_URL } from '../harness/services.ts';

test('the server programs are found on this machine, and a PG_BINDIR without them fails naming the package to install', () => {
  assert.match(findBindir({}), /bin\/?$/);
  assert.throws(() => findBindir({ PG_BINDIR: '/nonexistent/bin' }), (e) => {
    assert.ok(isPgpressError(e) && e.code === 'PGP_TOOL_MISSING', String(e));
    assert.match(e.message, /initdb, pg_ctl, postgres\) are not installed \(looked in PG_BINDIR=\/nonexistent\/bin\).*apt-get install postgresql-15/);
    return true;
  });
});

test('HypoPG: available on the test server; missing, the error names the Debian package', async () => {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await assertHypopgAvailable(async (sql) => (await c.query<{ v: string; hypopg: boolean }>(sql)).rows);
  } finally {
    await c.end();
  }
  const e = hypopgMissing(15);
  assert.equal(e.code, 'PGP_TOOL_MISSING');
  assert.match(e.message, /apt-get install postgresql-15-hypopg/);
});

test('Redis: a running one passes; one that does not answer fails at once with PGP_SERVICE_MISSING and no password shown', async () => {
  await assertRedisAnswers(REDIS_URL, 'the cache scenario');
  const port = await freePort();
  const t0 = Date.now();
  await assert.rejects(assertRedisAnswers(`redis://:s3cret@127.0.0.1:${port}`, 'the cache scenario'), (e) => {
    assert.ok(isPgpressError(e) && e.code === 'PGP_SERVICE_MISSING', String(e));
    assert.match(e.message, new RegExp(`^Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} does not answer \\(.*ECONNREFUSED.*\\); the cache scenario needs it\\. Start Redis`));
    assert.doesNotMatch(e.message, /s3cret/);
    return true;
  });
  assert.ok(Date.now() - t0 < 5_000, 'no retry loop');
});
