import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { resolveJwtSecret } from '../../src/security/jwtSecret.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { testApp } from '../harness/testApp.ts';

const { app, bearer, store } = await testApp();
const alice = await store.users.create({ email: 'alice@example.com', username: 'alice', displayName: 'Alice' });
const bob = await store.users.create({ email: 'bob@example.com', username: 'bob', displayName: 'Bob' });

const post = (authorization: string | undefined, payload: object) =>
  app.inject({ method: 'POST', url: '/v1/articles', headers: authorization ? { authorization } : {}, payload });

test('writes without a valid token are 401; reads are public', async () => {
  const none = await post(undefined, { title: 'x' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="pgpress"', 'a 401 names the scheme it wants (RFC 6750)');
  assert.equal(none.json().code, 'PGP_UNAUTHORIZED');
  assert.equal((await post('Bearer not.a.token', { title: 'x' })).statusCode, 401);
  assert.equal((await post('Basic YWxpY2U6cHc=', { title: 'x' })).statusCode, 401);

  const forged = createSigner({ key: 'x'.repeat(40), algorithm: 'HS256', iss: 'pgpress' })({ sub: String(alice.id), role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 });
  assert.equal((await post(`Bearer ${forged}`, { title: 'x' })).statusCode, 401, 'a token signed with another secret');

  const ok = await post(bearer(alice.id), { title: 'Public once written', status: 'published' });
  assert.equal(ok.statusCode, 201);
  assert.equal(ok.json().authorId, alice.id);
  assert.equal((await app.inject(`/v1/articles/${ok.json().id}`)).statusCode, 200);
});

test('an expired token is refused with a message saying so', async () => {
  const tokens = tokenService('k'.repeat(40));
  const expired = createSigner({ key: 'k'.repeat(40), algorithm: 'HS256', iss: 'pgpress' })({ sub: '1', role: 'author', exp: Math.floor(Date.now() / 1000) - 10 });
  assert.throws(() => tokens.verify(expired), /has expired/);
  assert.throws(() => tokens.verify(createSigner({ key: 'k'.repeat(40), algorithm: 'HS256', iss: 'pgpress' })({ sub: 'x', role: 'author', exp: 9999999999 })), /does not name a user/);
});

test('authors write only as themselves; editors and admins on behalf of others', async () => {
  const asOther = await post(bearer(alice.id, 'author'), { authorId: bob.id, title: 'Not mine' });
  assert.equal(asOther.statusCode, 403);
  assert.equal(asOther.json().code, 'PGP_FORBIDDEN');
  for (const role of ['editor', 'admin'] as const) {
    const res = await post(bearer(alice.id, role), { authorId: bob.id, title: `By ${role}` });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().authorId, bob.id);
  }
});

test('`pgpress token` mints a token the server accepts, with a generated secret kept in the data dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-token-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, PGPRESS_DATA_DIR: dir };
    delete env.JWT_SECRET;
    const token = execFileSync(process.execPath, ['bin/pgpress.js', 'token', '--user', '42', '--role', 'editor'], { env, encoding: 'utf8' }).trim();
    const secret = resolveJwtSecret(undefined, dir);
    assert.equal(statSync(join(dir, 'jwt-secret')).mode & 0o777, 0o600);
    assert.deepEqual(tokenService(secret).verify(token), { userId: 42, role: 'editor' });
    assert.throws(() => execFileSync(process.execPath, ['bin/pgpress.js', 'token', '--user', '42', '--role', 'root'], { env, stdio: 'pipe' }), /--role must be one of author, editor, admin/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
