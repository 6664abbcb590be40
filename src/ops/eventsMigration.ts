// Online migration of an unpartitioned events table into the partitioned article_events: copies
// in id-ordered batches while writers keep inserting into the old table, records progress in the
// same transaction as each batch (an interruption resumes exactly where it stopped), copies the
// tail under a short write lock, then — without the lock — validates row counts and a checksum per
// UTC month of every row up to the tail's last id.
// Precondition: the old table has article_events' columns (id, article_id, user_id, kind,
// read_ms, occurred_at), and writers still write only to it; after `validated`, point them at
// article_events and drop the old table (rows written to it after the run: run it again first).
import type { Cluster } from '../db/cluster.ts';
import { quoteIdent, sql, type NamedQuery } from '../db/sql.ts';
import { PgpressError } from '../errors/index.ts';
import { LOCK_KEYS, withMaintenanceLock, type MaintenanceSession } from './lock.ts';

const COLS = 'id, article_id, user_id, kind, read_ms, occurred_at';

/** Options of a migration run. */
export interface EventsMigrationOptions {
  /** The unpartitioned table to move (in the current schema). */
  source: string;
  batchRows?: number;
  lockTimeoutMs?: number;
  /** Called after each committed batch (progress display; tests interrupt the run from here). */
  onBatch?: (p: { lastId: string; copied: number }) => void | Promise<void>;
}

/** Per-month comparison of the old table and article_events. */
export interface MonthCheck {
  month: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
}

/** The outcome: validated (every month matches) or failed (the months that do not). */
export interface EventsMigrationResult {
  state: 'validated' | 'failed' | 'skipped';
  copied: number;
  months: MonthCheck[];
}

const startProgress = sql(
  'eventsMigration.start',
  `INSERT INTO pgpress_events_migration (source_table) VALUES ($1)
   ON CONFLICT (source_table) DO UPDATE SET updated_at = now()
   RETURNING last_id::text, copied::text, state`,
);
const saveProgress = sql(
  'eventsMigration.save',
  'UPDATE pgpress_events_migration SET last_id = $2, copied = copied + $3, updated_at = now() WHERE source_table = $1',
);
const finishProgress = sql(
  'eventsMigration.finish',
  'UPDATE pgpress_events_migration SET state = $2, report = $3, updated_at = now() WHERE source_table = $1',
);
// Ids continue after the migrated ones once writers switch to article_events; never backwards
// (a sequence already past them keeps its place: going back would hand out used ids again).
const syncIdentity = sql(
  'eventsMigration.syncIdentity',
  `SELECT setval(s.seq, greatest($1::bigint, (SELECT max(id) FROM article_events), pg_sequence_last_value(s.seq), 1))
   FROM (SELECT pg_get_serial_sequence('article_events', 'id')::regclass AS seq) s`,
);
const progressOf = sql('eventsMigration.progressOf', 'SELECT copied::text FROM pgpress_events_migration WHERE source_table = $1');

interface Queries {
  batch: NamedQuery; lockSource: NamedQuery; sourceMonths: NamedQuery; targetMonths: NamedQuery; repair: NamedQuery; idRange: NamedQuery; overlap: NamedQuery;
}

function queries(source: string): Queries {
  const s = quoteIdent(source);
  const checksum = `sum(hashtextextended(concat_ws('|', id, article_id, user_id, kind, read_ms, extract(epoch FROM occurred_at)), 0))::text`;
  const month = "to_char(date_trunc('month', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')";
  return {
    // One batch: the next rows by id, inserted keeping their ids; ON CONFLICT makes a replay harmless.
    batch: sql(`eventsMigration.batch.${source}`,
      `WITH b AS (SELECT ${COLS} FROM ${s} WHERE id > $1 ORDER BY id LIMIT $2),
            ins AS (INSERT INTO article_events (${COLS}) OVERRIDING SYSTEM VALUE SELECT ${COLS} FROM b ON CONFLICT DO NOTHING)
       SELECT max(id)::text AS last_id, count(*)::int AS n FROM b`),
    // Writers wait (readers do not) while the tail is copied and the months are compared.
    lockSource: sql(`eventsMigration.lock.${source}`, `LOCK TABLE ${s} IN SHARE ROW EXCLUSIVE MODE`),
    // The comparisons cover the rows up to $1, the last id the tail copied: rows written after
    // the lock was released are the next run's.
    sourceMonths: sql(`eventsMigration.sourceMonths.${source}`,
      `SELECT ${month} AS month, count(*)::int AS n, ${checksum} AS checksum FROM ${s} WHERE id <= $1 GROUP BY 1 ORDER BY 1`),
    targetMonths: sql(`eventsMigration.targetMonths.${source}`,
      `SELECT ${month} AS month, count(*)::int AS n, ${checksum} AS checksum
       FROM article_events e WHERE e.id <= $1 AND EXISTS (SELECT 1 FROM ${s} o WHERE o.id = e.id) GROUP BY 1 ORDER BY 1`),
    // Rows a batch could not see: a transaction that took a lower id but committed after the batch passed it.
    repair: sql(`eventsMigration.repair.${source}`,
      `INSERT INTO article_events (${COLS}) OVERRIDING SYSTEM VALUE
       SELECT ${COLS} FROM ${s} o WHERE o.id <= $1 AND NOT EXISTS (SELECT 1 FROM article_events e WHERE e.id = o.id AND e.occurred_at = o.occurred_at)
       ON CONFLICT DO NOTHING`),
    idRange: sql(`eventsMigration.idRange.${source}`, `SELECT min(id)::text AS min, max(id)::text AS max FROM ${s}`),
    // Ids the target already uses inside the source's range: copying would skip or duplicate them.
    overlap: sql(`eventsMigration.overlap.${source}`,
      'SELECT count(*)::int AS n, min(id)::text AS first FROM (SELECT id FROM article_events WHERE id BETWEEN $1 AND $2 LIMIT 1000) x'),
  };
}

async function compare(s: MaintenanceSession, q: Queries, upTo: string): Promise<MonthCheck[]> {
  type Row = { month: string; n: number; checksum: string };
  const src = (await s.query<Row>(q.sourceMonths, [upTo])).rows;
  const dst = new Map((await s.query<Row>(q.targetMonths, [upTo])).rows.map((r) => [r.month, r]));
  return src.map((r) => ({
    month: r.month, sourceRows: r.n, targetRows: dst.get(r.month)?.n ?? 0,
    sourceChecksum: r.checksum, targetChecksum: dst.get(r.month)?.checksum ?? '0',
  }));
}

const matches = (m: MonthCheck): boolean => m.sourceRows === m.targetRows && m.sourceChecksum === m.targetChecksum;

/** Moves `source` into article_events online; resumable, advisory-locked, validated per month. */
export async function migrateEventsTable(cluster: Cluster, opts: EventsMigrationOptions): Promise<EventsMigrationResult> {
  const batchRows = opts.batchRows ?? 5_000;
  const q = queries(opts.source);
  const r = await withMaintenanceLock(cluster, LOCK_KEYS.eventsMigration, opts.lockTimeoutMs ?? 5_000, async (s) => {
    const range = (await s.query<{ min: string | null; max: string | null }>(q.idRange)).rows[0]!;
    const before = (await s.query<{ copied: string }>(progressOf, [opts.source])).rows[0];
    if ((before === undefined || before.copied === '0') && range.min !== null) {
      // A new migration: the target must not use the source's ids already (a resumed one put them there).
      const o = (await s.query<{ n: number; first: string | null }>(q.overlap, [range.min, range.max])).rows[0]!;
      if (o.n > 0) {
        throw new PgpressError('PGP_CONFLICT',
          `article_events already holds ${o.n === 1000 ? '1000 or more' : o.n} id(s) in ${opts.source}'s range ${range.min}–${range.max} (first: ${o.first}): the ids overlap, and copying would skip or duplicate rows. Renumber one side before migrating.`,
          { details: { source: opts.source, first: o.first } });
      }
      // New rows written to article_events meanwhile get ids past the source's.
      await s.query(syncIdentity, [range.max]);
    }
    const p = (await s.query<{ last_id: string; copied: string; state: string }>(startProgress, [opts.source])).rows[0]!;
    let lastId = p.last_id;
    let copied = Number(p.copied);
    for (;;) {
      const step = await s.tx(async () => {
        const b = (await s.query<{ last_id: string | null; n: number }>(q.batch, [lastId, batchRows])).rows[0]!;
        if (b.last_id !== null) await s.query(saveProgress, [opts.source, b.last_id, b.n]);
        return b;
      });
      if (step.last_id === null) break;
      lastId = step.last_id;
      copied += step.n;
      await opts.onBatch?.({ lastId, copied });
    }
    // The lock covers the tail only: writers wait while the last rows are copied, not while the
    // months are compared.
    const tail = await s.tx(async () => {
      await s.query(q.lockSource);
      const t = (await s.query<{ last_id: string | null; n: number }>(q.batch, [lastId, 2_000_000_000])).rows[0]!;
      if (t.last_id !== null) await s.query(saveProgress, [opts.source, t.last_id, t.n]);
      return t;
    });
    copied += tail.n;
    const upTo = tail.last_id ?? lastId;
    let months = await compare(s, q, upTo);
    if (!months.every(matches)) {
      await s.query(q.repair, [upTo]);
      months = await compare(s, q, upTo);
    }
    const state = months.every(matches) ? 'validated' : 'failed';
    await s.query(finishProgress, [opts.source, state, JSON.stringify(months.filter((m) => !matches(m)))]);
    await s.query(syncIdentity, [upTo]);
    return { state, copied, months } as EventsMigrationResult;
  });
  if (!r.ran) {
    if (r.reason === 'replica') throw new PgpressError('PGP_VALIDATION', 'The events migration must run on the primary.');
    return { state: 'skipped', copied: 0, months: [] };
  }
  return r.value;
}
