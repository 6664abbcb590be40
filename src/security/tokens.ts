// Bearer tokens: HS256 JWTs naming the acting user and their role. The issuer is a required
// claim: fast-jwt's allowedIss checks an iss that is present and lets a token without one pass.
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { PgpressError } from '../errors/index.ts';

/** What a caller may do: authors change their own articles, editors and admins any. */
export type Role = 'author' | 'editor' | 'admin';
export const ROLES: readonly Role[] = ['author', 'editor', 'admin'];

/** The identity a verified token carries. */
export interface Actor {
  userId: number;
  role: Role;
}

const ISSUER = 'pgpress';

/** Signs and verifies tokens with one secret. */
export interface TokenService {
  sign(actor: Actor, ttlSeconds?: number): string;
  verify(token: string): Actor;
}

/** Builds the token service; the secret must be at least 32 characters. */
export function tokenService(secret: string): TokenService {
  if (secret.length < 32) throw new PgpressError('PGP_CONFIG_INVALID', 'The JWT secret must be at least 32 characters long.');
  const signer = createSigner({ key: secret, algorithm: 'HS256', iss: ISSUER });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: ISSUER, requiredClaims: ['iss', 'sub', 'role', 'exp'] });
  return {
    sign(actor, ttlSeconds = 3600) {
      return signer({ sub: String(actor.userId), role: actor.role, exp: Math.floor(Date.now() / 1000) + ttlSeconds });
    },
    verify(token) {
      let claims: { sub?: unknown; role?: unknown };
      try {
        claims = verifier(token) as { sub?: unknown; role?: unknown };
      } catch (e) {
        const why = e instanceof TokenError && e.code === TokenError.codes.expired ? 'has expired' : 'is not valid';
        throw new PgpressError('PGP_UNAUTHORIZED', `The bearer token ${why}.`, { cause: e });
      }
      const userId = Number(claims.sub);
      if (!Number.isSafeInteger(userId) || userId < 1 || !ROLES.includes(claims.role as Role)) {
        throw new PgpressError('PGP_UNAUTHORIZED', 'The bearer token does not name a user and a role.');
      }
      return { userId, role: claims.role as Role };
    },
  };
}
