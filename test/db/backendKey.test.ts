// The fields node-postgres keeps but does not type (src/db/backendKey.ts), read from a real
// connection: if a pg upgrade moves them, this fails instead of cancels silently doing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { backendKey } from '../../src/db/backendKey.ts';
import { sendCancel } from '../../src/db/cancel.ts';
import { ADMIN_URL } from '../harness/services.ts';

test('backendKey reads the backend pid, secret key, host and port pg keeps on a connected client', async () => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  assert.equal(backendKey(client), undefined, 'no key before the server sent one');
  await client.connect();
  try {
    const key = backendKey(client);
    assert.ok(key, 'pg still keeps processID and secretKey as numbers on the client');
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    assert.equal(key.processID, rows[0]!.pid);
    assert.ok(Number.isInteger(key.secretKey));
    const url = new URL(ADMIN_URL);
    assert.equal(key.host, url.hostname);
    assert.equal(key.port, Number(url.port || 5432));
  } finally {
    await client.end();
  }
});

test('sendCancel, built on that key, cancels a running statement', async () => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const t0 = Date.now();
    const sleeping = client.query('SELECT pg_sleep(10)').then(
      () => 'finished',
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await sendCancel(client as pg.PoolClient), true, 'the server took the cancel request');
    assert.equal(await sleeping, '57014', 'the statement was cancelled (query_canceled)');
    assert.ok(Date.now() - t0 < 5_000, 'long before the sleep would have ended');
  } finally {
    await client.end();
  }
});
