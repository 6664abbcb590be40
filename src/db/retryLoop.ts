// The retry loop around every call: the first attempt runs without an async frame of its own;
// failures are retried by the SQLSTATE table (retryPolicy.ts) with exponential backoff, within
// the deadline, the retry budget and the target's breaker. What it finally throws says honestly
// whether a write may have committed (PGP_OUTCOME_UNKNOWN) or was never sent.
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { PgpressError, fromPgError, isPgpressError, sqlstateOf } from '../errors/index.ts';
import type { DbMetrics } from '../observability/metrics.ts';
import { unwrapAttempt } from './attempt.ts';
import type { TargetBreaker } from './breaker.ts';
import type { RetryOptions } from './clusterOptions.ts';
import { RetryBudget } from './retryBudget.ts';
import { mayRetry, outcomeUnknown, retryRule, type RetryRule, type WorkKind } from './retryPolicy.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs attempts through a breaker and retries them by the table, within a shared budget. */
export class RetryLoop {
  private readonly budget: RetryBudget;
  private readonly backoffs = new Map<RetryRule, ExponentialBackoff<unknown>>();

  constructor(
    private readonly opts: RetryOptions,
    private readonly metrics: DbMetrics,
  ) {
    this.budget = new RetryBudget({ ratio: opts.budgetRatio, minPerWindow: opts.budgetMinPerWindow, windowMs: opts.budgetWindowMs });
  }

  /** attempt's result, or the catalogued error of its last failure. */
  run<T>(target: string, breaker: Pick<TargetBreaker, 'execute'>, kind: WorkKind, deadline: number, attempt: () => Promise<T>): Promise<T> {
    this.budget.recordRequest();
    // The first attempt without an async frame of its own: most calls succeed at once.
    return breaker.execute(attempt).catch((e: unknown) => this.retrying(target, breaker, kind, deadline, attempt, e));
  }

  private async retrying<T>(target: string, breaker: Pick<TargetBreaker, 'execute'>, kind: WorkKind, deadline: number, attempt: () => Promise<T>, firstError: unknown): Promise<T> {
    let backoff: IBackoff<unknown> | undefined;
    let previous: unknown;
    for (let n = 1; ; n++) {
      try {
        if (n > 1) return await breaker.execute(attempt);
        throw firstError;
      } catch (raw) {
        // An open circuit unwraps as 'before': the attempt was never sent.
        const unwrapped = unwrapAttempt(raw);
        const { stage } = unwrapped;
        // The breaker opening during this call's own retries: report the failure that opened it.
        const circuitOpen = isPgpressError(unwrapped.error) && unwrapped.error.code === 'PGP_CIRCUIT_OPEN';
        const error = previous !== undefined && circuitOpen ? previous : unwrapped.error;
        previous = error;
        const state = sqlstateOf(error);
        if (state !== undefined || !(error instanceof PgpressError)) this.metrics.errors.inc({ target, class: state?.slice(0, 2) ?? 'none' });
        const rule = retryRule(error);
        if (rule && !circuitOpen && n < this.opts.maxAttempts && mayRetry(kind, stage, rule)) {
          backoff = backoff ? backoff.next(undefined) : this.backoffFor(rule).next();
          if (Date.now() + backoff.duration < deadline && this.budget.tryRetry()) {
            this.metrics.retries.inc({ target, kind: rule.kind });
            await sleep(backoff.duration);
            continue;
          }
        }
        if (outcomeUnknown(kind, stage, error)) {
          this.metrics.outcomeUnknown.inc({ target });
          throw new PgpressError('PGP_OUTCOME_UNKNOWN', 'The connection failed while the write was in flight; it may or may not have committed.', {
            cause: error,
            pg: { sqlstate: state },
          });
        }
        const failed = fromPgError(error);
        if (failed.code === 'PGP_DEADLINE_EXCEEDED') this.metrics.deadlineExceeded.inc({ target });
        throw failed;
      }
    }
  }

  private backoffFor(rule: RetryRule): ExponentialBackoff<unknown> {
    let b = this.backoffs.get(rule);
    if (!b) this.backoffs.set(rule, (b = new ExponentialBackoff({ initialDelay: rule.initialDelayMs, maxDelay: rule.maxDelayMs })));
    return b;
  }
}
