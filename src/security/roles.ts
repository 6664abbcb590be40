// The pgpress database roles (migration 0060 creates them on any server; the embedded default also
// gives the two that log in a generated password here). docs/security.md says what each may do.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { runFormatted } from '../db/utilityStatement.ts';

/** Role names by purpose. */
export const ROLES = Object.freeze({
  owner: 'pgpress_owner',
  app: 'pgpress_app',
  readonly: 'pgpress_readonly',
  auditor: 'pgpress_auditor',
} as const);

/** A pgpress role by purpose. */
export type RolePurpose = keyof typeof ROLES;

/** The attributes migration 0060 creates each role with (kept equal: docs/security.md). */
export const ROLE_ATTRIBUTES: Readonly<Record<RolePurpose, string>> = Object.freeze({
  owner: 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS',
  app: 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
  readonly: 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
  auditor: 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
});

/** PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802/7677, as libpq's PQencryptPasswordConn
 *  makes it): ALTER ROLE … PASSWORD then carries no password a log or pg_stat_statements could show. */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Creates the four roles when missing (as 0060 would) and sets the given passwords; the app role
 *  joins pg_monitor (as 0066 would). Needs a superuser connection. */
export async function ensureRoles(admin: pg.ClientBase, passwords: Partial<Record<RolePurpose, string>>): Promise<void> {
  for (const purpose of Object.keys(ROLES) as RolePurpose[]) {
    const name = ROLES[purpose];
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (!rowCount) {
      // The attributes are constants of this file; the name is quoted by the server.
      await runFormatted(admin, `CREATE ROLE %I ${ROLE_ATTRIBUTES[purpose]}`, [name]).catch((e: { code?: string }) => {
        if (e.code !== '42710') throw e; // created by a concurrent start: fine
      });
    }
    const password = passwords[purpose];
    if (password !== undefined) {
      await runFormatted(admin, 'ALTER ROLE %I PASSWORD %L', [name, scramVerifier(password)]);
    }
  }
  const { rows } = await admin.query<{ member: boolean }>("SELECT pg_has_role($1, 'pg_monitor', 'MEMBER') AS member", [ROLES.app]);
  if (!rows[0]!.member) await runFormatted(admin, 'GRANT pg_monitor TO %I', [ROLES.app]);
}
