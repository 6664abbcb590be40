// The key ring for personal data: ENCRYPTION_KEYS (id:base64key,… — the first seals new values)
// and BLIND_INDEX_KEY, or keys generated once into the data folder (the embedded default).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { PgpressError } from '../errors/index.ts';
import { dataFolderSecret } from './dataFolderSecret.ts';

/** Keys held privately: printing, JSON or a log line never shows them. */
export class KeyRing {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #blindIndexKey: Buffer;
  /** The key id new values are sealed under (the first of ENCRYPTION_KEYS). */
  readonly currentId: string;

  constructor(keys: ReadonlyArray<readonly [string, Buffer]>, blindIndexKey: Buffer) {
    if (keys.length === 0) throw new PgpressError('PGP_CONFIG_INVALID', 'ENCRYPTION_KEYS holds no key: give at least one id:base64key.');
    this.#keys = new Map(keys);
    this.#blindIndexKey = blindIndexKey;
    this.currentId = keys[0]![0];
  }

  /** The key with this id, or PGP_ENCRYPTION_KEY_MISSING naming it. */
  key(id: string): Buffer {
    const k = this.#keys.get(id);
    if (!k) throw new PgpressError('PGP_ENCRYPTION_KEY_MISSING', `A value is sealed under key id "${id}", which is not in ENCRYPTION_KEYS (ids held: ${[...this.#keys.keys()].join(', ')}); add that key back to the ring.`);
    return k;
  }

  /** The key of the blind index (HMAC-SHA256), separate from the encryption keys. */
  blindIndexKey(): Buffer {
    return this.#blindIndexKey;
  }

  toJSON(): { currentId: string } {
    return { currentId: this.currentId };
  }
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

function key32(b64: string, what: string): Buffer {
  const k = Buffer.from(b64, 'base64');
  if (k.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) throw new Error(`${what} must be 32 bytes in base64 (openssl rand -base64 32)`);
  return k;
}

/** Parses ENCRYPTION_KEYS ("id:base64key,…"); throws an Error saying what is wrong (never the key). */
export function parseEncryptionKeys(value: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const part of value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const i = part.indexOf(':');
    const id = i < 0 ? '' : part.slice(0, i);
    if (!KEY_ID.test(id)) throw new Error(`each entry must be id:base64key with an id of 1-32 letters, digits, _ . or - (entry ${out.length + 1} is not)`);
    if (out.some(([seen]) => seen === id)) throw new Error(`key id "${id}" appears twice`);
    out.push([id, key32(part.slice(i + 1), `the key of "${id}"`)]);
  }
  if (out.length === 0) throw new Error('must hold at least one id:base64key');
  return out;
}

/** Parses BLIND_INDEX_KEY (32 bytes, base64). */
export function parseBlindIndexKey(value: string): Buffer {
  return key32(value.trim(), 'the key');
}

/** The configured keys, or the data folder's (files encryption-keys and blind-index-key, generated once). */
export function resolveKeyRing(configured: { keys: string | undefined; blindIndexKey: string | undefined }, dataDir: string): KeyRing {
  const keys = configured.keys ?? dataFolderSecret(dataDir, 'encryption-keys', () => `local-${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}`);
  const blind = configured.blindIndexKey ?? dataFolderSecret(dataDir, 'blind-index-key', () => randomBytes(32).toString('base64'));
  try {
    return new KeyRing(parseEncryptionKeys(keys), parseBlindIndexKey(blind));
  } catch (e) {
    if (e instanceof PgpressError) throw e;
    const where = configured.keys === undefined || configured.blindIndexKey === undefined ? ` (or the file in ${resolve(dataDir)})` : '';
    throw new PgpressError('PGP_CONFIG_INVALID', `Invalid key ring${where}: ${(e as Error).message}.`);
  }
}
