// Leader election: a session advisory lock held by one dedicated connection (never a pooled one,
// which would hand the lock to whoever leases it next). Followers try the lock every pollMs; the
// leader sends a heartbeat at the same pace. The connection ending or erroring, or a heartbeat
// unanswered within heartbeatTimeoutMs, ends the leadership at once: the server released the lock
// (or will, once we close the socket), so another instance may already hold it.
// With a URL source that follows the primary, every new lock connection goes to the primary found
// then, and a lock connection that finds itself on a standby is dropped to look again.
import pg from 'pg';
import { sql } from '../../db/sql.ts';
import type { PrimaryUrlSource } from '../../db/topology.ts';

const tryLead = sql('scheduler.tryLead', 'SELECT pg_is_in_recovery() AS replica, NOT pg_is_in_recovery() AND pg_try_advisory_lock($1) AS leading');
const heartbeat = sql('scheduler.heartbeat', 'SELECT pg_is_in_recovery() AS replica');
const backendPid = sql('scheduler.backendPid', 'SELECT pg_backend_pid() AS pid');
const unlock = sql('scheduler.unlock', 'SELECT pg_advisory_unlock($1)');

/** Advisory lock key of the scheduler's leadership (distinct from the migrator's and the jobs'). */
export const LEADER_LOCK_KEY = 7_283_901_300n;

/** How an election runs. */
export interface LeaderOptions {
  /** The primary's URL, or a source resolving the current primary for each new lock connection (see primaryUrlSource). */
  url: string | PrimaryUrlSource;
  /** Followers try the lock, and the leader sends a heartbeat, this often. */
  pollMs: number;
  /** A heartbeat unanswered this long ends the leadership (default 3 × pollMs, at least 2 s). */
  heartbeatTimeoutMs?: number;
  key?: bigint;
  /** Called on every change of leadership (true: now leading). */
  onChange?: (leading: boolean) => void;
  /** Called with errors that only cost a round (connect refused, replica). */
  onError?: (e: Error) => void;
}

/** One instance's part in the election. */
export class LeaderElection {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private isLeader = false;
  private pid: number | undefined;
  /** Epoch ms before which this instance does not try the lock again after losing it. */
  private backOffUntil = 0;
  private round: Promise<void> = Promise.resolve();
  private readonly key: bigint;
  private readonly heartbeatTimeoutMs: number;

  constructor(private readonly opts: LeaderOptions) {
    this.key = opts.key ?? LEADER_LOCK_KEY;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? Math.max(3 * opts.pollMs, 2_000);
  }

  /** True while this instance holds the lock on a live connection. */
  get leading(): boolean {
    return this.isLeader;
  }

  /** The backend pid of the lock connection (for tests and `pgpress jobs`), if connected. */
  get backendPid(): number | undefined {
    return this.client === undefined ? undefined : this.pid;
  }

  /** Starts trying for the lock at once, then every pollMs. */
  start(): void {
    this.schedule(0);
  }

  /** Runs a statement on the lock connection while leading: it fails if the leadership is lost. */
  async asLeader<R extends pg.QueryResultRow>(q: { name: string; text: string }, params: unknown[]): Promise<pg.QueryResult<R> | undefined> {
    const c = this.client;
    if (!this.isLeader || c === undefined) return undefined;
    return c.query<R>({ text: q.text, values: params });
  }

  /** Gives up the lock and closes the connection; no more rounds. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    const c = this.client;
    this.client = undefined;
    if (c === undefined) return;
    if (this.isLeader) await c.query({ text: unlock.text, values: [this.key.toString()] }).catch(() => undefined);
    this.setLeading(false);
    await c.end().catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.tick().finally(() => this.schedule(this.opts.pollMs));
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      // An instance whose lock connection just failed is the suspect one: it waits two polls, so a
      // follower (trying every poll) takes over rather than it winning the race back.
      if (!this.isLeader && Date.now() < this.backOffUntil) return;
      const c = this.client ?? (await this.connect());
      if (this.stopped) return;
      if (this.isLeader) {
        const { rows } = await withTimeout(c.query<{ replica: boolean }>(heartbeat.text), this.heartbeatTimeoutMs);
        if (rows[0]!.replica) this.lose(c);
      } else {
        const { rows } = await withTimeout(c.query<{ replica: boolean; leading: boolean }>({ text: tryLead.text, values: [this.key.toString()] }), this.heartbeatTimeoutMs);
        if (rows[0]!.leading && this.client === c) this.setLeading(true);
        // On a standby nobody leads; following the primary, the next round looks for it (a fixed URL keeps waiting there).
        else if (rows[0]!.replica && typeof this.opts.url !== 'string') this.lose(c);
      }
    } catch (e) {
      if (this.client) this.lose(this.client);
      if (!this.stopped) this.opts.onError?.(e as Error);
    }
  }

  private async connect(): Promise<pg.Client> {
    // keepAlive: a peer that vanished without closing the socket is noticed by TCP too.
    const url = typeof this.opts.url === 'string' ? this.opts.url : await this.opts.url(this.heartbeatTimeoutMs);
    if (this.stopped) throw new Error('the election stopped');
    const c = new pg.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: 5_000, application_name: 'pgpress-scheduler', connectionTimeoutMillis: this.heartbeatTimeoutMs });
    // pg_terminate_backend or a server crash surfaces here on an idle client: stop leading now,
    // not at the next heartbeat.
    c.on('error', () => this.lose(c));
    c.on('end', () => this.lose(c));
    try {
      await c.connect();
    } catch (e) {
      c.removeAllListeners('end');
      throw e;
    }
    this.pid = (await c.query<{ pid: number }>(backendPid.text)).rows[0]!.pid;
    this.client = c;
    return c;
  }

  private lose(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = undefined;
    if (this.isLeader) this.backOffUntil = Date.now() + 2 * this.opts.pollMs;
    this.setLeading(false);
    // Closing the socket releases the lock on the server if it still thinks we hold it.
    c.end().catch(() => undefined);
  }

  private setLeading(v: boolean): void {
    if (this.isLeader === v) return;
    this.isLeader = v;
    this.opts.onChange?.(v);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`heartbeat unanswered after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
