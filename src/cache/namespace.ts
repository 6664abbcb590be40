// The cache's namespace in Redis, from the database's identity: deployments on different databases
// sharing one Redis never read each other's entries, invalidations or change-feed cursor.
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';

/**
 * `<system identifier>-<database oid>`: the same for a primary and its physical replicas (the same
 * data), different for another cluster, another database of the cluster, or a clone of a database
 * (CREATE DATABASE … TEMPLATE copies every row but gets its own oid).
 */
export async function databaseNamespace(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url, application_name: 'pgpress-cache-namespace', connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const { rows } = await c.query<{ id: string; oid: string }>(
      "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid",
    );
    return `${rows[0]!.id}-${rows[0]!.oid}`;
  } catch (e) {
    throw new PgpressError('PGP_CONFIG_INVALID', `Cannot read the database's identity for the cache's Redis namespace (${(e as Error).message}); set CACHE_NAMESPACE to a name unique to this database.`, { cause: e });
  } finally {
    await c.end().catch(() => undefined);
  }
}
