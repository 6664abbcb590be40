// `pgpress keys rotate`: clear rows from before 0090 and rows under an older key end up sealed under
// the current key, in batches; a run killed or stopped part-way leaves every row readable and the
// next run finishes; a row a writer holds is skipped and reported, not waited for.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import pg from 'pg';
import { rotateUserEmailKeys } from '../../src/content/users/rotateKeys.ts';
import { Cluster } from '../../src/db/cluster.ts';
import { KeyRing } from '../../src/security/keyRing.ts';
import { createStore } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const blind = randomBytes(32);
const ringA = new KeyRing([['a', keyA]], blind);
const ringB = new KeyRing([['b', keyB], ['a', keyA]], blind);
const ENV_B = `b:${keyB.toString('base64')},a:${keyA.toString('base64')}`;

const db = await testDatabase();
const admin = new pg.Client({ connectionString: db.url });
admin.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await admin.connect();
const storeA = await createStore({ url: db.appUrl, pool: { max: 2 }, keys: ringA });
const storeB = await createStore({ url: db.appUrl, pool: { max: 2 }, keys: ringB });
const owner = new Cluster({ url: db.ownerUrl, max: 1 });
after(async () => {
  await admin.end();
  await storeA.cluster.close();
  await storeB.cluster.close();
  await owner.close();
});

// 40 rows as an installation before 0090 has them (clear email), 40 written by the app under key a.
await admin.query(`INSERT INTO users (email, username, display_name) SELECT 'old' || g || '@example.com', 'old_' || g, 'Old' FROM generate_series(1, 40) g`);
const made: Array<{ id: number; email: string }> = [];
for (let i = 0; i < 40; i++) made.push(await storeA.users.create({ email: `new${i}@example.com`, username: `new_${i}`, displayName: 'New' }));
const expected = new Map<number, string>();
for (const r of (await admin.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE email IS NOT NULL')).rows) expected.set(Number(r.id), r.email);
for (const u of made) expected.set(u.id, u.email);

async function state(): Promise<{ clear: number; a: number; b: number }> {
  const { rows } = await admin.query<{ clear: string; a: string; b: string }>(
    `SELECT count(*) FILTER (WHERE email IS NOT NULL) AS clear, count(*) FILTER (WHERE email IS NULL AND email_key_id = 'a') AS a,
            count(*) FILTER (WHERE email IS NULL AND email_key_id = 'b') AS b FROM users`);
  return { clear: Number(rows[0]!.clear), a: Number(rows[0]!.a), b: Number(rows[0]!.b) };
}

async function everyRowReads(): Promise<void> {
  for (const [id, email] of expected) assert.equal((await storeB.users.get(id)).email, email, `user ${id} reads back its email`);
}

test('a rotation killed after its first batches leaves every row readable, and the next run seals all under the new key', async () => {
  assert.deepEqual(await state(), { clear: 40, a: 40, b: 0 });
  // The CLI, as an operator runs it, killed (SIGKILL) once it has reported two batches.
  const env = { ...process.env, DATABASE_URL: db.ownerUrl, ENCRYPTION_KEYS: ENV_B, BLIND_INDEX_KEY: blind.toString('base64'), LOG_LEVEL: 'silent' };
  const child = spawn(process.execPath, ['bin/pgpress.js', 'keys', 'rotate', '--batch-rows', '7'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/batch 2:/.test(out)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`keys rotate exited before its second batch: ${out}${err}`)));
  });
  await exited;
  const mid = await state();
  assert.ok(mid.b >= 14 && mid.b < 80, `part-way: ${JSON.stringify(mid)}`);
  assert.equal(mid.clear + mid.a + mid.b, 80);
  await everyRowReads();

  // A library run stopped after one more batch (a second interruption), then one to the end.
  const stopped = await rotateUserEmailKeys(owner, ringB, { batchRows: 7, maxBatches: 1 });
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.rewritten, 7);
  await everyRowReads();
  const done = await rotateUserEmailKeys(owner, ringB, { batchRows: 7 });
  assert.deepEqual({ stopped: done.stopped, clear: done.remainingClear, other: done.remainingOtherKey }, { stopped: false, clear: 0, other: 0 });
  assert.deepEqual(await state(), { clear: 0, a: 0, b: 80 });
  await everyRowReads();
  // The old clear rows now have a blind index: signing up with one of their emails is a conflict.
  await assert.rejects(storeB.users.create({ email: 'OLD1@example.com', username: 'again', displayName: 'Again' }), (e: { code?: string }) => e.code === 'PGP_CONFLICT');
});

test('a row a writer holds is skipped and reported as left, and the next run seals it', async () => {
  const u = await storeA.users.create({ email: 'held@example.com', username: 'held', displayName: 'Held' });
  expected.set(u.id, u.email);
  const holder = new pg.Client({ connectionString: db.url });
  holder.on('error', () => undefined);
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [u.id]);
    const r = await rotateUserEmailKeys(owner, ringB, { batchRows: 7 });
    assert.equal(r.remainingOtherKey, 1, 'the held row is left and counted');
    await holder.query('COMMIT');
  } finally {
    await holder.end();
  }
  const r2 = await rotateUserEmailKeys(owner, ringB, { batchRows: 7 });
  assert.equal(r2.rewritten, 1);
  assert.deepEqual(await state(), { clear: 0, a: 0, b: 81 });
  await everyRowReads();
});
