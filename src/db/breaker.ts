// A circuit breaker per target (cockatiel 3.x): consecutive target failures open it, a half-open
// trial closes it again; while open, calls fail fast with PGP_CIRCUIT_OPEN.
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { PgpressError } from '../errors/index.ts';
import { unwrapAttempt } from './attempt.ts';
import { isTargetFailure } from './retryPolicy.ts';

/** Breaker state as health and metrics report it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Breaker settings. */
export interface BreakerOptions {
  /** Consecutive target failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a trial call. */
  halfOpenAfterMs: number;
}

/** One target's breaker. */
export class TargetBreaker {
  private readonly policy: CircuitBreakerPolicy;

  constructor(
    readonly target: string,
    opts: BreakerOptions,
  ) {
    // Only target failures count: a constraint violation says nothing about the server's health.
    this.policy = circuitBreaker(handleWhen((e) => isTargetFailure(unwrapAttempt(e).error)), {
      halfOpenAfter: opts.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.failureThreshold),
    });
  }

  /** The current state. */
  get state(): BreakerState {
    const s = this.policy.state;
    return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /** Runs fn through the breaker; an open circuit throws PGP_CIRCUIT_OPEN at once. */
  execute<T>(fn: () => Promise<T>): Promise<T> {
    return this.policy.execute(fn).catch(this.mapOpen);
  }

  private readonly mapOpen = (e: unknown): never => {
    if (e instanceof BrokenCircuitError) {
      throw new PgpressError('PGP_CIRCUIT_OPEN', `The circuit to ${this.target} is open after repeated failures; failing fast until a trial succeeds.`, {
        cause: e,
        details: { target: this.target },
      });
    }
    throw e;
  };
}
