// One attempt of a transaction on one primary connection (and, statementTxAttempt, of one statement
// in its own transaction in one round trip): BEGIN (with its isolation), the actor
// and a matching statement_timeout as SET LOCAL, the caller's function, then COMMIT and the
// commit's WAL position in one round trip. COMMIT's command tag is checked: PostgreSQL answers
// ROLLBACK for a transaction a failed statement aborted, and that is never reported as committed.
import type pg from 'pg';
import { PgpressError, fromPgError } from '../errors/index.ts';
import { AttemptFailure } from './attempt.ts';
import { mustDiscard } from './connectionRule.ts';
import { deadlineGuard } from './deadlineGuard.ts';
import type { CallerTrace, Lane } from './lane.ts';
import { sendPipeline, type PipelineStep } from './pipeline.ts';
import type { Queryable, TxOptions, TxResult } from './queryable.ts';
import type { NamedQuery } from './sql.ts';
import type { StatementRunner } from './statement.ts';

const BEGIN = {
  'read committed': 'BEGIN',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
} as const;
// One round trip: COMMIT, then the position of the commit record (a later statement of the same message).
const COMMIT_AND_LSN = 'COMMIT; SELECT pg_current_wal_insert_lsn()::text AS lsn';
// The request's context as SET LOCAL settings in one statement (one round trip): pgpress.actor_id
// (audit, row-level security) and pgpress.role (row-level security: migrations 0070/0071). Each
// ends with the transaction, so nothing reaches the next user of the pooled connection.
const SET_CONTEXT = "SELECT set_config('pgpress.actor_id', $1, true), set_config('pgpress.role', $2, true)";
const SET_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', $1, true)";
// The commit record's position, read after COMMIT in the same message (never before it: a replica
// at an earlier LSN may not have the commit).
const COMMIT_LSN = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';
// PostgreSQL keeps a prepared statement's name in NAMEDATALEN - 1 bytes: a longer one stays unnamed.
const MAX_NAME = 63;

/** Runs fn once inside BEGIN … COMMIT on a connection of lane; a failure is an AttemptFailure with its stage. */
export async function transactionAttempt<T>(runner: StatementRunner, lane: Lane, fn: (q: Queryable) => Promise<T>, opts: TxOptions, deadline: number, trace: CallerTrace): Promise<TxResult<T>> {
  const lease = await runner.lease(lane, deadline, trace);
  const client = lease.client;
  // fn's first statement error (named if fn swallows it and COMMIT rolls back) and its latest
  // (which decides whether the connection is still usable).
  let firstError: unknown;
  let lastError: unknown;
  const q: Queryable = {
    query: async <R extends pg.QueryResultRow>(query: NamedQuery, params: readonly unknown[] = []) => {
      try {
        return await runner.send<R>(client, query, params);
      } catch (e) {
        firstError ??= e;
        lastError = e;
        throw fromPgError(e);
      }
    },
  };
  let discard = false;
  let inFn = false;
  let stage: 'during' | 'commit' = 'during';
  const guard = deadlineGuard(lease, lane, deadline);
  try {
    await guard.run(client.query(BEGIN[opts.isolation ?? 'read committed']));
    if (opts.actorId !== undefined || opts.role !== undefined) {
      // set_config(..., true) is SET LOCAL with a bind parameter: it ends with the transaction.
      await guard.run(client.query(SET_CONTEXT, [opts.actorId ?? '', opts.role ?? '']));
    }
    if (guard.tight) await guard.run(client.query(SET_STATEMENT_TIMEOUT, [String(Math.max(1, deadline - Date.now()))]));
    inFn = true;
    const value = await guard.run(fn(q));
    inFn = false;
    stage = 'commit';
    const results = (await guard.run(client.query(COMMIT_AND_LSN))) as unknown as pg.QueryResult<{ lsn: string }>[];
    // An aborted transaction answers COMMIT with the tag ROLLBACK: nothing was written.
    if (results[0]?.command !== 'COMMIT') {
      stage = 'during'; // a definite rollback, not a commit in doubt
      throw rolledBack(firstError);
    }
    return { value, lsn: results[1]?.rows[0]?.lsn ?? '' };
  } catch (e) {
    const expired = guard.expired || lease.expired;
    // The statement error behind the failure: fn's latest, or BEGIN's, SET's or COMMIT's.
    discard = mustDiscard(expired, inFn ? lastError : e);
    if (!discard) {
      try {
        await client.query('ROLLBACK');
      } catch {
        discard = true;
      }
    }
    throw new AttemptFailure(stage, expired ? guard.expiredError() : e);
  } finally {
    guard.clear();
    lease.release(discard);
  }
}

/**
 * One statement in its own transaction in ONE round trip: BEGIN, the context, the statement,
 * COMMIT and the commit's LSN written as one pipelined message (pipeline.ts) — the same statements
 * transactionAttempt sends in four round trips, so triggers (audit) and row-level security see the
 * same SET LOCAL settings. Each step is a prepared statement of the connection (named, unless
 * namedStatements is off: PgBouncer in transaction mode), so none is parsed or planned again. The context is a small map of settings set in the same message
 * (contextSteps: pgpress.actor_id, pgpress.role, and statement_timeout when the deadline is nearer
 * than the lane's); a new setting is one more entry there. Stages: a server error on a step before
 * COMMIT is 'during' (the server ran nothing after it: definite), one on COMMIT is 'commit' with a
 * SQLSTATE (definite); any other failure once the message may have left (the socket, the deadline)
 * is 'commit' without an answer: outcome unknown, as a lost COMMIT is in transactionAttempt.
 */
export async function statementTxAttempt<R extends pg.QueryResultRow>(runner: StatementRunner, lane: Lane, query: NamedQuery, params: readonly unknown[], opts: TxOptions, deadline: number, trace: CallerTrace, named: boolean): Promise<TxResult<pg.QueryResult<R>>> {
  const lease = await runner.lease(lane, deadline, trace);
  const client = lease.client;
  const guard = deadlineGuard(lease, lane, deadline);
  // Prepared once per connection (named): no step is parsed or planned again.
  const n = (name: string): string | undefined => (named && name.length <= MAX_NAME ? name : undefined);
  const isolation = opts.isolation ?? 'read committed';
  const steps: PipelineStep[] = [{ text: BEGIN[isolation], values: [], name: n(`pgpress.pipe.begin.${isolation}`) }, ...contextSteps(opts, guard.tight ? deadline : undefined, n)];
  const at = steps.push({ text: query.text, values: params, name: n(`pgpress.pipe.${query.name}`) }) - 1;
  const commitAt = steps.push({ text: 'COMMIT', values: [], name: n('pgpress.pipe.commit') }, { text: COMMIT_LSN, values: [], name: n('pgpress.pipe.lsn') }) - 2;
  let discard = false;
  // The step a server error (a SQLSTATE) came from; undefined: no answer, the outcome is unknown.
  let failedStep: number | undefined;
  let sent = true;
  try {
    const out = await guard.run(sendPipeline(client, steps));
    sent = out.sent;
    if (out.error !== undefined) {
      if (out.failedStep !== undefined && out.failedStep <= commitAt) failedStep = out.failedStep;
      throw out.error;
    }
    // An aborted transaction answers COMMIT with the tag ROLLBACK: nothing was written.
    if (out.results[commitAt]?.command !== 'COMMIT') {
      failedStep = at;
      throw rolledBack(undefined);
    }
    return { value: out.results[at] as pg.QueryResult<R>, lsn: (out.results[commitAt + 1]?.rows[0] as { lsn?: string } | undefined)?.lsn ?? '' };
  } catch (e) {
    const expired = guard.expired || lease.expired;
    discard = mustDiscard(expired, e);
    if (!discard) {
      try {
        // After a server error the transaction is aborted (or ended, at COMMIT): ROLLBACK makes the connection clean either way.
        await client.query('ROLLBACK');
      } catch {
        discard = true;
      }
    }
    // pg refused before writing (a failed client): nothing was sent, a definite connection failure.
    const stage = !sent ? 'before' : failedStep !== undefined && !expired && failedStep < commitAt ? 'during' : 'commit';
    throw new AttemptFailure(stage, expired ? guard.expiredError() : e);
  } finally {
    guard.clear();
    lease.release(discard);
  }
}

/** The transaction's context as set_config(…, true) steps (SET LOCAL with bind parameters). */
function contextSteps(opts: TxOptions, tightDeadline: number | undefined, n: (name: string) => string | undefined): PipelineStep[] {
  const steps: PipelineStep[] = [];
  if (opts.actorId !== undefined || opts.role !== undefined) steps.push({ text: SET_CONTEXT, values: [opts.actorId ?? '', opts.role ?? ''], name: n('pgpress.pipe.context') });
  if (tightDeadline !== undefined) steps.push({ text: SET_STATEMENT_TIMEOUT, values: [String(Math.max(1, tightDeadline - Date.now()))], name: n('pgpress.pipe.timeout') });
  return steps;
}

/** PGP_TX_ROLLED_BACK carrying the statement error fn swallowed (its SQLSTATE decides a retry). */
function rolledBack(swallowed: unknown): PgpressError {
  const cause = swallowed === undefined ? undefined : fromPgError(swallowed);
  const what = cause?.pg?.sqlstate ? ` (SQLSTATE ${cause.pg.sqlstate})` : '';
  return new PgpressError('PGP_TX_ROLLED_BACK', `PostgreSQL rolled the transaction back at COMMIT: a statement in it failed${what} and the transaction function went on without rethrowing.`, {
    cause,
    pg: cause?.pg ?? {},
  });
}
