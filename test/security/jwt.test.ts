// Bearer tokens an attacker can make are refused with 401 PGP_UNAUTHORIZED: no signature
// (`alg: none`), another algorithm than HS256 (RS/HS confusion, HS384/512 under the same secret),
// a tampered payload or signature, an expired token, another issuer, missing claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { tokenService } from '../../src/security/tokens.ts';
import { testApp } from '../harness/testApp.ts';

const SECRET = 'jwt-suite-secret-'.padEnd(48, 'x');
const tokens = tokenService(SECRET);
const { app, store } = await testApp({ tokens });
const alice = await store.users.create({ email: 'jwt-alice@example.com', username: 'jwtalice', displayName: 'Alice' });

const b64 = (v: object | Buffer): string => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ sub: String(alice.id), role: 'admin', iss: 'pgpress', exp: Math.floor(Date.now() / 1000) + 600, ...extra });
const hmac = (alg: 'sha256' | 'sha384' | 'sha512', key: string | Buffer, input: string): string => createHmac(alg, key).update(input).digest('base64url');
function hs(header: object, payload: object, alg: 'sha256' | 'sha384' | 'sha512' = 'sha256', key: string | Buffer = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${hmac(alg, key, input)}`;
}

async function write(token: string): Promise<{ status: number; code?: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: `Bearer ${token}` }, payload: { title: 'jwt probe' } });
  return { status: res.statusCode, code: res.json().code };
}

test('a token made exactly like ours is accepted (the refusals below are about what changed)', async () => {
  assert.equal((await write(hs({ alg: 'HS256', typ: 'JWT' }, claims()))).status, 201);
  assert.equal((await write(tokens.sign({ userId: alice.id, role: 'admin' }))).status, 201);
});

test('refused: alg none, other algorithms, RS/HS key confusion', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const rsInput = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims())}`;
  const cases: Record<string, string> = {
    'alg none, no signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`,
    'alg NoNe': `${b64({ alg: 'NoNe', typ: 'JWT' })}.${b64(claims())}.`,
    'alg none with our HMAC kept': `${b64({ alg: 'none' })}.${b64(claims())}.${hmac('sha256', SECRET, `${b64({ alg: 'none' })}.${b64(claims())}`)}`,
    'RS256 signed by an attacker key': `${rsInput}.${rsaSign('sha256', Buffer.from(rsInput), privateKey).toString('base64url')}`,
    'RS256 header over our HS256 signature': `${rsInput}.${hmac('sha256', SECRET, rsInput)}`,
    'HS256 keyed with an RSA public key (confusion)': hs({ alg: 'HS256', typ: 'JWT' }, claims(), 'sha256', pem),
    'HS384 under our secret': hs({ alg: 'HS384', typ: 'JWT' }, claims(), 'sha384'),
    'HS512 under our secret': hs({ alg: 'HS512', typ: 'JWT' }, claims(), 'sha512'),
  };
  for (const [what, token] of Object.entries(cases)) {
    assert.deepEqual(await write(token), { status: 401, code: 'PGP_UNAUTHORIZED' }, what);
  }
});

test('refused: tampered payload or signature, expired, not yet valid, wrong issuer, missing claims', async () => {
  const good = hs({ alg: 'HS256', typ: 'JWT' }, claims({ role: 'author' }));
  const [h, , s] = good.split('.');
  const flipped = s!.slice(0, -2) + (s!.at(-2) === 'A' ? 'B' : 'A') + s!.at(-1);
  const now = Math.floor(Date.now() / 1000);
  const cases: Record<string, string> = {
    'payload raised to admin, signature kept': `${h}.${b64(claims({ role: 'admin' }))}.${s}`,
    'signature changed': `${h}.${good.split('.')[1]}.${flipped}`,
    'signature removed': `${h}.${good.split('.')[1]}.`,
    expired: hs({ alg: 'HS256' }, claims({ exp: now - 5 })),
    'not before in the future': hs({ alg: 'HS256' }, claims({ nbf: now + 3600 })),
    'another issuer': hs({ alg: 'HS256' }, claims({ iss: 'evil' })),
    'no issuer': hs({ alg: 'HS256' }, { sub: String(alice.id), role: 'admin', exp: now + 600 }),
    'no exp': hs({ alg: 'HS256' }, { sub: String(alice.id), role: 'admin', iss: 'pgpress' }),
    'no sub': hs({ alg: 'HS256' }, { role: 'admin', iss: 'pgpress', exp: now + 600 }),
    'unknown role': hs({ alg: 'HS256' }, claims({ role: 'root' })),
    'sub not a user id': hs({ alg: 'HS256' }, claims({ sub: '1 OR 1=1' })),
    'two segments only': `${h}.${b64(claims())}`,
    'not base64': 'a.b.c',
  };
  for (const [what, token] of Object.entries(cases)) {
    assert.deepEqual(await write(token), { status: 401, code: 'PGP_UNAUTHORIZED' }, what);
  }
});
