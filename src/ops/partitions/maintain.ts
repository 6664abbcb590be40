// Partition maintenance (`pgpress maintain`): create month partitions ahead, move rows waiting
// in the default partition into their month, retire months past retention. Idempotent,
// advisory-locked (try-lock and skip), a no-op on a replica, short transactions, UTC bounds.
import type { Settings } from '../../config/settings.ts';
import type { Cluster } from '../../db/cluster.ts';
import { isPgpressError } from '../../errors/index.ts';
import { LOCK_KEYS, withMaintenanceLock, type MaintenanceSession } from '../lock.ts';
import { addMonths, monthOf, monthRange } from './months.ts';
import { moveMonths } from './move.ts';
import { PARTITIONED_TABLES, attachedMonths, bumpSource, defaultMonths, purgeDefaultBefore, retireMonth, type PartitionedTable } from './queries.ts';

/** How maintenance behaves (from Settings.maintenance, or given directly). */
export interface PartitionPolicy {
  /** Months to create ahead of the current one. */
  monthsAhead: number;
  /** Months kept per table (current month included); null keeps everything. */
  retentionMonths: Record<PartitionedTable, number | null>;
  /** Keep retired partitions as detached `<partition>_archived` tables instead of dropping them. */
  archive: boolean;
  /** Rows copied out of a default partition per transaction. */
  batchRows: number;
  lockTimeoutMs: number;
  /** "Now", for tests; defaults to the clock. */
  now?: Date;
}

/** What one table's maintenance did. */
export interface TableReport {
  table: PartitionedTable;
  created: string[];
  retired: string[];
  /** Rows moved out of the default partition into new partitions. */
  movedFromDefault: number;
  /** Rows older than retention deleted from the default partition. */
  purgedFromDefault: number;
  /** Months left for the next run (a lock could not be taken within lock_timeout). */
  deferred: string[];
  /** How long the default partition was held ACCESS EXCLUSIVE to attach the new months, ms. */
  lockHeldMs: number;
}

/** The outcome of a maintenance run. */
export type MaintenanceReport = { ran: true; tables: TableReport[] } | { ran: false; reason: 'replica' | 'locked' };

/** Runs partition maintenance once for every month-partitioned table. */
export async function maintainPartitions(cluster: Cluster, policy: PartitionPolicy): Promise<MaintenanceReport> {
  const r = await withMaintenanceLock(cluster, LOCK_KEYS.partitions, policy.lockTimeoutMs, async (s) => {
    const tables: TableReport[] = [];
    for (const table of PARTITIONED_TABLES) tables.push(await maintainTable(s, table, policy));
    return tables;
  });
  return r.ran ? { ran: true, tables: r.value } : r;
}

/** Creates (and fills from the default partition) the partitions for these months; used by seeding and tests. */
export async function createMonthPartitions(cluster: Cluster, table: PartitionedTable, months: string[], batchRows = 10_000): Promise<string[]> {
  const r = await withMaintenanceLock(cluster, LOCK_KEYS.partitions, 10_000, async (s) => {
    const have = new Set((await s.query<{ month: string }>(attachedMonths, [table])).rows.map((x) => x.month));
    const wanted = [...new Set(months)].filter((m) => !have.has(m)).sort();
    return (await moveMonths(s, table, wanted, batchRows)) === null ? [] : wanted;
  });
  return r.ran ? r.value : [];
}

async function maintainTable(s: MaintenanceSession, table: PartitionedTable, p: PartitionPolicy): Promise<TableReport> {
  const report: TableReport = { table, created: [], retired: [], movedFromDefault: 0, purgedFromDefault: 0, deferred: [], lockHeldMs: 0 };
  const current = monthOf(p.now ?? new Date());
  const retention = p.retentionMonths[table];
  const oldestKept = retention === null ? null : addMonths(current, -(retention - 1));
  const have = new Set((await s.query<{ month: string }>(attachedMonths, [table])).rows.map((x) => x.month));

  // Rows past retention leave the default partition first, so the move does not carry them.
  if (oldestKept !== null) {
    for (;;) {
      const { rowCount } = await s.query(purgeDefaultBefore(table), [oldestKept, p.batchRows]);
      report.purgedFromDefault += rowCount ?? 0;
      if ((rowCount ?? 0) < p.batchRows) break;
    }
  }

  // The months rows are waiting for in the default partition, and the months ahead: all moved
  // and attached together, in one short final transaction.
  const waiting = (await s.query<{ month: string }>(defaultMonths(table))).rows.map((x) => x.month);
  const wanted = [...new Set([...waiting, ...monthRange(current, addMonths(current, p.monthsAhead))])]
    .filter((m) => !have.has(m) && (oldestKept === null || m >= oldestKept))
    .sort();
  const moved = await moveMonths(s, table, wanted, p.batchRows);
  if (moved === null) report.deferred.push(...wanted);
  else {
    report.created.push(...wanted);
    report.movedFromDefault = moved.moved;
    report.lockHeldMs = moved.lockHeldMs;
  }

  if (oldestKept !== null) {
    for (const m of [...have].filter((x) => x < oldestKept).sort()) {
      const done = await s.tx(async () => {
        const { rows } = await s.query<{ retired: boolean }>(retireMonth, [table, m, p.archive]);
        // Dropping a partition fires no trigger: tell the matview change tracking ourselves.
        await s.query(bumpSource, [table]);
        return rows[0]!.retired;
      }).catch(deferOnLockTimeout);
      if (done === null) report.deferred.push(m);
      else if (done) report.retired.push(m);
    }
  }
  return report;
}

function deferOnLockTimeout(e: unknown): null {
  // 55P03: lock_timeout expired behind a long transaction; the next run tries again.
  if (isPgpressError(e) && e.pg?.sqlstate === '55P03') return null;
  throw e;
}

/** The maintenance policy from settings (retention 0 means keep everything). */
export function policyFromSettings(m: Settings['maintenance']): PartitionPolicy {
  return {
    monthsAhead: m.monthsAhead,
    retentionMonths: {
      article_events: m.eventsRetentionMonths === 0 ? null : m.eventsRetentionMonths,
      audit_log: m.auditRetentionMonths === 0 ? null : m.auditRetentionMonths,
    },
    archive: m.archive,
    batchRows: m.batchRows,
    lockTimeoutMs: m.lockTimeoutMs,
  };
}
