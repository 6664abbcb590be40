// AES-256-GCM for personal fields: a random 12-byte nonce per value, the key id kept beside it,
// and associated data binding the ciphertext to its table, column, row and key id.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PgpressError } from '../errors/index.ts';
import type { KeyRing } from './keyRing.ts';

const NONCE = 12;
const TAG = 16;

/** A sealed value as stored: nonce || ciphertext || tag, and the key id that sealed it. */
export interface Sealed {
  ciphertext: Buffer;
  keyId: string;
}

/** Where a value lives: moving a ciphertext to another row or column makes it fail to open. */
export function fieldAad(table: string, column: string, rowId: number | string, keyId: string): Buffer {
  return Buffer.from(`pgpress:v1:${table}.${column}:${rowId}:${keyId}`, 'utf8');
}

/** Seals a value under the ring's current key. */
export function seal(ring: KeyRing, table: string, column: string, rowId: number | string, plain: string): Sealed {
  const keyId = ring.currentId;
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', ring.key(keyId), nonce);
  c.setAAD(fieldAad(table, column, rowId, keyId));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return { ciphertext: Buffer.concat([nonce, body, c.getAuthTag()]), keyId };
}

/** Opens a sealed value; a wrong key, row or tampered bytes are PGP_DECRYPTION_FAILED. */
export function open(ring: KeyRing, table: string, column: string, rowId: number | string, sealed: Sealed): string {
  const key = ring.key(sealed.keyId);
  const b = sealed.ciphertext;
  try {
    if (b.length < NONCE + TAG) throw new Error('too short');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, NONCE));
    d.setAAD(fieldAad(table, column, rowId, sealed.keyId));
    d.setAuthTag(b.subarray(b.length - TAG));
    return Buffer.concat([d.update(b.subarray(NONCE, b.length - TAG)), d.final()]).toString('utf8');
  } catch (e) {
    throw new PgpressError('PGP_DECRYPTION_FAILED', `${table}.${column} of row ${rowId} does not open under key "${sealed.keyId}": the key differs from the one that sealed it, or the stored bytes were changed or moved from another row.`, { cause: e });
  }
}
