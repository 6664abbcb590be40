// A circuit breaker per target (cockatiel 3.x): consecutive target failures open it, a half-open
// trial closes it again; while open, calls fail fast with PGP_CIRCUIT_OPEN. While it is open, a
// probe tries a fresh connection every probeIntervalMs and closes it as soon as the target answers,
// so service returns right after a restart instead of at the end of the half-open pause.
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { PgpressError } from '../errors/index.ts';
import { unwrapAttempt } from './attempt.ts';
import { ProbeClient } from './probeClient.ts';
import { isTargetFailure } from './retryPolicy.ts';

// Probe interval while the server reports it is starting up (crash recovery): ready any moment.
const STARTING_UP_PROBE_MS = 50;

/** Breaker state as health and metrics report it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Breaker settings. */
export interface BreakerOptions {
  /** Consecutive target failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a trial call (unless a probe closes it first). */
  halfOpenAfterMs: number;
  /** While open, how often a fresh connection is tried (default 200 ms); one that answers closes the circuit. */
  probeIntervalMs?: number | undefined;
  /** How long one probe may take (default 1 s): a frozen server's probe fails after this. */
  probeTimeoutMs?: number | undefined;
}

/** One target's breaker. */
export class TargetBreaker {
  private policy: CircuitBreakerPolicy;
  private readonly probe: ProbeClient | undefined;
  private readonly probeIntervalMs: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  /** probeUrl: where the probe connects while the circuit is open (none: only the half-open trial closes it). */
  constructor(
    readonly target: string,
    private readonly opts: BreakerOptions,
    probeUrl?: string,
  ) {
    this.probeIntervalMs = opts.probeIntervalMs ?? 200;
    // reconnectEvery 1: every probe opens a fresh connection, as a call after the outage would.
    this.probe = probeUrl === undefined ? undefined : new ProbeClient(probeUrl, opts.probeTimeoutMs ?? 1_000, 1);
    this.policy = this.newPolicy();
  }

  private newPolicy(): CircuitBreakerPolicy {
    // Only target failures count: a constraint violation says nothing about the server's health.
    const policy = circuitBreaker(handleWhen((e) => isTargetFailure(unwrapAttempt(e).error)), {
      halfOpenAfter: this.opts.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.opts.failureThreshold),
    });
    policy.onBreak(() => {
      if (policy === this.policy) this.probeLater();
    });
    return policy;
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

  /** Stops probing and closes the probe's connection (the cluster is closing). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.probeTimer);
    this.probe?.discard();
  }

  private probeLater(afterMs = this.probeIntervalMs): void {
    if (!this.probe || this.probeTimer || this.disposed) return;
    this.probeTimer = setTimeout(() => void this.probeOnce(this.probe!), afterMs);
    this.probeTimer.unref();
  }

  private async probeOnce(probe: ProbeClient): Promise<void> {
    let answered = false;
    let startingUp = false;
    try {
      await probe.query('SELECT 1');
      answered = true;
    } catch (e) {
      // Still down. 57P03 "the database system is starting up": it will answer shortly, look again soon.
      startingUp = (e as { code?: unknown }).code === '57P03';
    }
    probe.discard();
    this.probeTimer = undefined;
    if (this.disposed || this.policy.state === CircuitState.Closed) return;
    // cockatiel has no "close now": a fresh policy is a closed circuit (calls still running on the
    // old one finish there and no longer count).
    if (answered) this.policy = this.newPolicy();
    else this.probeLater(startingUp ? Math.min(STARTING_UP_PROBE_MS, this.probeIntervalMs) : this.probeIntervalMs);
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
