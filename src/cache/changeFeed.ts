// The database change feed: LISTENs for the change-log triggers' wake-up and tails
// pgpress_cache_changes with a cursor, so writes made outside pgpress invalidate the cache too.
import pg from 'pg';
import { quoteIdent } from '../db/sql.ts';
import { primaryUrlSource, type PrimaryUrlSource } from '../db/topology.ts';
import type { Logger } from '../observability/logger.ts';
import type { ChangeFeed, ChangeFeedOptions } from './types.ts';
import { cursorFromOtherHistory, cursorOutlivedRetention, type ChangeCursor, type ChangeCursorStore } from './changeFeedCursor.ts';
import { CHANGE_CHANNEL, currentCursor, nodeHistory, pruneChanges, readChanges } from './changeFeedQueries.ts';

/** Options beyond the contract in types.ts; every one has a default. */
export interface StartChangeFeedOptions extends ChangeFeedOptions {
  /**
   * Patroni REST endpoints (PATRONI_URLS): the feed connects to Patroni's leader. With these, or a
   * url naming several hosts, every (re)connect resolves the current primary afresh.
   */
  patroniUrls?: readonly string[];
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
// One (re)connect waits this long for a primary to be confirmed, then backs off and tries again.
const RESOLVE_WAIT_MS = 5_000;

interface Row {
  xmin: string;
  now: Date;
  standby: boolean;
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
  // The history (system identifier:timeline) position was read on.
  private history: string | undefined;
  private connecting: Promise<void> | undefined;
  private readonly primaryUrl: PrimaryUrlSource;
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
    this.primaryUrl = primaryUrlSource(opts.url, opts.patroniUrls ?? []);
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
    await this.connectOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.reconnectTimer);
    await this.connecting;
    await this.polling;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  // One connection attempt at a time (stop() waits for it: no probe or client outlives the feed).
  private connectOnce(): Promise<void> {
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let c: pg.Client | undefined;
    try {
      // Resolved on every (re)connect: after a failover the feed reaches the promoted node, not the dead one.
      const url = await this.primaryUrl(RESOLVE_WAIT_MS);
      if (this.stopped) return;
      const client = (c = new pg.Client({
        connectionString: url,
        application_name: 'pgpress-cache-listen',
        keepAlive: true,
        connectionTimeoutMillis: QUERY_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
      }));
      client.on('error', (e) => this.lost(client, e));
      client.on('end', () => this.lost(client, new Error('connection ended')));
      client.on('notification', (n) => {
        if (n.channel === CHANGE_CHANNEL) this.wake();
      });
      await client.connect();
      const node = (await client.query<{ standby: boolean; timeline: number | null; system: string }>(nodeHistory.text)).rows[0]!;
      // A LISTEN on a standby is legal but hears nothing (NOTIFY is not replicated): find the primary.
      if (node.standby) throw new Error('the node is a standby (in recovery): looking for the primary again');
      const history = `${node.system}:${node.timeline}`;
      // LISTEN before the first read: a change committed in between is both read and announced.
      await client.query(`LISTEN ${quoteIdent(CHANGE_CHANNEL)}`);
      if (this.position === undefined) await this.boot(client, history);
      else if (this.history !== undefined && this.history !== history) await this.forked(client, history);
      else this.history = history;
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

  /**
   * The primary is on another history than the cursor (a failover or switchover promoted a new
   * timeline): transactions the old primary committed but never sent may be gone, and their ids
   * assigned again, so the cursor cannot prove what was missed. Drop everything once, then start
   * from now on the new history (the same rule as a cursor older than the retention).
   */
  private async forked(c: pg.Client, history: string): Promise<void> {
    const now = (await c.query<{ xmin: string; now: Date }>({ text: currentCursor.text })).rows[0]!;
    this.log.warn({ from: this.history, to: history }, 'change feed: the primary is on a new timeline (failover or switchover); invalidating everything');
    await this.opts.onGap?.();
    this.position = now.xmin;
    this.history = history;
    this.delivered.clear();
    await this.save({ xmin: now.xmin, at: now.now, history });
  }

  // The first cursor: the stored one (L2 survived us; replay from it), else "now" (L1 is empty).
  private async boot(c: pg.Client, history: string): Promise<void> {
    const now = (await c.query<{ xmin: string; now: Date }>({ text: currentCursor.text })).rows[0]!;
    const stored = await this.opts.cursorStore?.load().catch((e: Error) => {
      this.log.warn({ err: e.message }, 'change feed could not load its stored cursor; starting from now');
      return undefined;
    });
    this.history = history;
    const otherHistory = stored !== undefined && cursorFromOtherHistory(stored, history);
    if (stored && !otherHistory && !cursorOutlivedRetention(stored, now.now, this.opts.retentionMs ?? 15 * 60_000)) {
      this.position = stored.xmin;
      return;
    }
    if (stored) {
      this.log.warn({ storedAt: stored.at.toISOString(), storedHistory: stored.history, history }, otherHistory
        ? 'change feed cursor was stored on another timeline (a failover happened meanwhile); invalidating everything'
        : 'change feed cursor is older than the log retention; invalidating everything');
      await this.opts.onGap?.();
    }
    this.position = now.xmin;
    await this.save({ xmin: now.xmin, at: now.now, history });
  }

  // c: the client that failed (undefined when none was made: the primary could not be resolved).
  private lost(c: pg.Client | undefined, e: Error): void {
    if (c !== undefined) {
      if (c !== this.client && this.client !== undefined) return;
      if (this.client === c) this.client = undefined;
      // A dropped client's late 'error'/'end' must not schedule a second reconnect.
      c.removeAllListeners();
      c.on('error', () => undefined);
      void c.end().catch(() => undefined);
    }
    if (this.stopped || this.reconnectTimer !== undefined) return;
    if (!this.failing) this.log.warn({ err: e.message }, 'change feed connection lost; reconnecting');
    this.failing = true;
    const max = this.opts.reconnectMaxMs ?? 5_000;
    // Full jitter, so instances that lost the same server do not reconnect in step.
    const delay = Math.round(this.backoffMs / 2 + Math.random() * (this.backoffMs / 2));
    this.backoffMs = Math.min(max, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connectOnce();
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
        // Demoted under us (no restart: a partitioned leader told to step down): leave for the primary.
        if (rows[0]!.standby) {
          this.lost(c, new Error('the node became a standby'));
          return;
        }
        // The first page's snapshot is the oldest: its xmin is the cursor safe for all pages.
        next ??= { xmin: rows[0]!.xmin, at: rows[0]!.now, ...(this.history === undefined ? {} : { history: this.history }) };
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
