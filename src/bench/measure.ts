// The measuring rules every scenario shares: one median, one timer, one round order.

/** The true median: the middle value, or the mean of the two middle values when n is even. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Wall time of fn in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The variants' order in round r: as given in even rounds, reversed in odd ones (A B, B A, A B …),
 *  so that within a round no variant always runs first, after the same neighbour. */
export function roundOrder<T>(variants: readonly T[], r: number): T[] {
  return r % 2 === 0 ? [...variants] : [...variants].reverse();
}

/** Runs every variant once as a warm-up, then `rounds` interleaved rounds (roundOrder); returns each
 *  variant's results in round order. `run` must use the concurrency it is measured at. */
export async function interleaved<K extends string, R>(variants: readonly K[], rounds: number, run: (variant: K) => Promise<R>): Promise<Record<K, R[]>> {
  for (const v of variants) await run(v);
  const out = Object.fromEntries(variants.map((v) => [v, [] as R[]])) as Record<K, R[]>;
  for (let r = 0; r < rounds; r++) for (const v of roundOrder(variants, r)) out[v].push(await run(v));
  return out;
}

/** Median of the per-round ratios a[i] ÷ b[i]: each pair ran side by side under the same machine load. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}
