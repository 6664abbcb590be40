// A retry budget: retries may be at most a share of recent requests (plus a small floor), so an
// outage does not multiply traffic into a retry storm.

/** Budget settings. */
export interface RetryBudgetOptions {
  /** Retries allowed per request over the window (0.2 = one retry per five requests). */
  ratio: number;
  /** Retries always allowed per window, so a quiet process can still retry. */
  minPerWindow: number;
  windowMs: number;
}

const BUCKETS = 10;

/** Sliding-window counter of requests and retries. */
export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private bucket = 0;
  private bucketStart: number;
  private readonly bucketMs: number;

  constructor(
    private readonly opts: RetryBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.floor(opts.windowMs / BUCKETS));
    this.bucketStart = now();
  }

  private advance(): void {
    const t = this.now();
    let steps = Math.floor((t - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    this.bucketStart += steps * this.bucketMs;
    if (steps > BUCKETS) steps = BUCKETS;
    for (let i = 0; i < steps; i++) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.requests[this.bucket] = 0;
      this.retries[this.bucket] = 0;
    }
  }

  /** Counts one first attempt. */
  recordRequest(): void {
    this.advance();
    this.requests[this.bucket]!++;
  }

  /** Takes one retry from the budget; false when the budget is spent (do not retry). */
  tryRetry(): boolean {
    this.advance();
    const requests = this.requests.reduce((a, b) => a + b, 0);
    const retries = this.retries.reduce((a, b) => a + b, 0);
    if (retries >= this.opts.minPerWindow + this.opts.ratio * requests) return false;
    this.retries[this.bucket]!++;
    return true;
  }
}
