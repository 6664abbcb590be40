// The retry table, the safe-to-retry rule and the retry budget (pure: no database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgpressError } from '../../src/errors/index.ts';
import { RetryBudget } from '../../src/db/retryBudget.ts';
import { mayRetry, outcomeUnknown, retryRule } from '../../src/db/retryPolicy.ts';
import { formatLsn, maxLsn, parseLsn } from '../../src/db/lsn.ts';

const pgError = (code: string): Error => Object.assign(new Error(code), { code, severity: 'ERROR' });

test('the table retries connection failures, contention and a standby\'s refusal, nothing else', () => {
  for (const s of ['08006', '08001', '57P01', '57P03', '53300']) assert.equal(retryRule(pgError(s))?.kind, 'connection', s);
  for (const s of ['40001', '40P01']) assert.equal(retryRule(pgError(s))?.kind, 'contention', s);
  for (const s of ['23505', '42601', '57014', '22P02']) assert.equal(retryRule(pgError(s)), undefined, s);
  // A standby refused the write (after a failover): nothing was written, retried once the primary is found.
  assert.equal(retryRule(pgError('25006'))?.kind, 'notPrimary');
  assert.equal(retryRule(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))?.kind, 'connection');
  assert.equal(retryRule(new PgpressError('PGP_DB_UNAVAILABLE', 'x', { pg: { sqlstate: '08001' } }))?.kind, 'connection');
  assert.equal(retryRule(new Error('plain')), undefined);
});

test('a statement that may have run is never re-sent; a transaction is re-run unless COMMIT is in doubt', () => {
  const conn = retryRule(pgError('08006'))!;
  const cont = retryRule(pgError('40001'))!;
  assert.equal(mayRetry('read', 'during', conn), true);
  assert.equal(mayRetry('write', 'before', conn), true);
  assert.equal(mayRetry('write', 'during', conn), false);
  assert.equal(mayRetry('write', 'during', cont), true);
  assert.equal(mayRetry('tx', 'during', conn), true);
  assert.equal(mayRetry('tx', 'commit', conn), false);
  assert.equal(mayRetry('tx', 'commit', cont), true);
  assert.equal(outcomeUnknown('tx', 'commit', pgError('08006')), true);
  assert.equal(outcomeUnknown('tx', 'during', pgError('08006')), false);
  assert.equal(outcomeUnknown('write', 'during', pgError('57P01')), true);
  assert.equal(outcomeUnknown('write', 'before', pgError('08001')), false);
  assert.equal(outcomeUnknown('read', 'during', pgError('08006')), false);
  assert.equal(outcomeUnknown('tx', 'commit', pgError('40001')), false);
});

test('the retry budget allows a share of recent requests plus a floor, and refills as the window slides', () => {
  let now = 0;
  const b = new RetryBudget({ ratio: 0.1, minPerWindow: 2, windowMs: 1_000 }, () => now);
  for (let i = 0; i < 100; i++) b.recordRequest();
  let granted = 0;
  for (let i = 0; i < 50; i++) if (b.tryRetry()) granted++;
  assert.equal(granted, 12); // 2 + 10 % of 100
  now += 2_000; // the window has passed
  granted = 0;
  for (let i = 0; i < 50; i++) if (b.tryRetry()) granted++;
  assert.equal(granted, 2);
});

test('LSN tokens parse, compare and format like pg_lsn', () => {
  assert.equal(parseLsn('0/16B3748'), 0x16b3748n);
  assert.equal(parseLsn('1/0') > parseLsn('0/FFFFFFFF'), true);
  assert.equal(formatLsn(parseLsn('16/B374D848')), '16/B374D848');
  assert.equal(maxLsn('0/10', '0/9'), '0/10');
  assert.equal(maxLsn(undefined, '0/9'), '0/9');
  assert.throws(() => parseLsn('nope'), TypeError);
});
