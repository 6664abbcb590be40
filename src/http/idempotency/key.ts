// The Idempotency-Key header: its form (checked here and in the routes' header schema), who it
// belongs to, and the fingerprint of the request it was first sent with.
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PgpressError } from '../../errors/index.ts';

/** The request header (lower case, as Node gives it). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set to "true" on an answer replayed from a key's stored one. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Printable ASCII (space to tilde), 1 to 255 characters: a UUID or any opaque token fits. */
const KEY_FORM = /^[\x20-\x7e]{1,255}$/;

/** The header's schema fragment for a write route (validation and OpenAPI). */
export const idempotencyHeaders = {
  type: 'object',
  properties: {
    [IDEMPOTENCY_KEY_HEADER]: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x20-\\x7e]+$',
      description: 'A key unique to this logical write (a UUID): a retry with the same key and request gets the first answer, the write runs once.',
      examples: ['5f0c6a52-1d7e-4b8a-9c3e-2a41f7d9b6e0'],
    },
  },
} as const;

/** The request's key, undefined without the header; a malformed one is PGP_VALIDATION (400). */
export function idempotencyKeyOf(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  const h = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (h === undefined) return undefined;
  if (typeof h !== 'string' || !KEY_FORM.test(h)) {
    throw new PgpressError('PGP_VALIDATION', `Invalid headers: ${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters (a UUID, say), sent once.`);
  }
  return h;
}

/** Whose key it is: the authenticated user's, or the anonymous callers' shared space. */
export function keyScope(req: Pick<FastifyRequest, 'actor'>): string {
  return req.actor === undefined ? 'anon' : `u:${req.actor.userId}`;
}

/**
 * HMAC-SHA256 of the request (method, path, body) under the instance's secret: a retry must send
 * the same request, and the table holds no readable trace of a body (a sign-up carries an email).
 * Every instance behind a load balancer must share the secret (it derives from JWT_SECRET).
 */
export function requestFingerprint(secret: Buffer, req: Pick<FastifyRequest, 'method' | 'url' | 'body'>): Buffer {
  return createHmac('sha256', secret).update(`${req.method} ${req.url}\n`).update(JSON.stringify(req.body ?? null)).digest();
}
