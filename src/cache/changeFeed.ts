// The database change feed: LISTENs for the change-log triggers' wake-up and tails
// pgpress_cache_changes with a cursor, so writes made outside pgpress invalidate the cache too.
import pg from 'pg';
import { quoteIdent } from '../db/sql.ts';
import type { Logger } from '../observability/logger.ts';
import type { ChangeFeed, ChangeFeedOptions } from './types.ts';
import { cursorOutlivedRetention, type ChangeCursor, type ChangeCursorStore } from './changeFeedCursor.ts';
import { CHANGE_CHANNEL, currentCursor, pruneChanges, readChanges } from './changeFeedQueries.ts';

/** Options beyond the contract in types.ts; every one has a default. */
export interface StartChangeFeedOptions extends ChangeFeedOptions {
  /** Read the log this often even without a NOTIFY (a lost wake-up costs at most this). Default 1000. */
  pollMs?: number;
  /** Log rows older than this are pruned. Default 15 minutes. */
  retentionMs?: number;
  /** How often to prune. Default 60 s; 0 turns pruning off (another process does it). */
  pruneEveryMs?: number;
  /** Where the cursor survives restarts (Redis, beside L2). Without one a fresh feed starts at "now". */
  cursorStore?: ChangeCursorStore;
  /** Called when the stored cursor is older than the retention: the caller must drop everything. */
  onGap?: () => Promise<void> | void;
  /** Reconnect backoff bounds. Default 100 ms doubling to 5 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** A running change feed. */
export interface RunningChangeFeed extends ChangeFeed {
  /** Whether the LISTEN connection is up. */
  readonly connected: boolean;
  /** The cursor (a snapshot xmin) up to which every change has been delivered; undefined before the first read. */
  readonly cursor: string | undefined;
}

const PAGE = 1000;
const PRUNE_BATCH = 1000;
// A poll or prune that takes longer than this means the connection is unusable: drop and reconnect.
const QUERY_TIMEOUT_MS = 10_000;

interface Row {
  xmin: string;
  now: Date;
  id: string | null;
  xid: string | null;
  tags: string[] | null;
}

/**
 * Starts the feed and resolves once it has connected and read the log up to now (or, if the
 * database is unreachable, at once: it keeps reconnecting in the background).
 * The URL must reach PostgreSQL directly: LISTEN receives nothing through PgBouncer.
 */
export async function startChangeFeed(opts: StartChangeFeedOptions): Promise<RunningChangeFeed> {
  const feed = new Feed(opts);
  await feed.start();
  return feed;
}

class Feed implements RunningChangeFeed {
  private client: pg.Client | undefined;
  private position: string | undefined;
  // Ids at or above the cursor already delivered (they are read again until the cursor passes them).
  private readonly delivered = new Map<string, bigint>();
  private stopped = false;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private failing = false;
  // One warning per streak of failed reads (e.g. migrations not applied yet), not one per poll.
  private readFailing = false;
  private readonly log: Logger;

  constructor(private readonly opts: StartChangeFeedOptions) {
    this.log = opts.log.child({ component: 'cache-change-feed' });
    this.backoffMs = opts.reconnectMinMs ?? 100;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  get cursor(): string | undefined {
    return this.position;
  }

  async start(): Promise<void> {
    this.pollTimer = setInterval(() => this.wake(), this.opts.pollMs ?? 1000);
    const pruneEvery = this.opts.pruneEveryMs ?? 60_000;
    if (pruneEvery > 0) this.pruneTimer = setInterval(() => void this.prune(), pruneEvery);
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.reconnectTimer);
    await this.polling;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new pg.Client({
      connectionString: this.opts.url,
      application_name: 'pgpress-cache-listen',
      keepAlive: true,
      connectionTimeoutMillis: QUERY_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    c.on('error', (e) => this.lost(c, e));
    c.on('end', () => this.lost(c, new Error('connection ended')));
    c.on('notification', (n) => {
      if (n.channel === CHANGE_CHANNEL) this.wake();
    });
    try {
      await c.connect();
      // LISTEN before the first read: a change committed in between is both read and announced.
      await c.query(`LISTEN ${quoteIdent(CHANGE_CHANNEL)}`);
      if (this.position === undefined) await this.boot(c);
    } catch (e) {
      this.lost(c, e as Error);
      return;
    }
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    this.client = c;
    if (this.failing) this.log.info('change feed reconnected; reading everything after its cursor');
    this.failing = false;
    this.backoffMs = this.opts.reconnectMinMs ?? 100;
    this.wake();
    await this.polling;
  }

  // The first cursor: the stored one (L2 survived us; replay from it), else "now" (L1 is empty).
  private async boot(c: pg.Client): Promise<void> {
    const now = (await c.query<{ xmin: string; now: Date }>({ text: currentCursor.text })).rows[0]!;
    const stored = await this.opts.cursorStore?.load().catch((e: Error) => {
      this.log.warn({ err: e.message }, 'change feed could not load its stored cursor; starting from now');
      return undefined;
    });
    if (stored && !cursorOutlivedRetention(stored, now.now, this.opts.retentionMs ?? 15 * 60_000)) {
      this.position = stored.xmin;
      return;
    }
    if (stored) {
      this.log.warn({ storedAt: stored.at.toISOString() }, 'change feed cursor is older than the log retention; invalidating everything');
      await this.opts.onGap?.();
    }
    this.position = now.xmin;
    await this.save({ xmin: now.xmin, at: now.now });
  }

  private lost(c: pg.Client, e: Error): void {
    if (c !== this.client && this.client !== undefined) return;
    if (this.client === c) this.client = undefined;
    // A dropped client's late 'error'/'end' must not schedule a second reconnect.
    c.removeAllListeners();
    c.on('error', () => undefined);
    void c.end().catch(() => undefined);
    if (this.stopped || this.reconnectTimer !== undefined) return;
    if (!this.failing) this.log.warn({ err: e.message }, 'change feed connection lost; reconnecting');
    this.failing = true;
    const max = this.opts.reconnectMaxMs ?? 5_000;
    // Full jitter, so instances that lost the same server do not reconnect in step.
    const delay = Math.round(this.backoffMs / 2 + Math.random() * (this.backoffMs / 2));
    this.backoffMs = Math.min(max, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  // Runs one read at a time; a wake-up during a read makes it read once more after.
  private wake(): void {
    if (this.stopped || this.client === undefined) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.drain().finally(() => {
      this.polling = undefined;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    const c = this.client;
    if (!c || this.position === undefined) return;
    let after = '0';
    let next: ChangeCursor | undefined;
    try {
      for (;;) {
        const { rows } = await c.query<Row>({ text: readChanges.text, values: [this.position, after, PAGE] });
        // The first page's snapshot is the oldest: its xmin is the cursor safe for all pages.
        next ??= { xmin: rows[0]!.xmin, at: rows[0]!.now };
        const fresh = rows.filter((r) => r.id !== null && !this.delivered.has(r.id));
        if (fresh.length > 0 && !(await this.deliver([...new Set(fresh.flatMap((r) => r.tags ?? []))]))) return;
        for (const r of fresh) this.delivered.set(r.id!, BigInt(r.xid!));
        const last = rows[rows.length - 1]!;
        if (rows.length < PAGE || last.id === null) break;
        after = last.id;
      }
    } catch (e) {
      if (c === this.client && isConnectionFailure(e)) this.lost(c, e as Error);
      else if (!this.readFailing) this.log.warn({ err: (e as Error).message }, 'change feed read failed; the next reads retry from the same cursor');
      this.readFailing = true;
      return;
    }
    this.readFailing = false;
    const floor = BigInt(next.xmin);
    for (const [id, xid] of this.delivered) if (xid < floor) this.delivered.delete(id);
    if (next.xmin !== this.position) {
      this.position = next.xmin;
      await this.save(next);
    }
  }

  // False when onTags failed: nothing is marked delivered and the cursor stays, so the next read retries.
  private async deliver(tags: string[]): Promise<boolean> {
    try {
      await this.opts.onTags(tags);
      return true;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'change feed handler failed; the next read delivers these tags again');
      return false;
    }
  }

  private async save(cursor: ChangeCursor): Promise<void> {
    await this.opts.cursorStore?.save(cursor).catch((e: Error) => {
      this.log.warn({ err: e.message }, 'change feed could not store its cursor');
    });
  }

  private async prune(): Promise<void> {
    const c = this.client;
    if (!c || this.position === undefined || this.stopped) return;
    const retentionS = (this.opts.retentionMs ?? 15 * 60_000) / 1000;
    try {
      for (let i = 0; i < 100 && !this.stopped; i++) {
        const r = await c.query({ text: pruneChanges.text, values: [retentionS, PRUNE_BATCH] });
        if ((r.rowCount ?? 0) < PRUNE_BATCH) break;
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'change feed could not prune old log rows');
    }
  }
}

// An error from the connection itself (not from onTags or a statement PostgreSQL refused).
function isConnectionFailure(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|57P)/.test(code)) return true;
  const m = (e as Error).message ?? '';
  return code === undefined && /terminat|Connection|ECONN|EPIPE|timeout|not queryable/i.test(m);
}
