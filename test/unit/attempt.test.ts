// Where an attempt failed decides retry and "outcome unknown": an open circuit is 'before'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptFailure, unwrapAttempt } from '../../src/db/attempt.ts';
import { outcomeUnknown } from '../../src/db/retryPolicy.ts';
import { PgpressError } from '../../src/errors/index.ts';

test('an open circuit unwraps as before: a write it stopped was never sent', () => {
  const open = new PgpressError('PGP_CIRCUIT_OPEN', 'open');
  const u = unwrapAttempt(open);
  assert.equal(u.stage, 'before');
  assert.equal(u.error, open);
  assert.equal(outcomeUnknown('write', u.stage, u.error), false);
});

test('a marked failure keeps its stage; an unmarked one is during (the cautious answer)', () => {
  const broken = Object.assign(new Error('Connection terminated unexpectedly'), {});
  assert.deepEqual(unwrapAttempt(new AttemptFailure('commit', broken)), { stage: 'commit', error: broken });
  assert.equal(unwrapAttempt(broken).stage, 'during');
  assert.equal(outcomeUnknown('write', 'during', broken), true);
});
