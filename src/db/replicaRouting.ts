// Replica routing and read-your-writes: a read goes to the replica the selector picks (in
// rotation, breaker closed, least loaded) once it has replayed the caller's token, waiting up to
// rywWaitMs for that, with at most half the remaining deadline. Anything else (no replica fit,
// not caught up in time, a failing replica) answers undefined and the primary serves the read.
import type pg from 'pg';
import { fromPgError, isPgpressError, sqlstateOf } from '../errors/index.ts';
import { AttemptFailure, unwrapAttempt } from './attempt.ts';
import type { TargetBreaker } from './breaker.ts';
import { mustDiscard } from './connectionRule.ts';
import { deadlineGuard } from './deadlineGuard.ts';
import type { CallerTrace, Lane } from './lane.ts';
import { isLsn, maxLsn, parseLsn } from './lsn.ts';
import type { QueryOptions } from './queryable.ts';
import type { ReplicaMonitor } from './replicaMonitor.ts';
import { markDown, type ReplicaStatus } from './replicaSet.ts';
import { selectReplica } from './replicaSelector.ts';
import { retryRule } from './retryPolicy.ts';
import type { NamedQuery } from './sql.ts';
import type { StatementRunner } from './statement.ts';

/** One replica target: its pool, breaker and monitored status. */
export interface Replica {
  name: string;
  url: string;
  lane: Lane;
  breaker: TargetBreaker;
  status: ReplicaStatus;
}

const REPLAY_LSN = 'SELECT pg_last_wal_replay_lsn()::text AS lsn';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class NotCaughtUp extends Error {}

/** Sends reads to replicas that are fresh enough for them. */
export class ReplicaRouter {
  constructor(
    private readonly replicas: readonly Replica[],
    private readonly monitor: ReplicaMonitor,
    private readonly runner: StatementRunner,
    private readonly rywWaitMs: number,
    /** Resolves after the monitor's first round: until then no replica is known to be fresh. */
    private readonly started: Promise<void> | undefined,
  ) {}

  /** A read on a replica if one is fresh enough; undefined means "use the primary". */
  async read<R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], opts: QueryOptions, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R> | undefined> {
    await this.started;
    const tokenText = maxLsn(opts.token !== undefined && isLsn(opts.token) ? opts.token : undefined, opts.session?.token);
    // A token beyond the primary's WAL position (forged) is clamped to it: see boundToken.
    const token = tokenText === undefined ? undefined : await this.monitor.boundToken(parseLsn(tokenText), Math.floor((deadline - Date.now()) / 2));
    const sel = selectReplica(this.replicas.map((r) => ({ status: r.status, breaker: r.breaker.state })), token);
    if (sel.kind === 'none') return undefined;
    const replica = this.replicas.find((r) => r.status === sel.replica)!;
    // Half the remaining time at most: a frozen replica must leave time to ask the primary.
    const sub = Date.now() + Math.floor((deadline - Date.now()) / 2);
    replica.status.inFlight++;
    try {
      return await replica.breaker.execute(() => this.readOn<R>(replica, q, params, sel.kind === 'wait' ? token : undefined, sub, trace));
    } catch (raw) {
      const { error } = unwrapAttempt(raw);
      if (error instanceof NotCaughtUp) return undefined;
      const state = sqlstateOf(error);
      const failing = retryRule(error)?.kind === 'connection' || (isPgpressError(error) && error.code === 'PGP_DEADLINE_EXCEEDED' && state === undefined);
      if (failing) markDown(replica.status, (error as Error).message);
      // Errors that are the statement's own fault (syntax, bad value) would fail on the primary too.
      if (state !== undefined && retryRule(error) === undefined && !failing && state !== '57014') throw fromPgError(error);
      return undefined;
    } finally {
      replica.status.inFlight--;
    }
  }

  /** The read on replica, after waiting (bounded) for it to replay waitFor. */
  private async readOn<R extends pg.QueryResultRow>(replica: Replica, q: NamedQuery, params: readonly unknown[], waitFor: bigint | undefined, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const lease = await this.runner.lease(replica.lane, deadline, trace);
    const guard = deadlineGuard(lease, replica.lane, deadline);
    let discard = false;
    try {
      if (waitFor !== undefined) {
        const until = Math.min(deadline, Date.now() + this.rywWaitMs);
        for (;;) {
          const { rows } = await guard.run(lease.client.query<{ lsn: string | null }>(REPLAY_LSN));
          const replay = rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0n;
          this.monitor.noteReplay(replica.status, replay);
          if (replay >= waitFor) break;
          if (Date.now() + 10 >= until) throw new NotCaughtUp();
          await sleep(10);
        }
      }
      return await guard.run(this.runner.send<R>(lease.client, q, params));
    } catch (e) {
      if (e instanceof NotCaughtUp) throw e;
      const expired = guard.expired || lease.expired;
      discard = mustDiscard(expired, e);
      throw new AttemptFailure('during', expired ? guard.expiredError() : e);
    } finally {
      guard.clear();
      lease.release(discard);
    }
  }
}
