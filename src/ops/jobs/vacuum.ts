// Job: VACUUM (ANALYZE) the tables autovacuum has not caught up with — many dead tuples, or many
// rows modified since the last analyze (right after a bulk load or a mass delete).
import { quoteIdent, sql } from '../../db/sql.ts';
import { isPgpressError } from '../../errors/index.ts';
import { withMaintenanceLock } from '../lock.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';
import { JOB_LOCK_KEYS } from './keys.ts';
import { withoutStatementTimeout } from './noStatementTimeout.ts';

/** When a table is due: at least minDead dead (or modified) rows and that many percent of its live rows. */
export interface VacuumThresholds {
  minDead: number;
  deadPct: number;
  /** At most this many tables per run (the worst first). */
  maxTables?: number;
}

// Plain and materialized tables only: a partitioned parent has no rows of its own; its partitions
// are listed themselves.
const candidates = sql(
  'jobs.vacuum.candidates',
  `SELECT t.schemaname AS schema, t.relname AS table, t.n_dead_tup::float8 AS dead, t.n_mod_since_analyze::float8 AS modified, t.n_live_tup::float8 AS live
   FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
   WHERE c.relkind IN ('r', 'm')
     AND ((t.n_dead_tup >= $1 AND t.n_dead_tup >= $2 / 100.0 * t.n_live_tup)
       OR (t.n_mod_since_analyze >= $1 AND t.n_mod_since_analyze >= $2 / 100.0 * t.n_live_tup))
   ORDER BY greatest(t.n_dead_tup, t.n_mod_since_analyze) DESC
   LIMIT $3`,
);

/** Vacuums and analyzes the tables past the thresholds; changes lists each with its counts before. */
export function vacuumJob(th: VacuumThresholds, intervalMs: number): JobDefinition {
  return {
    name: 'vacuum',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      const r = await withMaintenanceLock(cluster, JOB_LOCK_KEYS.vacuum, lockTimeoutMs, async (s) => {
        const { rows } = await s.query<{ schema: string; table: string; dead: number; modified: number; live: number }>(candidates, [th.minDead, th.deadPct, th.maxTables ?? 20]);
        const vacuumed: { table: string; dead: number; modified: number }[] = [];
        const deferred: string[] = [];
        await withoutStatementTimeout(s, async () => {
          for (const t of rows) {
            const name = `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
            try {
              // SKIP_LOCKED: a table someone holds a conflicting lock on is left for the next run.
              await s.query(sql('jobs.vacuum.run', `VACUUM (ANALYZE, SKIP_LOCKED) ${name}`));
              vacuumed.push({ table: `${t.schema}.${t.table}`, dead: t.dead, modified: t.modified });
            } catch (e) {
              if (!isPgpressError(e) || e.pg?.sqlstate !== '55P03') throw e;
              deferred.push(`${t.schema}.${t.table}`);
            }
          }
        });
        return { vacuumed, deferred };
      });
      return r.ran ? { outcome: 'ok', changes: r.value } : { outcome: 'skipped', changes: { reason: r.reason } };
    },
  };
}
