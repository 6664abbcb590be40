// Parses the Prometheus text exposition format (what GET /metrics serves) into samples, and the
// figures the dashboard derives from two successive scrapes. Plain ES module: the browser loads it
// as is (no build step) and the tests import it in Node.

/** Parses exposition text into samples { name, labels, value }. Comment and blank lines are skipped. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    out.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return out;
}

function parseValue(s) {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** Samples of one metric, optionally filtered by a predicate on labels. */
export function select(samples, name, where = () => true) {
  return samples.filter((s) => s.name === name && where(s.labels));
}

/** Sum of a metric's values (over the samples where() keeps), or undefined when there are none. */
export function sum(samples, name, where) {
  const xs = select(samples, name, where);
  return xs.length === 0 ? undefined : xs.reduce((a, s) => a + s.value, 0);
}

/** Increase of a counter sum between two scrapes (a reset, e.g. a restart, counts from zero). */
export function increase(prev, cur, name, where) {
  const a = sum(prev, name, where);
  const b = sum(cur, name, where);
  if (b === undefined) return undefined;
  if (a === undefined || b < a) return b;
  return b - a;
}

/**
 * The q-quantile of a histogram's observations between two scrapes, as Prometheus's
 * histogram_quantile computes it: linear interpolation inside the bucket that holds the rank.
 */
export function histogramQuantile(q, prev, cur, name, where) {
  const byLe = new Map();
  for (const s of select(cur, `${name}_bucket`, where)) byLe.set(s.labels.le, (byLe.get(s.labels.le) ?? 0) + s.value);
  const before = new Map();
  for (const s of select(prev, `${name}_bucket`, where)) before.set(s.labels.le, (before.get(s.labels.le) ?? 0) + s.value);
  const buckets = [...byLe.entries()]
    .map(([le, v]) => ({ le: parseValue(le), count: v - (before.get(le) ?? 0) }))
    .sort((x, y) => x.le - y.le);
  if (buckets.length === 0) return undefined;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      // The +Inf bucket has no upper bound: answer the highest finite bound, as Prometheus does.
      if (b.le === Infinity) return lowerLe;
      return lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / Math.max(b.count - lowerCount, 1e-12);
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}
