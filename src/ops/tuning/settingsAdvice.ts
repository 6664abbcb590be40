// Server settings against what the machine suggests: pure rules (the common starting points of
// PGTune and the PostgreSQL docs for a mixed web workload), so they are unit-tested without a server.
import { quoteIdent } from '../../db/sql.ts';

/** The machine the server runs on. */
export interface Machine {
  memoryBytes: number;
  cores: number;
  /** 'unknown' when it cannot be told: then random_page_cost gets no advice. */
  disk: 'ssd' | 'hdd' | 'unknown';
}

/** The server's current values, memory in bytes. */
export interface CurrentSettings {
  shared_buffers: number;
  effective_cache_size: number;
  work_mem: number;
  maintenance_work_mem: number;
  random_page_cost: number;
  max_connections: number;
  max_parallel_workers_per_gather: number;
  max_parallel_workers: number;
}

/** One setting: its value now, the suggested one, and whether the gap matters. */
export interface SettingAdvice {
  name: keyof CurrentSettings;
  current: number;
  suggested: number;
  unit: 'bytes' | 'cost' | 'count';
  /** ok within a factor of 2 (1.5 for costs) of the suggestion. */
  status: 'ok' | 'low' | 'high';
  reason: string;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** Sorts or hashes one query may run at once, each allowed work_mem (PGTune's divisor). */
const WORK_MEM_PER_CONNECTION = 3;

function status(current: number, suggested: number, factor: number): SettingAdvice['status'] {
  if (current < suggested / factor) return 'low';
  if (current > suggested * factor) return 'high';
  return 'ok';
}

const floorMiB = (bytes: number): number => Math.max(MiB, Math.floor(bytes / MiB) * MiB);

/** Advice for the memory settings and random_page_cost. */
export function adviseSettings(m: Machine, cur: CurrentSettings): SettingAdvice[] {
  const shared = floorMiB(m.memoryBytes / 4);
  // Half the cores for one query's workers, at most 4 (beyond that the gains fall off): the other
  // half stays for other connections. One core: none, a worker would only compete with its leader.
  const perGather = Math.min(4, Math.floor(m.cores / 2));
  const count = (name: SettingAdvice['name'], suggested: number, reason: string): SettingAdvice =>
    ({ name, current: cur[name], suggested, unit: 'count', status: status(cur[name], suggested, 2), reason });
  const bytes = (name: SettingAdvice['name'], suggested: number, reason: string): SettingAdvice =>
    ({ name, current: cur[name], suggested, unit: 'bytes', status: status(cur[name], suggested, 2), reason });
  const out: SettingAdvice[] = [
    bytes('shared_buffers', shared, "a quarter of the machine's memory: the rest is left to the OS page cache, which PostgreSQL reads through too"),
    bytes('effective_cache_size', floorMiB((m.memoryBytes * 3) / 4), 'three quarters of memory: what shared_buffers and the page cache together can hold; the planner prices index scans with it'),
    bytes('maintenance_work_mem', Math.min(2 * GiB, floorMiB(m.memoryBytes / 16)), 'a sixteenth of memory, at most 2 GiB: faster CREATE INDEX and VACUUM, which run few at a time'),
    bytes('work_mem', floorMiB((m.memoryBytes - shared) / (cur.max_connections * WORK_MEM_PER_CONNECTION * Math.max(1, perGather))),
      `memory left after shared_buffers, shared by max_connections (${cur.max_connections}) × ${WORK_MEM_PER_CONNECTION} sorts or hashes each × ${Math.max(1, perGather)} parallel workers (each has its own), so a busy server does not swap`),
    count('max_parallel_workers_per_gather', perGather, `half of the ${m.cores} cores for one query, at most 4`),
    count('max_parallel_workers', m.cores, `one parallel worker per core (${m.cores}) across all queries`),
  ];
  if (m.disk !== 'unknown') {
    const suggested = m.disk === 'ssd' ? 1.1 : 4;
    out.push({
      name: 'random_page_cost', current: cur.random_page_cost, suggested, unit: 'cost', status: status(cur.random_page_cost, suggested, 1.5),
      reason: m.disk === 'ssd' ? 'on SSD a random read costs about what a sequential one does; 4 makes the planner shun index scans' : 'on spinning disks a random read is ~4× a sequential one',
    });
  }
  return out;
}

/** A table's size, activity and its own autovacuum settings (null: the server's). */
export interface TableActivity {
  table: string;
  liveTuples: number;
  /** Rows inserted, updated and deleted since the statistics were reset. */
  modifications: number;
  vacuumScaleFactor: number | null;
  analyzeScaleFactor: number | null;
}

/** A per-table autovacuum setting and the statement that sets it (never run by the advisor). */
export interface AutovacuumAdvice {
  table: string;
  liveTuples: number;
  vacuumScaleFactor: number;
  analyzeScaleFactor: number;
  sql: string;
  reason: string;
}

/** Dead rows a big table may gather before autovacuum runs: a fixed budget instead of a share. */
const DEAD_ROW_BUDGET = 100_000;
const round3 = (x: number): number => Math.max(0.001, Math.round(x * 1000) / 1000);

/** For busy tables still on the server's scale factors, where that share means more than
 *  DEAD_ROW_BUDGET dead rows before a vacuum: scale factors that keep it near the budget. */
export function autovacuumAdvice(tables: readonly TableActivity[], server: { vacuumScaleFactor: number; analyzeScaleFactor: number }): AutovacuumAdvice[] {
  const out: AutovacuumAdvice[] = [];
  for (const t of tables) {
    if (t.vacuumScaleFactor !== null || t.analyzeScaleFactor !== null) continue;
    if (t.liveTuples * server.vacuumScaleFactor <= DEAD_ROW_BUDGET || t.modifications === 0) continue;
    const vacuum = round3(DEAD_ROW_BUDGET / t.liveTuples);
    const analyze = round3(vacuum / 2);
    out.push({
      table: t.table, liveTuples: t.liveTuples, vacuumScaleFactor: vacuum, analyzeScaleFactor: analyze,
      sql: `ALTER TABLE ${quoteIdent(t.table)} SET (autovacuum_vacuum_scale_factor = ${vacuum}, autovacuum_analyze_scale_factor = ${analyze})`,
      reason: `${t.modifications} rows changed; with the server's ${server.vacuumScaleFactor} a vacuum waits for ${Math.round(t.liveTuples * server.vacuumScaleFactor)} dead rows, this keeps it near ${DEAD_ROW_BUDGET}`,
    });
  }
  return out;
}
