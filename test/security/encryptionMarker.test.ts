// The marker test: an email written through the API is nowhere in clear — not in the table's files
// (heap, TOAST, indexes), pg_dump's output, the WAL, the server's or the app's logs, Redis, or the
// audit log — while the username written beside it (not encrypted) IS found in each place the row
// is stored, which proves every search looks where the data really is.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { KeyRing } from '../../src/security/keyRing.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { bindir, startCluster, type TestCluster } from '../harness/pgCluster.ts';
import { roleUrl } from '../harness/roleUrl.ts';
import { REDIS_URL } from '../harness/services.ts';

const run = promisify(execFile);
const MARKER = `marker-${randomBytes(6).toString('hex')}@example.org`;
const USERNAME = `visible_${randomBytes(4).toString('hex')}`;
const NAMESPACE = `enc-${randomBytes(5).toString('hex')}`;
// What would betray the email: its text, and its text hex-encoded (bytea output, WAL dumps).
const FORMS = [Buffer.from(MARKER), Buffer.from(MARKER.toUpperCase()), Buffer.from(Buffer.from(MARKER).toString('hex'))];

let pgc: TestCluster;
let store: Store;
let redis: Redis;
const logs = captureLogs();

before(async () => {
  // Statements logged with their parameters; WAL uncompressed, so a clear value would be readable in it.
  pgc = await startCluster({ settings: { log_statement: 'all', wal_compression: 'off' } });
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const keys = new KeyRing([['k1', randomBytes(32)]], randomBytes(32));
  store = await createStore({ url: roleUrl(pgc.primary.url, 'app'), pool: { max: 2 }, keys, cache: { l1MaxBytes: 1 << 20, redis, namespace: NAMESPACE } });
});

after(async () => {
  await store?.close();
  if (redis) {
    for (const k of await redisKeys()) await redis.del(k);
    redis.disconnect();
  }
  await pgc?.destroy();
});

async function redisKeys(): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${NAMESPACE}*`, 'COUNT', 500);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

function holds(haystack: Buffer, needle: Buffer): boolean {
  return haystack.indexOf(needle) >= 0;
}

// Every place found is listed at the end, not only the first.
const leaks: string[] = [];
function assertNoMarker(where: string, data: Buffer): void {
  for (const f of FORMS) if (holds(data, f)) leaks.push(`${where} holds the email in clear (${f.length === MARKER.length ? 'text' : 'hex'})`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

test('an email written through the API is absent in clear from table files, pg_dump, WAL, logs, Redis and the audit log', async () => {
  const db = pgc.primary;
  const startLsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const app = await buildApp({ store, tokens, logger: createLogger('trace', logs.stream), rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const created = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: MARKER, username: USERNAME, displayName: 'Marker', bio: 'a bio long enough '.repeat(100) } });
    assert.equal(created.statusCode, 201, created.body);
    const id = (created.json() as { id: number }).id;
    const auth = { authorization: `Bearer ${tokens.sign({ userId: id, role: 'author' })}` };
    // Read twice (the second from the cache), changed, read again: the owner sees the email open.
    for (let i = 0; i < 2; i++) assert.equal((await app.inject({ method: 'GET', url: `/v1/users/${id}`, headers: auth })).json().email, MARKER);
    assert.equal((await app.inject({ method: 'PATCH', url: `/v1/users/${id}`, headers: auth, payload: { bio: 'changed' } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: `/v1/users/${id}`, headers: auth })).json().email, MARKER);
    const endLsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;

    // Table files: heap, TOAST, every index of users, and the rest of the database's files.
    await db.query('CHECKPOINT');
    const dboid = (await db.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = current_database()'))[0]!.oid;
    const rels = await db.query<{ path: string; name: string }>(
      `SELECT pg_relation_filepath(c.oid) AS path, c.relname AS name FROM pg_class c
       WHERE c.oid = 'users'::regclass OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'users'::regclass)
          OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'users'::regclass)`);
    assert.ok(rels.length >= 5, `users, its TOAST table and indexes: ${rels.map((r) => r.name).join(', ')}`);
    const heap = readFileSync(join(db.dataDir, rels.find((r) => r.name === 'users')!.path));
    assert.ok(holds(heap, Buffer.from(USERNAME)), 'control: the users heap file holds the (clear) username');
    for (const r of rels) assertNoMarker(`relation file of ${r.name} (${r.path})`, readFileSync(join(db.dataDir, r.path)));
    for (const f of filesUnder(join(db.dataDir, 'base', String(dboid)))) assertNoMarker(`database file ${f}`, readFileSync(f));

    // pg_dump of the whole database.
    const dump = (await run(join(bindir(), 'pg_dump'), ['--dbname', db.url], { maxBuffer: 256 << 20, encoding: 'buffer' })).stdout;
    assert.ok(holds(dump, Buffer.from(USERNAME)), 'control: pg_dump output holds the username');
    assertNoMarker('pg_dump output', dump);

    // WAL: pg_waldump shows the users INSERT in the range; the raw segments hold no clear email.
    const relfile = (await db.query<{ f: string }>("SELECT pg_relation_filenode('users')::text AS f"))[0]!.f;
    const waldump = (await run(join(bindir(), 'pg_waldump'), ['-p', join(db.dataDir, 'pg_wal'), '-s', startLsn, '-e', endLsn], { maxBuffer: 256 << 20 })).stdout;
    assert.match(waldump, new RegExp(`desc: INSERT.*rel \\d+/${dboid}/${relfile}|rel \\d+/${dboid}/${relfile}.*INSERT`), 'pg_waldump shows the users INSERT between the two positions');
    assertNoMarker('pg_waldump output', Buffer.from(waldump));
    const segments = filesUnder(join(db.dataDir, 'pg_wal')).filter((f) => /\/[0-9A-F]{24}$/.test(f));
    const wal = Buffer.concat(segments.map((f) => readFileSync(f)));
    assert.ok(holds(wal, Buffer.from(USERNAME)), 'control: the WAL segments hold the username');
    assertNoMarker('WAL segments', wal);

    // Logs: the server's (every statement and its parameters) and the app's.
    const serverLog = readFileSync(db.logFile);
    assert.ok(holds(serverLog, Buffer.from(USERNAME)), 'control: the server log holds the statements with their parameters');
    assertNoMarker('server log', serverLog);
    assert.ok(logs.lines().length > 0, 'control: the app logged the requests');
    assertNoMarker('app log', Buffer.from(JSON.stringify(logs.lines())));

    // Redis: every key of this namespace, read (GET) and dumped (DUMP: any type).
    const keys = await redisKeys();
    assert.ok(keys.some((k) => k.includes(`u:${id}`)), `control: the user's profile is cached in Redis (${keys.join(', ')})`);
    for (const k of keys) {
      const type = await redis.type(k);
      if (type === 'string') assertNoMarker(`Redis key ${k}`, (await redis.getBuffer(k))!);
      const dumped = await redis.dumpBuffer(k);
      if (dumped) assertNoMarker(`Redis DUMP of ${k}`, dumped);
    }

    assert.deepEqual(leaks, [], 'the email is nowhere in clear');
    // The row is stored sealed, and the clear column is empty.
    const [row] = await db.query<{ email: string | null; key: string; ct: Buffer }>('SELECT email, email_key_id AS key, email_ciphertext AS ct FROM users WHERE id = $1', [id]);
    assert.deepEqual([row!.email, row!.key, row!.ct.length], [null, 'k1', 12 + MARKER.length + 16]);

    // Audit log: the entries of this user exist and record the email columns as keyed hashes.
    const audit = await db.query<{ t: string; op: string; new: Record<string, unknown> | null }>("SELECT a::text AS t, a.operation AS op, a.new_row AS new FROM audit_log a WHERE table_name = 'users' AND row_id = $1", [String(id)]);
    assert.ok(audit.length >= 2, `the insert and the update are audited (${audit.length})`);
    for (const a of audit) assertNoMarker('audit_log row', Buffer.from(a.t));
    const inserted = audit.find((a) => a.op === 'INSERT');
    assert.ok(inserted?.new, `the insert is audited: ${audit.map((a) => a.t).join('\n')}`);
    assert.match(String(inserted.new!.email_ciphertext), /^hmac:[0-9a-f]{64}$/, 'the ciphertext is recorded as a keyed hash');
    assert.match(String(inserted.new!.email_index), /^hmac:[0-9a-f]{64}$/, 'the blind index is recorded as a keyed hash');
  } finally {
    await app.close();
  }
});
