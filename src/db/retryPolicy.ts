// The one table of SQLSTATEs that may be retried, and the rule for when a retry is safe.
import { sqlstateOf } from '../errors/index.ts';

/**
 * Why an error may be retried: the target failed, the server rolled the work back, or the target
 * is no longer the primary (it refused the statement: nothing was written).
 */
export type RetryKind = 'connection' | 'contention' | 'notPrimary';

/** One row of the retry table. */
export interface RetryRule {
  kind: RetryKind;
  /** First backoff delay; later ones grow exponentially with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * SQLSTATE (exact first, then two-character class) → retry rule. Everything else fails at once
 * (graphile-worker's RETRYABLE_ERROR_CODES, with delays).
 */
export const RETRY_TABLE: Readonly<Record<string, RetryRule>> = Object.freeze({
  '08': { kind: 'connection', initialDelayMs: 50, maxDelayMs: 1_000 }, // connection exception (and our network errors)
  '57P01': { kind: 'connection', initialDelayMs: 100, maxDelayMs: 1_000 }, // admin_shutdown
  '57P02': { kind: 'connection', initialDelayMs: 100, maxDelayMs: 1_000 }, // crash_shutdown
  '57P03': { kind: 'connection', initialDelayMs: 100, maxDelayMs: 1_000 }, // cannot_connect_now (starting up, recovery)
  '53300': { kind: 'connection', initialDelayMs: 100, maxDelayMs: 1_000 }, // too_many_connections
  '40001': { kind: 'contention', initialDelayMs: 5, maxDelayMs: 200 }, // serialization_failure
  '40P01': { kind: 'contention', initialDelayMs: 5, maxDelayMs: 200 }, // deadlock_detected
  '25006': { kind: 'notPrimary', initialDelayMs: 100, maxDelayMs: 1_000 }, // read_only_sql_transaction: a standby (after a failover)
});

/** The rule for an error, or undefined when it must not be retried. */
export function retryRule(e: unknown): RetryRule | undefined {
  const state = sqlstateOf(e);
  if (state === undefined) return undefined;
  return RETRY_TABLE[state] ?? RETRY_TABLE[state.slice(0, 2)];
}

/** True for errors that say the target itself is failing (they count against its breaker). */
export function isTargetFailure(e: unknown): boolean {
  return retryRule(e)?.kind === 'connection';
}

/**
 * Where an attempt failed. 'before' = nothing reached the server; 'during' = a statement may have
 * run; 'commit' = COMMIT was sent and no answer came back.
 */
export type FailureStage = 'before' | 'during' | 'commit';

/** What kind of work failed: a read (idempotent), a single write statement, or a whole transaction. */
export type WorkKind = 'read' | 'write' | 'tx';

/**
 * Safe to run again? Reads: any retryable error. A single write: only if it never reached the
 * server, or the server rolled it back (contention). A transaction re-runs the caller's whole
 * function, which is safe whenever COMMIT was not in doubt.
 */
export function mayRetry(kind: WorkKind, stage: FailureStage, rule: RetryRule): boolean {
  if (stage === 'commit') return rule.kind !== 'connection'; // a 40001 at COMMIT is a definite rollback
  if (kind === 'read' || kind === 'tx' || stage === 'before') return true;
  return rule.kind !== 'connection'; // the server refused or rolled back the statement
}

/** True when a connection failure may have hidden a committed write (the caller must be told). */
export function outcomeUnknown(kind: WorkKind, stage: FailureStage, e: unknown): boolean {
  if (kind === 'read' || stage === 'before') return false;
  if (kind === 'tx' && stage !== 'commit') return false;
  return retryRule(e)?.kind === 'connection' || sqlstateOf(e) === undefined;
}
