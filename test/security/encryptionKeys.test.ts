// The key ring and the field cipher without a database: formats, what is never printed, and what
// makes a ciphertext fail to open.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSettings } from '../../src/config/settings.ts';
import { emailIndex } from '../../src/security/blindIndex.ts';
import { open, seal } from '../../src/security/crypto.ts';
import { KeyRing, parseEncryptionKeys, resolveKeyRing } from '../../src/security/keyRing.ts';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const blind = randomBytes(32);
const ring = new KeyRing([['k2', k2], ['k1', k1]], blind);

test('a sealed value opens in its own row only, and not once a byte changes or its key is gone', () => {
  const s = seal(ring, 'users', 'email', 7, 'ada@example.com');
  assert.equal(s.keyId, 'k2');
  assert.equal(s.ciphertext.length, 12 + 15 + 16);
  assert.equal(open(ring, 'users', 'email', 7, s), 'ada@example.com');
  assert.notDeepEqual(seal(ring, 'users', 'email', 7, 'ada@example.com').ciphertext, s.ciphertext, 'a fresh nonce each time');
  const fails = (code: string) => (e: { code?: string }) => e.code === code;
  assert.throws(() => open(ring, 'users', 'email', 8, s), fails('PGP_DECRYPTION_FAILED'));
  assert.throws(() => open(ring, 'users', 'bio', 7, s), fails('PGP_DECRYPTION_FAILED'));
  assert.throws(() => open(ring, 'users', 'email', 7, { ...s, keyId: 'k1' }), fails('PGP_DECRYPTION_FAILED'));
  const flipped = Buffer.from(s.ciphertext);
  flipped[14]! ^= 1;
  assert.throws(() => open(ring, 'users', 'email', 7, { ...s, ciphertext: flipped }), fails('PGP_DECRYPTION_FAILED'));
  assert.throws(() => open(new KeyRing([['k1', k1]], blind), 'users', 'email', 7, s), (e: { code?: string; message: string }) => e.code === 'PGP_ENCRYPTION_KEY_MISSING' && /"k2"/.test(e.message));
});

test('the blind index is the same for the same email however written, and differs under another key', () => {
  assert.deepEqual(emailIndex(ring, ' Ada@Example.COM '), emailIndex(ring, 'ada@example.com'));
  assert.notDeepEqual(emailIndex(ring, 'ada@example.com'), emailIndex(ring, 'bob@example.com'));
  assert.notDeepEqual(emailIndex(new KeyRing([['k1', k1]], randomBytes(32)), 'ada@example.com'), emailIndex(ring, 'ada@example.com'));
});

test('keys are never printed: not by the ring, the settings, or a configuration error', () => {
  const b64 = k1.toString('base64');
  for (const shown of [inspect(ring, { showHidden: true, depth: 5 }), JSON.stringify(ring)]) assert.ok(!shown.includes(b64) && !shown.includes(k1.toString('hex')), shown);
  const s = loadSettings({ ENCRYPTION_KEYS: `k1:${b64}`, BLIND_INDEX_KEY: blind.toString('base64') });
  assert.equal(s.encryption.keys, `k1:${b64}`);
  assert.ok(!JSON.stringify(s).includes(b64) && !inspect(s, { depth: 5 }).includes(b64));
  const bad = `k1:${b64.slice(0, 20)}`;
  assert.throws(() => loadSettings({ ENCRYPTION_KEYS: bad }), (e: Error) => /ENCRYPTION_KEYS=<hidden>: the key of "k1" must be 32 bytes/.test(e.message) && !e.message.includes(b64.slice(0, 20)));
  assert.throws(() => parseEncryptionKeys(`a:${b64},a:${b64}`), /appears twice/);
  assert.throws(() => parseEncryptionKeys(b64), /id:base64key/);
});

test('unset, the keys are generated once into the data folder (mode 600) and read back the same', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-keys-'));
  const a = resolveKeyRing({ keys: undefined, blindIndexKey: undefined }, dir);
  const b = resolveKeyRing({ keys: undefined, blindIndexKey: undefined }, dir);
  assert.match(a.currentId, /^local-[0-9a-f]{8}$/);
  assert.equal(b.currentId, a.currentId);
  assert.deepEqual(b.key(a.currentId), a.key(a.currentId));
  for (const f of ['encryption-keys', 'blind-index-key']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  rmSync(dir, { recursive: true, force: true });
});
