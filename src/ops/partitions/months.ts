// Month arithmetic for partition bounds, always in UTC (a partition boundary must not move with
// the server's or the operator's time zone).

/** The first day of the UTC month of `d`, as 'YYYY-MM-01'. */
export function monthOf(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

/** The month `n` months after `month` ('YYYY-MM-01'; n may be negative). */
export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return monthOf(new Date(Date.UTC(y, m - 1 + n, 1)));
}

/** Every month from `from` to `to`, both included, ascending. */
export function monthRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m);
  return out;
}
