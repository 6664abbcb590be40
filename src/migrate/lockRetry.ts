// lock_timeout for migration DDL, with bounded retries: a migration queued behind a long query
// would otherwise block every application query that queues behind its ACCESS EXCLUSIVE request.
import { isPgServerError } from '../errors/index.ts';

/** How the runner waits for table locks. */
export interface LockPolicy {
  /** lock_timeout for each DDL statement, in ms (0 = wait forever). */
  timeoutMs: number;
  /** Tries after the first one that hit lock_timeout. */
  retries: number;
  /** First backoff delay in ms; doubles each retry, with jitter, capped at 10 s. */
  baseDelayMs: number;
}

/** Defaults: 5 s per lock, 5 retries from 500 ms. */
export const DEFAULT_LOCK_POLICY: LockPolicy = Object.freeze({ timeoutMs: 5_000, retries: 5, baseDelayMs: 500 });

/** True for SQLSTATE 55P03 (lock_not_available), also when wrapped as a cause. */
export function isLockTimeout(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (isPgServerError(cur) && cur.code === '55P03') return true;
  }
  return false;
}

/** Runs attempt() and, while it fails on lock_timeout, waits (exponential backoff + jitter) and tries again. */
export async function withLockRetry<T>(policy: LockPolicy, attempt: (n: number) => Promise<T>, onRetry?: (n: number, delayMs: number) => void): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!isLockTimeout(e) || n >= policy.retries) throw e;
      const delay = Math.min(10_000, policy.baseDelayMs * 2 ** n) * (0.5 + Math.random() / 2);
      onRetry?.(n + 1, Math.round(delay));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
