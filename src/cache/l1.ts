// L1: the in-process tier. An LRU bounded by bytes, with a tag index to drop entries by tag.
import { LRUCache } from 'lru-cache';
import type { Entry } from './entry.ts';

/** How long a tag's last invalidation is remembered: longer than any load may take. */
const REMEMBER_MS = 60_000;

/** The in-process tier. */
export class L1 {
  private readonly lru: LRUCache<string, Entry>;
  private readonly byTag = new Map<string, Set<string>>();
  /** When each tag was last invalidated here (Date.now()): a load that started earlier must not be stored. */
  private readonly invalidatedAt = new Map<string, number>();
  /** Loads that started before the last clear are not stored. */
  private clearedAt = -Infinity;

  /** maxBytes: the sum of the entries' measured sizes never exceeds it. */
  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      // An entry larger than the whole cache is simply not kept.
      maxEntrySize: maxBytes,
      sizeCalculation: () => 1,
      dispose: (e, key) => this.unindex(key, e.tags),
    });
  }

  /** The entry under key, marked recently used. */
  get(key: string): Entry | undefined {
    return this.lru.get(key);
  }

  /**
   * Stores e (measured at `bytes`) unless one of its tags was invalidated after `startedAt`, when
   * its load began: that load may have read the data the invalidation replaced.
   */
  set(key: string, e: Entry, bytes: number, startedAt: number): boolean {
    if (startedAt <= this.clearedAt) return false;
    for (const t of e.tags) if ((this.invalidatedAt.get(t) ?? -Infinity) >= startedAt) return false;
    this.lru.set(key, e, { size: Math.max(1, bytes) });
    for (const t of e.tags) {
      let keys = this.byTag.get(t);
      if (!keys) this.byTag.set(t, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Drops every entry carrying one of tags; loads that began before `now` (it may lie ahead: a settle window) are not stored. */
  invalidate(tags: readonly string[], now: number = Date.now()): void {
    // '*': everything (the change feed lost track, e.g. its cursor fell behind the log's retention).
    if (tags.includes('*')) return this.clear(now);
    if (this.invalidatedAt.size > 10_000) this.forget(now);
    for (const t of tags) {
      this.invalidatedAt.set(t, now);
      const keys = this.byTag.get(t);
      if (!keys) continue;
      for (const k of [...keys]) this.lru.delete(k);
    }
  }

  /** Drops everything (after missed invalidations, e.g. the bus reconnected). */
  clear(now: number = Date.now()): void {
    this.lru.clear();
    // Loads in flight started before the clear may have read what the missed messages replaced.
    this.clearedAt = now;
  }

  /** Bytes held (the measured sizes). */
  bytes(): number {
    return this.lru.calculatedSize;
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const t of tags) {
      const keys = this.byTag.get(t);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(t);
    }
  }

  private forget(now: number): void {
    for (const [t, at] of this.invalidatedAt) if (now - at > REMEMBER_MS) this.invalidatedAt.delete(t);
  }
}
