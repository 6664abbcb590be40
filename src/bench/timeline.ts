// What a scenario did, second by second: every operation a load generator or a library loop
// completes is recorded here (latency and success), and the run's report draws throughput and
// latency percentiles over time from it. One timeline is active while a scenario runs, so the load
// helpers (httpLoad, openLoop, throughput) record without each scenario passing it along.

/** Per-second figures of the operations recorded: the x values are Unix seconds. */
export interface LoadSeries {
  t: number[];
  /** Operations completed in the second. */
  ops: number[];
  errors: number[];
  p50: number[];
  p95: number[];
  p99: number[];
  max: number[];
}

/** The p-th percentile (0–100) of values sorted ascending: nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Latencies grouped by the wall-clock second their operation ended in. */
export class Timeline {
  private readonly buckets = new Map<number, { lat: number[]; errors: number }>();

  /** Records one operation that took ms milliseconds and ended now. */
  record(ms: number, ok = true): void {
    const second = Math.floor(Date.now() / 1000);
    let b = this.buckets.get(second);
    if (!b) this.buckets.set(second, (b = { lat: [], errors: 0 }));
    b.lat.push(ms);
    if (!ok) b.errors++;
  }

  /** The series, one point per second from the first to the last second anything ended in. */
  series(): LoadSeries {
    const out: LoadSeries = { t: [], ops: [], errors: [], p50: [], p95: [], p99: [], max: [] };
    const seconds = [...this.buckets.keys()].sort((a, b) => a - b);
    if (seconds.length === 0) return out;
    for (let s = seconds[0]!; s <= seconds[seconds.length - 1]!; s++) {
      const b = this.buckets.get(s);
      const lat = b ? [...b.lat].sort((x, y) => x - y) : [];
      out.t.push(s);
      out.ops.push(lat.length);
      out.errors.push(b?.errors ?? 0);
      // An idle second has no latency: null in the report (a gap), not 0.
      for (const [key, p] of [['p50', 50], ['p95', 95], ['p99', 99], ['max', 100]] as const) out[key].push(lat.length ? round2(percentile(lat, p)) : Number.NaN);
    }
    return out;
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

let active: Timeline | undefined;

/** The timeline operations are recorded into now (undefined outside a scenario run). */
export function activeTimeline(): Timeline | undefined {
  return active;
}

/** Makes t the active timeline (undefined: none). */
export function setActiveTimeline(t: Timeline | undefined): void {
  active = t;
}

/** Records into the active timeline, if any. */
export function recordOp(ms: number, ok = true): void {
  active?.record(ms, ok);
}
