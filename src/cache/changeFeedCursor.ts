// Where a change feed resumes after a restart: a cursor kept in Redis beside the L2 tier it protects.
import type { Redis, Cluster as RedisCluster } from 'ioredis';

/** A position in the change log: a snapshot xmin (xid8 as text) and the database clock when read. */
export interface ChangeCursor {
  xmin: string;
  at: Date;
  /**
   * The history the xmin belongs to ("system identifier:timeline" of the primary it was read on).
   * Transaction ids continue on a promoted standby, but those the old primary assigned without
   * the standby seeing them (lost with asynchronous replication) are assigned again: on another
   * history the xmin proves nothing. Absent in cursors stored by older versions (then trusted).
   */
  history?: string;
}

/** Loads and saves the cursor up to which the shared tier (L2) has been invalidated. */
export interface ChangeCursorStore {
  load(): Promise<ChangeCursor | undefined>;
  save(cursor: ChangeCursor): Promise<void>;
}

/** Default Redis key of the stored cursor. */
export const CURSOR_KEY = 'pgpress:cache:changefeed:cursor';

/**
 * A cursor store in Redis. Several instances overwrite one key: any of them having applied the
 * log up to a cursor means the shared L2 has been invalidated up to it; a slower instance writing
 * an older cursor only makes the next boot replay more, never less.
 */
export function redisCursorStore(redis: Redis | RedisCluster, key: string = CURSOR_KEY): ChangeCursorStore {
  return {
    async load(): Promise<ChangeCursor | undefined> {
      const raw = await redis.get(key);
      if (raw === null) return undefined;
      const v = JSON.parse(raw) as { xmin?: unknown; at?: unknown; history?: unknown };
      if (typeof v.xmin !== 'string' || !/^\d+$/.test(v.xmin) || typeof v.at !== 'string') return undefined;
      const at = new Date(v.at);
      if (Number.isNaN(at.getTime())) return undefined;
      return typeof v.history === 'string' ? { xmin: v.xmin, at, history: v.history } : { xmin: v.xmin, at };
    },
    async save(cursor: ChangeCursor): Promise<void> {
      await redis.set(key, JSON.stringify({ xmin: cursor.xmin, at: cursor.at.toISOString(), ...(cursor.history === undefined ? {} : { history: cursor.history }) }));
    },
  };
}

/**
 * Whether the log may have lost rows a stored cursor still needed: rows older than the retention
 * are pruned, so a cursor older than it (by the database clock) cannot prove it saw everything.
 */
export function cursorOutlivedRetention(stored: ChangeCursor, dbNow: Date, retentionMs: number): boolean {
  return dbNow.getTime() - stored.at.getTime() > retentionMs;
}

/** Whether a stored cursor was read on another history than the primary's now (a failover, a switchover, another cluster). */
export function cursorFromOtherHistory(stored: ChangeCursor, history: string): boolean {
  return stored.history !== undefined && stored.history !== history;
}
