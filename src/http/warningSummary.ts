// A warning that cannot become a log storm: at most one line per interval, with counts.
import type { FastifyBaseLogger } from 'fastify';

/** Counts occurrences by kind; logs the first at once, then at most one summary line per interval. */
export class WarningSummary {
  private counts: Record<string, number> = {};
  private pending = 0;
  private lastAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private detail: Record<string, unknown> = {};

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly msg: string,
    private readonly intervalMs = 10_000,
  ) {}

  /** Records one occurrence of kind; detail (e.g. the last error's message) rides on the next line. */
  note(kind: string, detail?: Record<string, unknown>): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.pending++;
    if (detail) this.detail = detail;
    const now = Date.now();
    if (now - this.lastAt >= this.intervalMs) {
      this.flush();
    } else if (!this.timer) {
      // The tail of a burst is reported too, one interval after the previous line.
      this.timer = setTimeout(() => this.flush(), this.lastAt + this.intervalMs - now);
      this.timer.unref();
    }
  }

  /** Logs what was counted since the last line (nothing if nothing was). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0) return;
    const now = Date.now();
    const sinceMs = Number.isFinite(this.lastAt) ? now - this.lastAt : 0;
    this.log.warn({ ...this.detail, counts: this.counts, total: this.pending, sinceMs }, this.msg);
    this.counts = {};
    this.pending = 0;
    this.detail = {};
    this.lastAt = now;
  }
}
