// `pgpress token --user ID --role R`: mint a bearer token for development.
import type { Settings } from '../config/settings.ts';
import { PgpressError } from '../errors/index.ts';
import { resolveJwtSecret } from '../security/jwtSecret.ts';
import { ROLES, tokenService, type Role } from '../security/tokens.ts';

/** Prints a signed token for the user and role, valid for ttl seconds. */
export function tokenCommand(s: Settings, opts: { user: string; role: string; ttl: string }): void {
  const userId = Number(opts.user);
  if (!Number.isSafeInteger(userId) || userId < 1) throw new PgpressError('PGP_VALIDATION', `--user must be a user id (a positive integer), got ${JSON.stringify(opts.user)}.`);
  if (!ROLES.includes(opts.role as Role)) throw new PgpressError('PGP_VALIDATION', `--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(opts.role)}.`);
  const ttl = Number(opts.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) throw new PgpressError('PGP_VALIDATION', `--ttl must be a number of seconds, got ${JSON.stringify(opts.ttl)}.`);
  const tokens = tokenService(resolveJwtSecret(s.jwtSecret, s.dataDir));
  console.log(tokens.sign({ userId, role: opts.role as Role }, ttl));
}
