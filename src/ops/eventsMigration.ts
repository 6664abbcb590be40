// Online migration of an unpartitioned events table into the partitioned article_events: copies
// in id-ordered batches while writers keep inserting into the old table, records progress in the
// same transaction as each batch (an interruption resumes exactly where it stopped), then catches
// up under a short write lock and validates row counts and a checksum per UTC month.
// Precondition: the old table has article_events' columns (id, article_id, user_id, kind,
// read_ms, occurred_at), and writers still write only to it; after `validated`, point them at
// article_events and drop the old table.
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
// Ids continue after the migrated ones once writers switch to article_events.
const syncIdentity = sql(
  'eventsMigration.syncIdentity',
  "SELECT setval(pg_get_serial_sequence('article_events', 'id'), greatest((SELECT max(id) FROM article_events), 1))",
);

function queries(source: string): { batch: NamedQuery; lockSource: NamedQuery; sourceMonths: NamedQuery; targetMonths: NamedQuery; repair: NamedQuery } {
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
    sourceMonths: sql(`eventsMigration.sourceMonths.${source}`,
      `SELECT ${month} AS month, count(*)::int AS n, ${checksum} AS checksum FROM ${s} GROUP BY 1 ORDER BY 1`),
    targetMonths: sql(`eventsMigration.targetMonths.${source}`,
      `SELECT ${month} AS month, count(*)::int AS n, ${checksum} AS checksum
       FROM article_events e WHERE EXISTS (SELECT 1 FROM ${s} o WHERE o.id = e.id) GROUP BY 1 ORDER BY 1`),
    // Rows a batch could not see: a transaction that took a lower id but committed after the batch passed it.
    repair: sql(`eventsMigration.repair.${source}`,
      `INSERT INTO article_events (${COLS}) OVERRIDING SYSTEM VALUE
       SELECT ${COLS} FROM ${s} o WHERE NOT EXISTS (SELECT 1 FROM article_events e WHERE e.id = o.id AND e.occurred_at = o.occurred_at)
       ON CONFLICT DO NOTHING`),
  };
}

async function compare(s: MaintenanceSession, q: ReturnType<typeof queries>): Promise<MonthCheck[]> {
  type Row = { month: string; n: number; checksum: string };
  const src = (await s.query<Row>(q.sourceMonths)).rows;
  const dst = new Map((await s.query<Row>(q.targetMonths)).rows.map((r) => [r.month, r]));
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
    return s.tx(async () => {
      await s.query(q.lockSource);
      const tail = (await s.query<{ last_id: string | null; n: number }>(q.batch, [lastId, 2_000_000_000])).rows[0]!;
      copied += tail.n;
      let months = await compare(s, q);
      if (!months.every(matches)) {
        await s.query(q.repair);
        months = await compare(s, q);
      }
      const state = months.every(matches) ? 'validated' : 'failed';
      if (tail.last_id !== null) await s.query(saveProgress, [opts.source, tail.last_id, tail.n]);
      await s.query(finishProgress, [opts.source, state, JSON.stringify(months.filter((m) => !matches(m)))]);
      await s.query(syncIdentity);
      return { state, copied, months } as EventsMigrationResult;
    });
  });
  if (!r.ran) {
    if (r.reason === 'replica') throw new PgpressError('PGP_VALIDATION', 'The events migration must run on the primary.');
    return { state: 'skipped', copied: 0, months: [] };
  }
  return r.value;
}
