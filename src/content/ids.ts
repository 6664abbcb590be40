// Row ids: PostgreSQL bigint arrives as a string; the API speaks JSON numbers.

/** Converts a bigint id from node-postgres to a number, refusing values JSON cannot hold exactly. */
export function toId(raw: string | number): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new RangeError(`Id ${raw} is beyond the safe integer range`);
  return n;
}
