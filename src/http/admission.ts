// Admission control: at most maxInFlight requests in progress; the rest wait in a short, bounded
// queue and are refused (503) when they would wait too long. Shedding on a sampled signal (event
// loop, pool) refuses work only after the overload shows; this bounds what it admits from the first
// request on: an admitted request waits at most queueTimeoutMs, then runs beside at most
// maxInFlight - 1 others.
import { performance } from 'node:perf_hooks';

/** How many requests run at once and how long the others may wait. */
export interface AdmissionOptions {
  /** Requests in progress at once (at most); 0 turns admission control off. */
  maxInFlight: number;
  /** Requests waiting at once; one more is refused at once. */
  queueMax: number;
  /** The longest a request waits for a slot; also the interval over which a standing queue is judged. */
  queueTimeoutMs: number;
  /** The longest wait once the queue has not drained below this for queueTimeoutMs (a standing queue). */
  queueTargetMs: number;
}

/** Why a request was refused: the queue was full, or it waited past its timeout. */
export type AdmissionRefusal = 'queue_full' | 'queue_timeout';

/** A request waiting for a slot. */
export interface AdmissionWaiter {
  readonly since: number;
  /** Called once: the request holds a slot now (call leave() when it ends). */
  readonly admit: () => void;
  /** Called once: the request is refused and holds nothing. */
  readonly refuse: (reason: AdmissionRefusal) => void;
}

/** Counts right now. */
export interface AdmissionStats {
  inFlight: number;
  queued: number;
  /** A standing queue: served newest first, each waiting at most queueTargetMs. */
  overloaded: boolean;
}

/**
 * A concurrency limit with a CoDel-like queue (Facebook's "adaptive LIFO"): normally it is
 * first-come-first-served, each waiter bounded by queueTimeoutMs. CoDel's criterion tells a standing
 * backlog from a burst: the queue's delay — the wait of its oldest request each time a slot frees —
 * has not once been below queueTargetMs over an interval (queueTimeoutMs). A queue that is merely
 * never empty is not overload: more closed-loop clients than slots always leave some waiting, a few
 * ms each. Once standing, waiters are served newest first (the oldest would mostly be late anyway)
 * and refused past queueTargetMs, so the backlog drains instead of every admitted request paying for
 * it; it stops being standing when the queue empties or its delay falls below half the target over
 * an interval (refusing at the target keeps the delay just under it, so the target itself would end
 * the state at once while the overload goes on).
 */
export class AdmissionControl {
  private inFlight = 0;
  private readonly queue: AdmissionWaiter[] = [];
  /** Whether the queue is standing (decided at the end of each interval; cleared when it empties). */
  private standing = false;
  /** Start of the current interval (performance.now() ms) and the least queue delay seen in it. */
  private intervalAt: number;
  private minDelay = Infinity;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;

  constructor(
    readonly opts: AdmissionOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.intervalAt = now();
    this.sweepMs = Math.max(5, Math.min(50, Math.floor(opts.queueTargetMs / 2)));
  }

  /** Counts and state right now. */
  stats(): AdmissionStats {
    return { inFlight: this.inFlight, queued: this.queue.length, overloaded: this.overloaded(this.now()) };
  }

  /** Whether a request arriving now would be refused at once (every slot taken, the queue full). */
  full(): boolean {
    return this.inFlight >= this.opts.maxInFlight && this.queue.length >= this.opts.queueMax;
  }

  /** Takes a slot if one is free and nobody waits (call leave() when the request ends); false otherwise. */
  tryEnter(): boolean {
    if (this.inFlight >= this.opts.maxInFlight || this.queue.length > 0) return false;
    this.inFlight++;
    return true;
  }

  /**
   * Admits at once (admit() is called before this returns), queues, or refuses at once. Returns the
   * waiter when queued, for cancel() if the request goes away while it waits.
   */
  enter(admit: () => void, refuse: (reason: AdmissionRefusal) => void): AdmissionWaiter | undefined {
    if (this.tryEnter()) {
      admit();
      return undefined;
    }
    if (this.queue.length >= this.opts.queueMax) {
      refuse('queue_full');
      return undefined;
    }
    const now = this.now();
    if (this.queue.length === 0) {
      // A queue forms: its delay is judged from now.
      this.intervalAt = now;
      this.minDelay = Infinity;
    }
    const w: AdmissionWaiter = { since: now, admit, refuse };
    this.queue.push(w);
    if (this.sweeper === undefined) {
      // One timer for all waiters while any wait: a waiter is refused within sweepMs of its limit.
      this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
      this.sweeper.unref();
    }
    return w;
  }

  /** An admitted request ended: its slot goes to a waiter still within its limit. */
  leave(): void {
    this.inFlight--;
    this.sweep();
    if (this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    const now = this.now();
    // The queue's delay is its oldest request's wait, whichever is served: under LIFO the newest's
    // wait is short by construction and would say nothing about the backlog.
    this.minDelay = Math.min(this.minDelay, now - this.queue[0]!.since);
    // Why newest first under overload: the oldest have waited longest and would be refused soonest;
    // serving them keeps every admitted request near the limit instead of near zero.
    const w = this.overloaded(now) ? this.queue.pop()! : this.queue.shift()!;
    this.dequeued();
    this.inFlight++;
    w.admit();
  }

  /** A waiting request went away (its client closed): it leaves the queue unanswered. */
  cancel(w: AdmissionWaiter): void {
    const i = this.queue.indexOf(w);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.dequeued();
  }

  /** Refuses every waiter (the server is closing) and stops the timer. */
  close(): void {
    for (const w of this.queue.splice(0)) w.refuse('queue_timeout');
    this.dequeued();
  }

  private overloaded(now: number): boolean {
    if (this.queue.length === 0) return false;
    if (now - this.intervalAt >= this.opts.queueTimeoutMs) {
      // An interval ended: its least delay, or the oldest's wait so far if no slot freed in it
      // (a lower bound of the delay it will have).
      const min = Math.min(this.minDelay, now - this.queue[0]!.since);
      this.standing = this.standing ? min >= this.opts.queueTargetMs / 2 : min >= this.opts.queueTargetMs;
      this.intervalAt = now;
      this.minDelay = Infinity;
    }
    return this.standing;
  }

  /** Refuses waiters past their limit, oldest first (the queue is in arrival order). */
  private sweep(): void {
    if (this.queue.length === 0) return;
    const now = this.now();
    const limit = this.overloaded(now) ? this.opts.queueTargetMs : this.opts.queueTimeoutMs;
    let n = 0;
    while (n < this.queue.length && now - this.queue[n]!.since >= limit) n++;
    if (n === 0) return;
    const late = this.queue.splice(0, n);
    this.dequeued();
    for (const w of late) w.refuse('queue_timeout');
  }

  private dequeued(): void {
    if (this.queue.length > 0) return;
    this.standing = false; // the queue drained: a delay of 0
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
