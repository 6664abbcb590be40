// Materialized view refresh and staleness: a refresh with no source change since the last one
// is skipped (the SQL function pgpress_refresh_matview decides, migration 0022).
import type { Queryable } from '../db/cluster.ts';
import { sql } from '../db/sql.ts';

/** The analytics views pgpress maintains. */
export const MATVIEWS = ['article_analytics', 'user_engagement'] as const;
/** One of the analytics views. */
export type Matview = (typeof MATVIEWS)[number];

const refresh = sql('matviews.refresh', 'SELECT pgpress_refresh_matview($1, $2, make_interval(secs => $3)) AS refreshed');
const staleness = sql(
  'matviews.staleness',
  `SELECT view_name, last_refreshed_at, age_seconds, pending_changes::text, last_duration_ms, refreshes::text, skips::text
   FROM pgpress_matview_staleness ORDER BY view_name`,
);

/** How fresh a view is: a future metric reads this. */
export interface MatviewStaleness {
  view: string;
  lastRefreshedAt: string | null;
  ageSeconds: number | null;
  /** Source statements committed since the last refresh (0: the view is current). */
  pendingChanges: number;
  lastDurationMs: number | null;
  refreshes: number;
  skips: number;
}

/** Refreshes one view CONCURRENTLY (on a Cluster: on its background lane) unless nothing changed and it is younger than maxAgeSeconds; true when it refreshed. */
export async function refreshMatview(db: Queryable, view: Matview, opts: { force?: boolean; maxAgeSeconds?: number } = {}): Promise<boolean> {
  // The background lane: a refresh may take long and must not hold a request lane's connection.
  const { rows } = await db.query<{ refreshed: boolean }>(refresh, [view, opts.force ?? false, opts.maxAgeSeconds ?? 3600], { lane: 'background' });
  return rows[0]!.refreshed;
}

/** Staleness of every analytics view. */
export async function matviewStaleness(db: Queryable): Promise<MatviewStaleness[]> {
  const { rows } = await db.query<{
    view_name: string; last_refreshed_at: Date | null; age_seconds: number | null; pending_changes: string;
    last_duration_ms: number | null; refreshes: string; skips: string;
  }>(staleness);
  return rows.map((r) => ({
    view: r.view_name,
    lastRefreshedAt: r.last_refreshed_at ? r.last_refreshed_at.toISOString() : null,
    ageSeconds: r.age_seconds,
    pendingChanges: Number(r.pending_changes),
    lastDurationMs: r.last_duration_ms,
    refreshes: Number(r.refreshes),
    skips: Number(r.skips),
  }));
}
