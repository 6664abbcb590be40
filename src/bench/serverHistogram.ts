// A server's own view of a load step: a Prometheus histogram scraped from its /metrics before and
// after, the difference summarised. What the server measured (from its onRequest hook to the
// response) next to what the client measured tells apart time spent in the server and time spent
// before it (the kernel's queues, a starved event loop) or in the load generator itself.

/** Cumulative bucket counts by upper bound (seconds; Infinity for +Inf). */
export type Buckets = Map<number, number>;

/** Sums the buckets of a histogram over every series whose labels include each of `match`. */
export function parseBuckets(text: string, metric: string, match: Record<string, string> = {}): Buckets {
  const out: Buckets = new Map();
  const prefix = `${metric}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice(prefix.length, close);
    if (!Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return out;
}

/** after − before, bucket by bucket. */
export function diffBuckets(after: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0));
  return out;
}

/** The upper bound (ms) of the bucket holding quantile q, and the count; NaN when empty. */
export function bucketQuantileMs(b: Buckets, q: number): { ms: number; count: number } {
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const count = b.get(Number.POSITIVE_INFINITY) ?? 0;
  if (count === 0) return { ms: Number.NaN, count };
  const le = bounds.find((x) => (b.get(x) ?? 0) >= q * count)!;
  return { ms: le * 1000, count };
}

/** GET base/metrics as text ('' when it fails: the figures are then NaN, not the run). */
export async function scrapeMetrics(base: string): Promise<string> {
  try {
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(15_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}
