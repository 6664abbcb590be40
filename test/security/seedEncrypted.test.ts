// `pgpress seed` writes users as the application does: no clear email, each email sealed under the
// CLI's key ring (bound to its row id) with its blind index, readable through the store, and
// nothing left for `keys rotate`; the identity sequence stays ahead of the copied ids.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import pg from 'pg';
import { emailIndex } from '../../src/security/blindIndex.ts';
import { open } from '../../src/security/crypto.ts';
import { KeyRing } from '../../src/security/keyRing.ts';
import { createStore } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const run = promisify(execFile);
const key = randomBytes(32);
const blind = randomBytes(32);
const ring = new KeyRing([['seedk', key]], blind);

const db = await testDatabase();
const admin = new pg.Client({ connectionString: db.url });
admin.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await admin.connect();
const store = await createStore({ url: db.appUrl, pool: { max: 2 }, keys: ring });
after(async () => {
  await admin.end();
  await store.cluster.close();
});

test('pgpress seed seals every email under the key ring: none in clear, each opens and matches its blind index, keys rotate finds nothing to do', async () => {
  const env = { ...process.env, DATABASE_URL: db.url, ENCRYPTION_KEYS: `seedk:${key.toString('base64')}`, BLIND_INDEX_KEY: blind.toString('base64'), LOG_LEVEL: 'silent' };
  const seeded = await run(process.execPath, ['bin/pgpress.js', 'seed', '--scale', '1'], { env });
  assert.match(seeded.stdout, /Seeded 100 users/);

  const clear = Number((await admin.query('SELECT count(*) AS n FROM users WHERE email IS NOT NULL')).rows[0].n);
  assert.equal(clear, 0, `${clear} seeded users have their email in clear`);
  const { rows } = await admin.query<{ id: string; username: string; email_ciphertext: Buffer; email_key_id: string; email_index: Buffer }>(
    'SELECT id, username, email_ciphertext, email_key_id, email_index FROM users ORDER BY id');
  assert.equal(rows.length, 100);
  for (const r of rows) {
    assert.equal(r.email_key_id, 'seedk');
    const email = open(ring, 'users', 'email', r.id, { ciphertext: r.email_ciphertext, keyId: r.email_key_id });
    assert.equal(email, `${r.username}@example.com`);
    assert.ok(emailIndex(ring, email).equals(r.email_index), `user ${r.id}: blind index matches`);
  }
  for (const r of [rows[0]!, rows[57]!, rows[99]!]) assert.equal((await store.users.get(Number(r.id))).email, `${r.username}@example.com`);

  // The identity sequence is past the copied ids: the application's next sign-up does not collide.
  const made = await store.users.create({ email: 'after-seed@example.com', username: 'after_seed', displayName: 'After' });
  assert.ok(made.id > Number(rows[99]!.id));

  const rotated = await run(process.execPath, ['bin/pgpress.js', 'keys', 'rotate'], { env: { ...env, DATABASE_URL: db.ownerUrl } });
  assert.match(rotated.stdout, /^0 rows sealed under seedk .*left: 0 in clear, 0 under other keys/m);
});
