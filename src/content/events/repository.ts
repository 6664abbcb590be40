// Events: engagement ingestion, one at a time or in batches.
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { eventCountsInWindow, insertEvent, insertEvents } from './queries.ts';

/** What happened to an article. */
export type EventKind = 'view' | 'like' | 'share' | 'read_time';

/** One engagement event; readMs is required for read_time and absent otherwise. */
export interface ArticleEvent {
  articleId: number;
  userId?: number | null;
  kind: EventKind;
  readMs?: number | null;
  occurredAt?: Date | string;
}

const MAX_BATCH = 10_000;

function check(e: ArticleEvent): void {
  if ((e.kind === 'read_time') !== (e.readMs !== undefined && e.readMs !== null)) {
    throw new PgpressError('PGP_VALIDATION', 'readMs is required for read_time events and not allowed for others.', { details: { field: 'readMs' } });
  }
}

function fromDbError(e: unknown): never {
  if ((e as PgpressError).pg?.sqlstate === '23503') {
    throw new PgpressError('PGP_UNPROCESSABLE', 'An event refers to an article or user that does not exist.', { cause: e });
  }
  throw e;
}

/** Records one event; returns its id. */
export async function recordEvent(db: Queryable, e: ArticleEvent): Promise<string> {
  check(e);
  try {
    const { rows } = await db.query<{ id: string }>(insertEvent, [e.articleId, e.userId ?? null, e.kind, e.readMs ?? null, e.occurredAt ?? null]);
    return rows[0]!.id;
  } catch (err) {
    return fromDbError(err);
  }
}

/** Records many events in one INSERT (all or none); returns how many. */
export async function recordEvents(db: Queryable, events: readonly ArticleEvent[]): Promise<number> {
  if (events.length > MAX_BATCH) throw new PgpressError('PGP_VALIDATION', `A batch holds at most ${MAX_BATCH} events.`);
  if (events.length === 0) return 0;
  events.forEach(check);
  const cols = [
    events.map((e) => e.articleId),
    events.map((e) => e.userId ?? null),
    events.map((e) => e.kind),
    events.map((e) => e.readMs ?? null),
    events.map((e) => (e.occurredAt instanceof Date ? e.occurredAt.toISOString() : (e.occurredAt ?? null))),
  ];
  try {
    const { rowCount } = await db.query(insertEvents, cols);
    return rowCount ?? 0;
  } catch (err) {
    return fromDbError(err);
  }
}

/** Event counts by kind for one article within [from, to). */
export async function eventCounts(db: Queryable, articleId: number, from: Date, to: Date): Promise<Record<string, number>> {
  const { rows } = await db.query<{ kind: string; n: string }>(eventCountsInWindow, [articleId, from.toISOString(), to.toISOString()]);
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
}
