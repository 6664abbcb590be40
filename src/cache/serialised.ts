// The JSON of cached values, made once per entry instead of once per response: a cached value is
// one object shared by every request that hits it (and never mutated), so its text never changes.

/** Cached values (by identity) and their JSON once made ('' until the first response needs it). */
const texts = new WeakMap<object, string>();

/** Marks v as a cached value: shared, never mutated, so its JSON may be kept beside it. */
export function markShared(v: unknown): void {
  if (typeof v === 'object' && v !== null && !texts.has(v)) texts.set(v, '');
}

/**
 * JSON.stringify(data), made at most once for a value markShared marked (the response serialiser:
 * a route that answers with the cached object itself sends the kept text). Anything else — a value
 * a route built, a draft never stored — is serialised as usual.
 */
export function toJson(data: unknown): string {
  if (typeof data !== 'object' || data === null) return JSON.stringify(data);
  const kept = texts.get(data);
  if (kept === undefined) return JSON.stringify(data);
  if (kept !== '') return kept;
  const text = JSON.stringify(data);
  texts.set(data, text);
  return text;
}
