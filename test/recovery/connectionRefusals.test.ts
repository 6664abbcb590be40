// node-postgres refuses a statement on a client whose connection already failed with an error that
// carries no SQLSTATE. It is a connection failure like the socket's own (found by the crash set
// check: it used to be answered 500 PGP_INTERNAL and never retried).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromPgError, sqlstateOf } from '../../src/errors/index.ts';
import { outcomeUnknown, retryRule } from '../../src/db/retryPolicy.ts';

const refusals = ['Client has encountered a connection error and is not queryable', 'Client was closed and is not queryable'];

for (const message of refusals) {
  test(`"${message}" is a connection failure: 503 PGP_DB_UNAVAILABLE, retried by the connection rule`, () => {
    const e = new Error(message);
    assert.equal(sqlstateOf(e), '08006');
    assert.equal(fromPgError(e).code, 'PGP_DB_UNAVAILABLE');
    assert.equal(retryRule(e)?.kind, 'connection');
    // At COMMIT the write is still reported in doubt (the cautious answer).
    assert.equal(outcomeUnknown('tx', 'commit', e), true);
  });
}
