// Point reads by id that arrive together are answered by one `WHERE id = ANY($1)` statement: a
// read that finds nothing in flight and no one waiting is sent at once (no wait at one caller);
// otherwise the callers of one event-loop turn (setImmediate) form a batch of at most maxBatch ids
// (more make more batches). Each caller keeps its own deadline (its call fails alone when it passes; the
// statement runs until the latest caller's deadline) and gets its own row, or null for an id
// that is not there. Routing: every statement is a read (`read: true`: replica or primary by the
// Cluster's rules) on one lane; the read-your-writes tokens of a batch's callers are merged into
// the strictest (the highest LSN), which every caller's own token is at or below — a caller
// without a token may so be sent to the primary, never given staler data than it asked for. A
// failed statement fails every caller of its batch with that error.
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { maxLsn } from './lsn.ts';
import type { Queryable } from './queryable.ts';
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
  /** The same read for one id ($1): a batch of one runs it (no array to build and unnest). */
  one?: NamedQuery | undefined;
  /** The most ids in one statement (default 100). */
  maxBatch?: number;
}

interface Waiter<R> {
  id: number;
  opts: PointReadOptions;
  resolve: (row: R | null) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
}

/** Batches point reads on db; load() resolves with the row or null. */
export class PointReadBatcher<R extends pg.QueryResultRow> {
  private pending: Waiter<R>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;

  constructor(
    private readonly db: Queryable,
    private readonly o: PointReadBatchOptions<R>,
  ) {
    this.maxBatch = Math.max(1, o.maxBatch ?? 100);
  }

  /** The row with this id, or null; PGP_DEADLINE_EXCEEDED when opts.deadline passes first. */
  load(id: number, opts: PointReadOptions = {}): Promise<R | null> {
    return new Promise<R | null>((resolve, reject) => {
      const w: Waiter<R> = { id, opts, resolve, reject, timer: undefined, done: false };
      if (opts.deadline !== undefined) {
        w.timer = setTimeout(() => settle(w, () => reject(new PgpressError('PGP_DEADLINE_EXCEEDED', `The read of id ${id} did not finish before its deadline.`))), Math.max(0, opts.deadline - Date.now()));
      }
      // Nothing in flight and no one waiting: send at once (a lone caller pays no wait for a batch).
      if (this.inFlight === 0 && this.pending.length === 0) {
        void this.run([w]);
        return;
      }
      this.pending.push(w);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
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
      token = maxLsn(token, w.opts.token);
      // A caller without a deadline leaves the statement to the lane's default.
      deadline = w.opts.deadline === undefined || deadline === undefined ? undefined : Math.max(deadline, w.opts.deadline);
    }
    const ids = [...new Set(live.map((w) => w.id))];
    this.inFlight++;
    try {
      const single = ids.length === 1 && this.o.one !== undefined;
      const { rows } = await this.db.query<R>(single ? this.o.one! : this.o.many, [single ? ids[0] : ids], {
        read: true,
        ...(token === undefined ? {} : { token }),
        ...(deadline === undefined ? {} : { deadlineMs: Math.max(1, deadline - Date.now()) }),
      });
      const byId = new Map(rows.map((r) => [this.o.keyOf(r), r]));
      for (const w of live) settle(w, () => w.resolve(byId.get(w.id) ?? null));
    } catch (e) {
      for (const w of live) settle(w, () => w.reject(e));
    } finally {
      this.inFlight--;
    }
  }
}

function settle<R>(w: Waiter<R>, fn: () => void): void {
  if (w.done) return;
  w.done = true;
  if (w.timer) clearTimeout(w.timer);
  fn();
}
