// One statement on one lane, the hot path of every point read: lease a connection (timed; a
// failure is 'before', nothing sent; never handed out past the deadline), send the statement as a
// pg.Query with a callback, bound it by the deadline, then give the connection back or discard it
// by the one rule (connectionRule.ts).
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import type { DbMetrics } from '../observability/metrics.ts';
import { AttemptFailure } from './attempt.ts';
import { mustDiscard } from './connectionRule.ts';
import { deadlineGuard } from './deadlineGuard.ts';
import type { CallerTrace, Lane, Lease } from './lane.ts';
import type { NamedQuery } from './sql.ts';

type AcquireTimer = ReturnType<DbMetrics['acquireSeconds']['labels']>;

/** Leases connections and sends statements for every path of the Cluster. */
export class StatementRunner {
  // Labelled children cached per lane: label hashing on every query is measurable in the benchmark.
  private readonly acquireTimers = new Map<Lane, AcquireTimer>();

  constructor(
    /** Use named prepared statements (off behind PgBouncer in transaction mode). */
    private readonly namedStatements: boolean,
    private readonly metrics: DbMetrics,
  ) {}

  /**
   * Sends one statement on client. A pg.Query with a callback, not a config object: pg copies a
   * config through property descriptors and wraps its promise in a second one, together ~7 µs of
   * the ~65 µs of server CPU an API point read took (`npm run bench -- api`).
   */
  send<R extends pg.QueryResultRow>(client: pg.ClientBase, q: NamedQuery, params: readonly unknown[]): Promise<pg.QueryResult<R>> {
    return new Promise((resolve, reject) => {
      // A config object only when the query brings its own type parsers (pg copies a config).
      const query = new pg.Query(q.types === undefined ? q.text : { text: q.text, types: q.types }, params as unknown[], (err, res) => (err ? reject(err) : resolve(res as unknown as pg.QueryResult<R>)));
      if (this.namedStatements) (query as unknown as { name: string }).name = q.name;
      void client.query(query);
    });
  }

  /** Acquires a lease, timing it; failures are marked 'before' (nothing reached the server). */
  async lease(lane: Lane, deadline: number, trace: CallerTrace): Promise<Lease> {
    const t0 = performance.now();
    let lease: Lease;
    try {
      lease = await lane.acquire(deadline, trace);
    } catch (e) {
      throw new AttemptFailure('before', e);
    } finally {
      this.acquireTimer(lane).observe((performance.now() - t0) / 1000);
    }
    return notLate(lease, lane, deadline);
  }

  /** Runs one statement on lane by deadline; a failure is an AttemptFailure with its stage. */
  async run<R extends pg.QueryResultRow>(lane: Lane, q: NamedQuery, params: readonly unknown[], deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    // this.lease() inlined: one async layer less on the hottest path.
    const t0 = performance.now();
    let lease: Lease;
    try {
      lease = await lane.acquire(deadline, trace);
    } catch (e) {
      throw new AttemptFailure('before', e);
    } finally {
      this.acquireTimer(lane).observe((performance.now() - t0) / 1000);
    }
    notLate(lease, lane, deadline);
    const guard = deadlineGuard(lease, lane, deadline);
    try {
      const r = await guard.run(this.send<R>(lease.client, q, params));
      lease.release();
      return r;
    } catch (e) {
      const expired = guard.expired || lease.expired;
      lease.release(mustDiscard(expired, e));
      throw new AttemptFailure('during', expired ? guard.expiredError() : e);
    } finally {
      guard.clear();
    }
  }

  private acquireTimer(lane: Lane): AcquireTimer {
    let h = this.acquireTimers.get(lane);
    if (!h) this.acquireTimers.set(lane, (h = this.metrics.acquireSeconds.labels({ target: lane.target, lane: lane.name })));
    return h;
  }
}

/** The lease, or (released) a 'before' failure when the deadline has passed: nothing is sent late. */
function notLate(lease: Lease, lane: Lane, deadline: number): Lease {
  if (deadline > Date.now()) return lease;
  lease.release();
  throw new AttemptFailure('before', new PgpressError('PGP_DEADLINE_EXCEEDED', `The deadline passed before a connection of the ${lane.name} lane of ${lane.target} was ready; nothing was sent.`, {
    details: { target: lane.target, lane: lane.name },
  }));
}
