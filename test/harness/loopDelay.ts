// How late timers ran while some work was under way. A call's deadline is a timer: on a loaded
// machine it fires late by the event loop's delay, so a timing bound is deadline + this, not a
// figure measured on a quiet machine.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Runs fn and returns its value with the longest event-loop delay seen meanwhile (ms). */
export async function withLoopDelay<T>(fn: () => Promise<T>): Promise<{ value: T; maxDelayMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    const value = await fn();
    return { value, maxDelayMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}
