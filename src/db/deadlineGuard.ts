// Bounds one connection's work by the caller's deadline: when the deadline is nearer than the
// lane's statement_timeout, a timer expires the lease (the statement is cancelled on the server,
// the connection closed) and fails the call at once. Otherwise the lane's sweeper ends the lease
// at its deadline (no timer per call), so a frozen server cannot hold the caller either way.
import { PgpressError } from '../errors/index.ts';
import type { Lane, Lease } from './lane.ts';

/** A running deadline over one leased connection. */
export interface Guard {
  /** True when the deadline ends before the lane's statement_timeout (a timer is running). */
  readonly tight: boolean;
  expired: boolean;
  /** p, or PGP_DEADLINE_EXCEEDED as soon as the deadline passes. */
  run<T>(p: Promise<T>): Promise<T>;
  clear(): void;
  expiredError(): PgpressError;
}

/** The guard when the lane's statement_timeout ends first: the server, then the lane's sweeper, bound the work. */
const LOOSE: Guard = {
  tight: false,
  expired: false,
  run: (p) => p,
  clear: () => undefined,
  expiredError: () => new PgpressError('PGP_DEADLINE_EXCEEDED', 'The call did not finish before its deadline.'),
};

/** Starts a guard for lease until deadline (epoch ms); call clear() when the work is done. */
export function deadlineGuard(lease: Lease, lane: Lane, deadline: number): Guard {
  const remaining = deadline - Date.now();
  const st = lane.config.statementTimeoutMs;
  const tight = st === 0 || remaining < st;
  if (!tight) return LOOSE;
  let rejectAll: ((e: Error) => void)[] = [];
  const g: Guard = {
    tight,
    expired: false,
    run<T>(p: Promise<T>): Promise<T> {
      if (g.expired) return Promise.reject(g.expiredError());
      return new Promise<T>((resolve, reject) => {
        rejectAll.push(reject);
        p.then(resolve, reject);
      });
    },
    clear(): void {
      clearTimeout(timer);
      rejectAll = [];
    },
    expiredError: () =>
      new PgpressError('PGP_DEADLINE_EXCEEDED', `The call did not finish before its deadline on ${lane.target}.`, { details: { target: lane.target, lane: lane.name } }),
  };
  const timer = setTimeout(() => {
    g.expired = true;
    lane.expire(lease);
    for (const r of rejectAll) r(g.expiredError());
  }, Math.max(0, remaining));
  return g;
}
