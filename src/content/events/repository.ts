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

/** How far past this server's clock an occurredAt may lie: client clocks run a little ahead. */
export const EVENT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Who sends the events and which months are kept. */
export interface EventIngestOptions {
  /** The sender may see every article (editors, admins); otherwise published ones and their own. */
  seesAll?: boolean;
  /** Months of events kept, the current one included (EVENTS_RETENTION_MONTHS; 0 keeps all). */
  retentionMonths?: number;
}

/** The first instant the retention window keeps: the start (UTC) of the oldest kept month. */
export function retentionStart(now: Date, retentionMonths: number): Date | undefined {
  if (retentionMonths <= 0) return undefined;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (retentionMonths - 1), 1));
}

// Bounds on occurredAt: a future date would create partitions for months to come and count in the
// 7/30-day figures for ever; a date before retention lands in a month that is already retired.
function check(e: ArticleEvent, now: Date, oldest: Date | undefined): void {
  if ((e.kind === 'read_time') !== (e.readMs !== undefined && e.readMs !== null)) {
    throw new PgpressError('PGP_VALIDATION', 'readMs is required for read_time events and not allowed for others.', { details: { field: 'readMs' } });
  }
  if (e.occurredAt === undefined) return;
  const t = new Date(e.occurredAt).getTime();
  if (Number.isNaN(t)) throw new PgpressError('PGP_VALIDATION', 'occurredAt must be an ISO 8601 date-time.', { details: { field: 'occurredAt' } });
  if (t > now.getTime() + EVENT_MAX_FUTURE_SKEW_MS) {
    throw new PgpressError('PGP_VALIDATION', `occurredAt may be at most ${EVENT_MAX_FUTURE_SKEW_MS / 60_000} minutes in the future.`, { details: { field: 'occurredAt' } });
  }
  if (oldest !== undefined && t < oldest.getTime()) {
    throw new PgpressError('PGP_VALIDATION', `occurredAt must not be before ${oldest.toISOString()} (the events retention window).`, { details: { field: 'occurredAt' } });
  }
}

const DEFAULT_RETENTION_MONTHS = 13;

function fromDbError(e: unknown): never {
  if ((e as PgpressError).pg?.sqlstate === '23503') {
    throw new PgpressError('PGP_UNPROCESSABLE', 'An event refers to an article or user that does not exist.', { cause: e });
  }
  throw e;
}

/** Records one event; returns its id. An article the sender may not see is answered as missing. */
export async function recordEvent(db: Queryable, e: ArticleEvent, opts: EventIngestOptions = {}): Promise<string> {
  const now = new Date();
  check(e, now, retentionStart(now, opts.retentionMonths ?? DEFAULT_RETENTION_MONTHS));
  const occurredAt = e.occurredAt instanceof Date ? e.occurredAt.toISOString() : (e.occurredAt ?? null);
  try {
    const { rows } = await db.query<{ id: string }>(insertEvent, [e.articleId, e.userId ?? null, e.kind, e.readMs ?? null, occurredAt, opts.seesAll ?? false]);
    return rows[0]!.id;
  } catch (err) {
    return fromDbError(err);
  }
}

/** Records many events in one INSERT (all or none); returns how many. */
export async function recordEvents(db: Queryable, events: readonly ArticleEvent[], opts: EventIngestOptions = {}): Promise<number> {
  if (events.length > MAX_BATCH) throw new PgpressError('PGP_VALIDATION', `A batch holds at most ${MAX_BATCH} events.`);
  if (events.length === 0) return 0;
  const now = new Date();
  const oldest = retentionStart(now, opts.retentionMonths ?? DEFAULT_RETENTION_MONTHS);
  for (const e of events) check(e, now, oldest);
  const cols = [
    events.map((e) => e.articleId),
    events.map((e) => e.userId ?? null),
    events.map((e) => e.kind),
    events.map((e) => e.readMs ?? null),
    events.map((e) => (e.occurredAt instanceof Date ? e.occurredAt.toISOString() : (e.occurredAt ?? null))),
  ];
  try {
    const { rowCount } = await db.query(insertEvents, [...cols, opts.seesAll ?? false]);
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
