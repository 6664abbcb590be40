// Cluster: the one way content code reaches PostgreSQL (v1: one pool on the primary).
import pg from 'pg';
import { PgpressError, fromPgError } from '../errors/index.ts';
import type { NamedQuery } from './sql.ts';

/** What a Cluster needs to connect. */
export interface ClusterOptions {
  url: string;
  max?: number;
  acquireTimeoutMs?: number;
  statementTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Use named prepared statements (turn off behind PgBouncer in transaction mode). */
  namedStatements?: boolean;
  applicationName?: string;
}

/** A query runner: a pool-backed Cluster or the client of an open transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

/** Context set with SET LOCAL at the start of a write transaction. */
export interface TxOptions {
  /** The acting user, exposed to SQL as current_setting('pgpress.actor_id'). */
  actorId?: string | undefined;
}

/** The result of a transaction: the function's value and the commit's WAL position. */
export interface TxResult<T> {
  value: T;
  /** pg_current_wal_insert_lsn() after commit: a read-your-writes token. */
  lsn: string;
}

const LSN_QUERY = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';

/** One pg.Pool on the primary with deadlines and catalogued errors. */
export class Cluster implements Queryable {
  readonly pool: pg.Pool;
  private readonly named: boolean;
  private closed = false;

  constructor(opts: ClusterOptions) {
    this.named = opts.namedStatements ?? true;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 16,
      connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5_000,
      idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      application_name: opts.applicationName ?? 'pgpress',
    });
    // An idle client losing its connection must not crash the process; the pool drops it.
    this.pool.on('error', () => undefined);
  }

  private config(q: NamedQuery, params: readonly unknown[]): pg.QueryConfig {
    return this.named ? { name: q.name, text: q.text, values: params as unknown[] } : { text: q.text, values: params as unknown[] };
  }

  /** Runs one statement on any pooled connection. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(this.config(q, params));
    } catch (e) {
      throw this.wrap(e);
    }
  }

  /** Runs fn inside BEGIN … COMMIT on one connection; rolls back on any error. */
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<TxResult<T>> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw this.wrap(e);
    }
    const runner: Queryable = {
      query: async <R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = []) => {
        try {
          return await client.query<R>(this.config(q, params));
        } catch (e) {
          throw fromPgError(e);
        }
      },
    };
    let broken: unknown;
    try {
      await client.query('BEGIN');
      if (opts.actorId !== undefined) {
        // set_config(..., true) is SET LOCAL with a bind parameter: it ends with the transaction.
        await client.query('SELECT set_config($1, $2, true)', ['pgpress.actor_id', opts.actorId]);
      }
      const value = await fn(runner);
      await client.query('COMMIT');
      const { rows } = await client.query<{ lsn: string }>(LSN_QUERY);
      return { value, lsn: rows[0]!.lsn };
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw this.wrap(e);
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** True when the primary answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Closes every connection; later calls fail with PGP_DB_UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.');
  }

  private wrap(e: unknown): PgpressError {
    if (e instanceof Error && /timeout exceeded when trying to connect/i.test(e.message)) {
      return new PgpressError('PGP_POOL_TIMEOUT', 'No database connection became free before the acquire deadline.', { cause: e });
    }
    return fromPgError(e);
  }
}
