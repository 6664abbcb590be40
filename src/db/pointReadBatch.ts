// Point reads by id that arrive together are answered by one `WHERE id = ANY($1)` statement: a
// read that finds nothing in flight and no one waiting is sent at once, as it came (its own
// options, no timer, no wait: a lone caller costs what a direct read costs); otherwise the callers
// of one event-loop turn (setImmediate) form a batch of at most maxBatch ids (more make more
// batches). Each caller keeps its own deadline (its call fails alone when it passes; the statement
// runs until the latest caller's deadline) and gets its own row, or none for an id that is not
// there. Routing: every statement is a read (`read: true`: replica or primary by the Cluster's
// rules) on the default lane (a read on another lane is not batched); the read-your-writes tokens
// of a batch's callers (a token or a session's) are merged into the strictest (the highest LSN),
// which every caller's own token is at or below — a caller without a token may so be sent to the
// primary, never given staler data than it asked for. A failed statement fails every caller of
// its batch with that error.
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { maxLsn } from './lsn.ts';
import type { Queryable, QueryOptions } from './queryable.ts';
import type { NamedQuery } from './sql.ts';

/** One caller's read: its deadline (epoch ms) and read-your-writes token. */
export interface PointReadOptions {
  deadline?: number | undefined;
  token?: string | undefined;
}

/** How a batcher reads: `many` takes the ids as $1 (bigint[]); keyOf names the id of a row. */
export interface PointReadBatchOptions<R extends pg.QueryResultRow> {
  many: NamedQuery;
  keyOf: (row: R) => number;
  /** The same read for one id ($1): a lone read and a batch of one run it (no array to build and unnest). */
  one?: NamedQuery | undefined;
  /** The most ids in one statement (default 100). */
  maxBatch?: number;
}

interface Waiter<R extends pg.QueryResultRow> {
  id: number;
  token: string | undefined;
  /** Epoch ms; undefined: the lane's default. */
  deadline: number | undefined;
  resolve: (r: pg.QueryResult<R>) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
}

/** What batchingReads routes to: a batcher, whatever its row type. */
export interface PointReads {
  readonly one: NamedQuery | undefined;
  query(id: number, opts?: QueryOptions): Promise<pg.QueryResult>;
}

const READ: QueryOptions = Object.freeze({ read: true });

/** Batches point reads on db: query() answers as db.query would for the one id; load() with the row or null. */
export class PointReadBatcher<R extends pg.QueryResultRow> {
  private pending: Waiter<R>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  // Bound once: the lone path allocates no closure.
  private readonly settledLone = (): void => void this.inFlight--;
  private readonly flushNow = (): void => this.flush();

  constructor(
    private readonly db: Queryable,
    private readonly o: PointReadBatchOptions<R>,
  ) {
    this.maxBatch = Math.max(1, o.maxBatch ?? 100);
  }

  /** The single-id statement this batcher answers for (batchingReads routes it here). */
  get one(): NamedQuery | undefined {
    return this.o.one;
  }

  /** The row with this id, or null; PGP_DEADLINE_EXCEEDED when opts.deadline passes first. */
  load(id: number, opts: PointReadOptions = {}): Promise<R | null> {
    const q: QueryOptions = { read: true };
    if (opts.token !== undefined) q.token = opts.token;
    if (opts.deadline !== undefined) q.deadlineMs = Math.max(1, opts.deadline - Date.now());
    return this.query(id, q).then(firstRow);
  }

  /**
   * The result of reading id (rows: the row, or none) with the caller's options: a lone read is
   * sent with them as they are; a batched one keeps its deadline (deadlineMs) and its token
   * (token, session). A lane other than the default is read alone.
   */
  query(id: number, opts: QueryOptions = READ): Promise<pg.QueryResult<R>> {
    if ((this.inFlight === 0 && this.pending.length === 0) || (opts.lane !== undefined && opts.lane !== 'default')) {
      this.inFlight++;
      const p = this.o.one ? this.db.query<R>(this.o.one, [id], opts) : this.db.query<R>(this.o.many, [[id]], opts);
      p.then(this.settledLone, this.settledLone);
      return p;
    }
    return new Promise<pg.QueryResult<R>>((resolve, reject) => {
      const deadline = opts.deadlineMs === undefined ? undefined : Date.now() + opts.deadlineMs;
      const w: Waiter<R> = { id, token: maxLsn(opts.token, opts.session?.token), deadline, resolve, reject, timer: undefined, done: false };
      if (deadline !== undefined) {
        w.timer = setTimeout(() => settle(w, () => reject(new PgpressError('PGP_DEADLINE_EXCEEDED', `The read of id ${id} did not finish before its deadline.`))), Math.max(0, deadline - Date.now()));
      }
      this.pending.push(w);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += this.maxBatch) void this.run(all.slice(i, i + this.maxBatch));
  }

  private async run(batch: Waiter<R>[]): Promise<void> {
    const live = batch.filter((w) => !w.done);
    if (live.length === 0) return;
    let token: string | undefined;
    let deadline: number | undefined = 0;
    for (const w of live) {
      token = maxLsn(token, w.token);
      // A caller without a deadline leaves the statement to the lane's default.
      deadline = w.deadline === undefined || deadline === undefined ? undefined : Math.max(deadline, w.deadline);
    }
    const ids = [...new Set(live.map((w) => w.id))];
    this.inFlight++;
    try {
      const single = ids.length === 1 && this.o.one !== undefined;
      const r = await this.db.query<R>(single ? this.o.one! : this.o.many, [single ? ids[0] : ids], {
        read: true,
        ...(token === undefined ? {} : { token }),
        ...(deadline === undefined ? {} : { deadlineMs: Math.max(1, deadline - Date.now()) }),
      });
      const byId = new Map(r.rows.map((row) => [this.o.keyOf(row), row]));
      for (const w of live) {
        const row = byId.get(w.id);
        settle(w, () => w.resolve({ command: r.command, oid: r.oid, fields: r.fields, rowCount: row ? 1 : 0, rows: row ? [row] : [] }));
      }
    } catch (e) {
      for (const w of live) settle(w, () => w.reject(e));
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * db, with the point reads of batchers (by their single-id statement `one`: its only parameter a
 * number, `read: true`) batched; every other call goes to db as it came. Content code keeps
 * calling db.query(articleById, [id], { read: true }).
 */
export function batchingReads(db: Queryable, list: readonly PointReads[]): Queryable {
  const batchers = new Map<NamedQuery, PointReads>();
  for (const b of list) {
    if (b.one === undefined) throw new TypeError('batchingReads: a batcher needs its single-id statement (one)');
    batchers.set(b.one, b);
  }
  return {
    query<T extends pg.QueryResultRow>(q: NamedQuery, params?: readonly unknown[], opts?: QueryOptions): Promise<pg.QueryResult<T>> {
      const b = opts?.read === true ? batchers.get(q) : undefined;
      const id = params?.[0];
      if (b === undefined || typeof id !== 'number' || params!.length !== 1) return db.query<T>(q, params, opts);
      return b.query(id, opts) as Promise<pg.QueryResult<T>>;
    },
  };
}

function firstRow<R extends pg.QueryResultRow>(r: pg.QueryResult<R>): R | null {
  return r.rows[0] ?? null;
}

function settle<R extends pg.QueryResultRow>(w: Waiter<R>, fn: () => void): void {
  if (w.done) return;
  w.done = true;
  if (w.timer) clearTimeout(w.timer);
  fn();
}
