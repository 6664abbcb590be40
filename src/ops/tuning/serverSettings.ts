// The server's settings and its busiest tables, read for the settings advice.
import type pg from 'pg';
import type { CurrentSettings, TableActivity } from './settingsAdvice.ts';

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, '8kB': 8192, MB: 1024 ** 2, GB: 1024 ** 3 };

const SETTINGS = `
  SELECT name, setting, unit FROM pg_settings
   WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem', 'random_page_cost',
                  'max_connections', 'max_parallel_workers_per_gather', 'max_parallel_workers', 'autovacuum_vacuum_scale_factor', 'autovacuum_analyze_scale_factor')`;

/** Current values, memory converted to bytes, plus the server's autovacuum scale factors. */
export async function currentSettings(c: pg.Client): Promise<{ settings: CurrentSettings; autovacuum: { vacuumScaleFactor: number; analyzeScaleFactor: number } }> {
  const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(SETTINGS);
  const v = Object.fromEntries(rows.map((r) => [r.name, Number(r.setting) * (r.unit ? (UNIT_BYTES[r.unit] ?? 1) : 1)]));
  return {
    settings: {
      shared_buffers: v.shared_buffers!, effective_cache_size: v.effective_cache_size!, work_mem: v.work_mem!,
      maintenance_work_mem: v.maintenance_work_mem!, random_page_cost: v.random_page_cost!, max_connections: v.max_connections!,
      max_parallel_workers_per_gather: v.max_parallel_workers_per_gather!, max_parallel_workers: v.max_parallel_workers!,
    },
    autovacuum: { vacuumScaleFactor: v.autovacuum_vacuum_scale_factor!, analyzeScaleFactor: v.autovacuum_analyze_scale_factor! },
  };
}

// Per-table settings live in reloptions as 'name=value' strings.
const BUSIEST = `
  SELECT s.relname::text AS table, s.n_live_tup::float8 AS live, (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::float8 AS mods,
         (SELECT split_part(o, '=', 2)::float8 FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum_vacuum_scale_factor=%') AS vacuum_sf,
         (SELECT split_part(o, '=', 2)::float8 FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum_analyze_scale_factor=%') AS analyze_sf
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
   ORDER BY mods DESC LIMIT $1`;

/** The `limit` tables with the most rows written since the statistics were reset. */
export async function busiestTables(c: pg.Client, limit: number): Promise<TableActivity[]> {
  const { rows } = await c.query<{ table: string; live: number; mods: number; vacuum_sf: number | null; analyze_sf: number | null }>(BUSIEST, [limit]);
  return rows.map((r) => ({ table: r.table, liveTuples: r.live, modifications: r.mods, vacuumScaleFactor: r.vacuum_sf, analyzeScaleFactor: r.analyze_sf }));
}
