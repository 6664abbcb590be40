// Leak reports and the caller stacks they carry. Measured here: a stack capture under async
// stack traces costs 10–20 µs, a third of a point read, so only every n-th call is captured
// until the first leak is seen; from then on every call is, so the next report carries the stack.
import type { DbMetrics } from '../observability/metrics.ts';
import { captureCaller, type CallerTrace, type LeakReport } from './lane.ts';

const NO_TRACE: CallerTrace = {};

/** Samples caller stacks and turns the lanes' leak reports into a metric and a warning. */
export class LeakReporter {
  private seen = false;
  private calls = 0;

  constructor(
    /** False when no lane checks for leaks: no stack is ever captured. */
    private readonly enabled: boolean,
    /** Capture every n-th call's stack until the first leak. */
    private readonly every: number,
    private readonly metrics: DbMetrics,
    private readonly report: ((r: LeakReport) => void) | undefined,
  ) {}

  /** The lanes' onLeak: counts the leak and reports it (default: a PgpressLeakWarning on stderr). */
  readonly onLeak = (r: LeakReport): void => {
    this.seen = true;
    this.metrics.leaks.inc({ target: r.target, lane: r.lane });
    if (this.report) return this.report(r);
    const where = r.stack ?? '(that call was not sampled; stacks are captured for every call from now on)';
    process.emitWarning(`pgpress: a ${r.lane} connection to ${r.target} has been held ${r.heldMs}ms; taken at:\n${where}`, 'PgpressLeakWarning');
  };

  /** The caller's frames above entry, taken while they are still on the synchronous stack (or none, unsampled). */
  trace(entry: (...args: never[]) => unknown): CallerTrace {
    if (!this.enabled) return NO_TRACE;
    if (!this.seen && this.calls++ % this.every !== 0) return NO_TRACE;
    return captureCaller(entry);
  }
}
