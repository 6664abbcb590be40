// How late timers ran while some work was under way. A call's deadline is a timer: on a loaded
// machine it fires late by the event loop's delay, so a timing bound is deadline + this, not a
// figure measured on a quiet machine.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

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

/** When the event loop could not run, recorded by a timer: see loopStalls(). */
export interface LoopStalls {
  /** Time within [from, to] (performance.now() ms) during which a due timer could not run. */
  stalledMs(from: number, to: number): number;
  /** The longest single lateness of the timer so far (ms). */
  maxDelayMs(): number;
  /** Stops the timer (call it before the test ends: no timer may outlive a test). */
  stop(): void;
}

/**
 * Starts a timer every periodMs and keeps when it ran. Why a sum over a window and not the max:
 * a request crosses the loop many times (connect, parse, hooks, the database's reply, the write),
 * and on a starved machine each crossing may wait, so its latency grows by the loop's total stall
 * during it, not by the single longest one. Waiting in a queue is not a stall (the loop is idle),
 * so a bound of "work + stalls" still catches a request that waited behind a backlog.
 */
export function loopStalls(periodMs = 10): LoopStalls {
  const ticks = [performance.now()];
  const timer = setInterval(() => ticks.push(performance.now()), periodMs);
  return {
    stalledMs(from, to) {
      let sum = 0;
      // Between two ticks, the loop was late from when the second was due until it ran.
      for (let i = 1; i < ticks.length; i++) sum += Math.max(0, Math.min(ticks[i]!, to) - Math.max(ticks[i - 1]! + periodMs, from));
      return sum;
    },
    maxDelayMs() {
      let max = 0;
      for (let i = 1; i < ticks.length; i++) max = Math.max(max, ticks[i]! - ticks[i - 1]! - periodMs);
      return max;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
