// What `pgpress doctor` flags about security (issue #15 item 5): an application role that is a
// superuser, owns the schema or bypasses RLS; `trust` authentication for non-loopback addresses;
// ssl off; listening beyond loopback without ssl; pg_stat_statements missing; a connection to a
// remote server without TLS. Each check reads the catalog or a setting; none changes anything.
import { isIP } from 'node:net';
import { sql } from '../db/sql.ts';
import { urlTls } from '../db/tls.ts';
import { ROLES } from './roles.ts';

/** One finding: ok, flagged (something to fix) or unknown (not readable with these privileges). */
export interface SecurityCheck {
  check: string;
  state: 'ok' | 'flag' | 'unknown';
  message: string;
}

/** A connection to run the checks on (pg.Client, pg.Pool). */
export interface CheckReader {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

const ROLE_FACTS = sql(
  'doctor.securityRole',
  `SELECT current_user AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
          (SELECT count(*)::int FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
              AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owned
     FROM pg_roles r WHERE r.rolname = current_user`,
);

const SERVER_FACTS = sql(
  'doctor.securityServer',
  `SELECT current_setting('ssl') AS ssl, current_setting('listen_addresses') AS listen,
          EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS statements_installed,
          coalesce((SELECT s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()), false) AS connection_tls`,
);

// Every trust rule for TCP clients; which of them reach beyond loopback is decided below.
const TRUST_RULES = sql(
  'doctor.securityTrust',
  `SELECT line_number, type, coalesce(address, '') AS address, coalesce(netmask, '') AS netmask
     FROM pg_hba_file_rules
    WHERE auth_method = 'trust' AND type LIKE 'host%' AND error IS NULL`,
);

/** Whether an hba rule's address/netmask stays within loopback (127.0.0.0/8 or ::1). all, samehost,
 *  samenet and host names reach further (a name can resolve anywhere). */
export function hbaRuleIsLoopback(address: string, netmask: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.') && (netmask === '' || netmask.startsWith('255.'));
  if (isIP(address) === 6) return address === '::1' && (netmask === '' || /^ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff$/i.test(netmask));
  return false;
}

const STATEMENTS_READABLE = sql('doctor.securityStatements', 'SELECT 1 FROM pg_stat_statements LIMIT 1');

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** Whether listen_addresses reaches beyond loopback ('*', 0.0.0.0, ::, or a real address). */
export function listensBeyondLoopback(listen: string): boolean {
  return listen.split(',').map((a) => a.trim()).some((a) => a !== '' && !isLoopbackHost(a));
}

/** The three checks of the application role itself: superuser, owner, BYPASSRLS (serve logs them at start). */
export async function appRoleChecks(app: CheckReader): Promise<SecurityCheck[]> {
  const out: SecurityCheck[] = [];
  const role = (await app.query<{ name: string; superuser: boolean; bypassrls: boolean; owned: number }>(ROLE_FACTS.text)).rows[0]!;
  const fix = `connect the service as ${ROLES.app} (DATABASE_URL) and run migrations as ${ROLES.owner} (MIGRATION_DATABASE_URL); see docs/security.md`;
  out.push(role.superuser
    ? { check: 'app_role_superuser', state: 'flag', message: `the application connects as superuser "${role.name}": ${fix}` }
    : { check: 'app_role_superuser', state: 'ok', message: `the application role "${role.name}" is not a superuser` });
  out.push(role.owned > 0
    ? { check: 'app_role_owner', state: 'flag', message: `the application role "${role.name}" owns (or may act as the owner of) ${role.owned} pgpress tables/views: ${fix}` }
    : { check: 'app_role_owner', state: 'ok', message: `the application role "${role.name}" owns no pgpress table` });
  out.push(role.bypassrls && !role.superuser
    ? { check: 'app_role_bypassrls', state: 'flag', message: `the application role "${role.name}" has BYPASSRLS: row-level security does not apply to it (ALTER ROLE ${role.name} NOBYPASSRLS)` }
    : { check: 'app_role_bypassrls', state: role.superuser ? 'flag' : 'ok', message: role.superuser ? 'a superuser bypasses row-level security' : 'row-level security applies to the application role' });
  return out;
}

/** Runs the checks on the application's connection (app) and, for the rules only a superuser may
 *  read (pg_hba_file_rules), on each privileged connection given (the owner's, the admin's). */
export async function securityChecks(app: CheckReader, opts: { appUrl: string; privileged?: CheckReader[] }): Promise<SecurityCheck[]> {
  const out = await appRoleChecks(app);

  const server = (await app.query<{ ssl: string; listen: string; statements_installed: boolean; connection_tls: boolean }>(SERVER_FACTS.text)).rows[0]!;
  out.push(server.ssl === 'on'
    ? { check: 'ssl_off', state: 'ok', message: 'the server accepts TLS connections (ssl = on)' }
    : { check: 'ssl_off', state: 'flag', message: 'ssl = off: connections to the server cannot be encrypted (set ssl = on with a certificate; clients use sslmode=verify-full)' });
  const wide = listensBeyondLoopback(server.listen);
  out.push(wide && server.ssl !== 'on'
    ? { check: 'listen_without_ssl', state: 'flag', message: `listen_addresses = '${server.listen}' reaches beyond loopback while ssl = off: passwords and data cross the network in clear` }
    : { check: 'listen_without_ssl', state: 'ok', message: wide ? `listen_addresses = '${server.listen}', with ssl on` : `listen_addresses = '${server.listen}' (loopback only)` });
  const tls = connectionTlsCheck(opts.appUrl, server.connection_tls);
  if (tls) out.push(tls);
  let statements: SecurityCheck;
  if (!server.statements_installed) {
    statements = { check: 'pg_stat_statements_missing', state: 'flag', message: 'pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements; it must be in shared_preload_libraries): /metrics has no statement figures' };
  } else {
    statements = await app.query(STATEMENTS_READABLE.text).then(
      (): SecurityCheck => ({ check: 'pg_stat_statements_missing', state: 'ok', message: 'pg_stat_statements is installed and loaded' }),
      (e: Error): SecurityCheck => ({ check: 'pg_stat_statements_missing', state: 'flag', message: `pg_stat_statements is installed but not readable: ${e.message}` }),
    );
  }
  out.push(statements);

  let trust: SecurityCheck = { check: 'trust_non_loopback', state: 'unknown', message: 'pg_hba_file_rules is readable by a superuser only: run doctor with MIGRATION_DATABASE_URL naming one to check for trust authentication' };
  for (const reader of [app, ...(opts.privileged ?? [])]) {
    const rules = await reader.query<{ line_number: number; type: string; address: string; netmask: string }>(TRUST_RULES.text).catch(() => undefined);
    if (!rules) continue;
    const open = rules.rows.filter((r) => !hbaRuleIsLoopback(r.address, r.netmask));
    trust = open.length === 0
      ? { check: 'trust_non_loopback', state: 'ok', message: 'no trust authentication for non-loopback addresses in pg_hba.conf' }
      : {
          check: 'trust_non_loopback',
          state: 'flag',
          message: `pg_hba.conf trusts non-loopback clients without a password: ${open.map((r) => `line ${r.line_number} (${r.type} ${r.address}${r.netmask ? `/${r.netmask}` : ''})`).join(', ')}`,
        };
    break;
  }
  out.push(trust);
  return out;
}

/** The app's connection to a non-loopback host must be encrypted and verify the server (sslmode=verify-full):
 *  undefined for a loopback host, where nothing crosses a network. */
export function connectionTlsCheck(appUrl: string, encrypted: boolean): SecurityCheck | undefined {
  let host: string;
  try {
    host = new URL(appUrl.replace(/^(postgres(?:ql)?:\/\/[^/?]*?),[^/?]*/, '$1')).hostname;
  } catch {
    return undefined;
  }
  if (isLoopbackHost(host)) return undefined;
  const asked = urlTls(appUrl);
  if (!encrypted) return { check: 'connection_without_tls', state: 'flag', message: `the connection to ${host} is not encrypted: add sslmode=verify-full&sslrootcert=… to DATABASE_URL` };
  if (!asked.verifiesServer) {
    return { check: 'connection_without_tls', state: 'flag', message: `the connection to ${host} is encrypted but does not verify the server (sslmode=${asked.sslmode ?? 'unset'}): use sslmode=verify-full&sslrootcert=…` };
  }
  return { check: 'connection_without_tls', state: 'ok', message: `the connection to ${host} is encrypted and verifies the server's certificate and name` };
}

/** Lines for the terminal: one per check, flags first. */
export function formatSecurityChecks(checks: readonly SecurityCheck[]): string[] {
  const order = { flag: 0, unknown: 1, ok: 2 } as const;
  return [...checks].sort((a, b) => order[a.state] - order[b.state]).map((c) => `security ${c.state.toUpperCase().padEnd(7)} ${c.check}: ${c.message}`);
}
