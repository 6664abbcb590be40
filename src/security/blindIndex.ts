// Blind index: HMAC-SHA256 of a normalised value under BLIND_INDEX_KEY, for equality lookups and
// uniqueness without the clear value (the same email always gives the same bytes).
import { createHmac } from 'node:crypto';
import type { KeyRing } from './keyRing.ts';

/** An email as compared: trimmed, Unicode NFKC, lower case (the old unique index was on lower(email)). */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

/** The blind index of users.email. */
export function emailIndex(ring: KeyRing, email: string): Buffer {
  return createHmac('sha256', ring.blindIndexKey()).update(`users.email:${normaliseEmail(email)}`, 'utf8').digest();
}
