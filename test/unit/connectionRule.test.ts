// The one "discard this connection?" rule, without a database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mustDiscard } from '../../src/db/connectionRule.ts';
import { PgpressError } from '../../src/errors/index.ts';

/** An error shaped like node-postgres's DatabaseError (a server answer with a SQLSTATE). */
function serverError(code: string): Error {
  return Object.assign(new Error(`server said ${code}`), { code, severity: 'ERROR' });
}

test('an expired lease is always discarded', () => {
  assert.equal(mustDiscard(true, undefined), true);
  assert.equal(mustDiscard(true, serverError('23505')), true);
});

test('a server error keeps the connection; a connection-class one does not', () => {
  assert.equal(mustDiscard(false, serverError('23505')), false); // unique_violation
  assert.equal(mustDiscard(false, serverError('40001')), false); // serialization_failure
  assert.equal(mustDiscard(false, serverError('57014')), false); // query_canceled
  assert.equal(mustDiscard(false, serverError('57P01')), true); // admin_shutdown
  assert.equal(mustDiscard(false, serverError('08006')), true);
});

test('a failure with no server answer discards; the caller\'s own error does not', () => {
  assert.equal(mustDiscard(false, new Error('Connection terminated unexpectedly')), true);
  assert.equal(mustDiscard(false, new TypeError('driver lost the protocol state')), true);
  assert.equal(mustDiscard(false, new PgpressError('PGP_DB_UNAVAILABLE', 'x', { pg: { sqlstate: '08001' } })), true);
  assert.equal(mustDiscard(false, undefined), false);
});
