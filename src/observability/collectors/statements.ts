// pg_stat_statements: the top K statements by total execution time, the rest summed in one
// `other` series, so the series count stays K + 1 however many distinct statements run.
import { sqlstateOf } from '../../errors/index.ts';
import { sql } from '../../db/sql.ts';
import { counter, type Collector, type Sample } from './types.ts';

/** Label text of a statement: its normalised text with whitespace collapsed, cut to this length. */
export const QUERY_LABEL_CHARS = 80;

// Aggregated per queryid first (one statement may have rows per user and per top-level flag),
// ranked, and folded into K + 1 rows in the database: the scrape never carries the whole view.
const topK = sql(
  'metrics.pgStatStatements.top',
  `WITH per AS (
     SELECT queryid, min(query) AS query, sum(total_exec_time) AS ms, sum(calls) AS calls
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     GROUP BY queryid),
   ranked AS (SELECT *, row_number() OVER (ORDER BY ms DESC, queryid) AS rank FROM per)
   SELECT CASE WHEN rank <= $1 THEN coalesce(queryid::text, 'none') ELSE 'other' END AS queryid,
          CASE WHEN rank <= $1 THEN left(regexp_replace(query, '\\s+', ' ', 'g'), $2) ELSE 'other' END AS query,
          (sum(ms) / 1000)::float8 AS seconds, sum(calls)::float8 AS calls
   FROM ranked GROUP BY 1, 2`,
);

// 42P01: the view does not exist (extension not created); 55000: the library is not preloaded.
const ABSENT = new Set(['42P01', '55000']);

/** The statements collector for the top `k`; `warn` is told once when the view is unavailable. */
export function statementsCollector(k: number, warn: (message: string) => void): Collector {
  let warned = false;
  return {
    name: 'statements',
    families: [
      counter('pgpress_pg_statement_seconds_total', `Execution time of the top ${k} statements by total time (queryid, normalised text), the rest in queryid="other"; from pg_stat_statements.`, ['queryid', 'query']),
      counter('pgpress_pg_statement_calls_total', `Calls of the same top ${k} statements, the rest in queryid="other".`, ['queryid', 'query']),
    ],
    async collect(db) {
      let rows: { queryid: string; query: string; seconds: number; calls: number }[];
      try {
        rows = (await db.query<{ queryid: string; query: string; seconds: number; calls: number }>(topK, [k, QUERY_LABEL_CHARS])).rows;
      } catch (e) {
        const state = sqlstateOf(e);
        if (state === undefined || !ABSENT.has(state)) throw e;
        if (!warned) {
          warned = true;
          warn('pg_stat_statements is not available (add it to shared_preload_libraries and CREATE EXTENSION pg_stat_statements): the pgpress_pg_statement_* series are absent');
        }
        return [];
      }
      const out: Sample[] = [];
      for (const r of rows) {
        const labels = { queryid: r.queryid, query: r.query };
        out.push({ name: 'pgpress_pg_statement_seconds_total', labels, value: r.seconds });
        out.push({ name: 'pgpress_pg_statement_calls_total', labels, value: r.calls });
      }
      return out;
    },
  };
}
