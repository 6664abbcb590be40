// URLs that connect as one of the pgpress roles (migration 0060) instead of the admin user.
// The test server trusts 127.0.0.1, so the roles need no password there.
import { ROLES, type RolePurpose } from '../../src/security/roles.ts';

export { ROLES };
/** A pgpress role by purpose. */
export type RoleName = RolePurpose;

/** url re-targeted at role (same host, port and database; no password). */
export function roleUrl(url: string, role: RoleName): string {
  const u = new URL(url);
  u.username = ROLES[role];
  u.password = '';
  return u.toString();
}
