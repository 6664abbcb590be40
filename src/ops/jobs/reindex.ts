// Job: REINDEX CONCURRENTLY the btree indexes whose measured bloat passes a threshold.
import type { Queryable } from '../../db/cluster.ts';
import { quoteIdent, sql } from '../../db/sql.ts';
import { isPgpressError } from '../../errors/index.ts';
import { withMaintenanceLock } from '../lock.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';
import { bloatMethod, indexBloat } from './bloat.ts';
import { JOB_LOCK_KEYS } from './keys.ts';
import { withoutStatementTimeout } from './noStatementTimeout.ts';

/** Which indexes are rebuilt: at least minBytes and at least bloatPct percent waste. */
export interface ReindexThresholds {
  bloatPct: number;
  minBytes: number;
}

const sizeOf = sql('jobs.reindex.size', 'SELECT pg_relation_size(to_regclass($1))::float8 AS bytes');
// A REINDEX CONCURRENTLY that fails (lock_timeout, cancel) leaves its new copy behind, invalid,
// as <index>_ccnew[N]: it is written on every insert and serves no read, so it is dropped.
const leftovers = sql(
  'jobs.reindex.leftovers',
  `SELECT c.relname AS index FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE NOT i.indisvalid AND n.nspname = $1 AND c.relname ~ ('^' || regexp_replace($2, '([^a-zA-Z0-9_])', '\\\\\\1', 'g') || '_ccnew[0-9]*$')`,
);

/** Rebuilds the bloated indexes; changes lists each with its size before and after. */
export function reindexJob(th: ReindexThresholds, intervalMs: number): JobDefinition {
  return {
    name: 'reindex',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      const r = await withMaintenanceLock(cluster, JOB_LOCK_KEYS.reindex, lockTimeoutMs, async (s) => {
        const method = await bloatMethod(s);
        const bloated = (await indexBloat(s, th.minBytes, method)).filter((b) => b.bloatPct >= th.bloatPct);
        const rebuilt: { index: string; bloatPct: number; bytesBefore: number; bytesAfter: number }[] = [];
        const deferred: string[] = [];
        await withoutStatementTimeout(s, async () => {
          for (const b of bloated) {
            const qualified = `${quoteIdent(b.schema)}.${quoteIdent(b.index)}`;
            try {
              await s.query(sql('jobs.reindex.run', `REINDEX INDEX CONCURRENTLY ${qualified}`));
            } catch (e) {
              await dropLeftovers(s, b.schema, b.index);
              if (isPgpressError(e) && e.pg?.sqlstate === '55P03') {
                deferred.push(`${b.schema}.${b.index}`);
                continue;
              }
              throw e;
            }
            const after = (await s.query<{ bytes: number }>(sizeOf, [qualified])).rows[0]!.bytes;
            rebuilt.push({ index: `${b.schema}.${b.index}`, bloatPct: b.bloatPct, bytesBefore: b.bytes, bytesAfter: after });
          }
        });
        return { method, rebuilt, deferred };
      });
      return r.ran ? { outcome: 'ok', changes: r.value } : { outcome: 'skipped', changes: { reason: r.reason } };
    },
  };
}

async function dropLeftovers(s: Queryable, schema: string, index: string): Promise<void> {
  const { rows } = await s.query<{ index: string }>(leftovers, [schema, index]);
  for (const l of rows) await s.query(sql('jobs.reindex.dropLeftover', `DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(schema)}.${quoteIdent(l.index)}`)).catch(() => undefined);
}
