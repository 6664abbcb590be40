// Moving months out of a default partition while it is written to (rows are inserted late,
// cascade away with their article, lose their user): copy without a strong lock, log every row
// written meanwhile, and in a short final transaction re-copy only the logged rows, empty the
// default partition and attach. The SQL steps are in migration 0030.
import { isPgpressError } from '../../errors/index.ts';
import type { MaintenanceSession } from '../lock.ts';
import {
  lockForMove, moveAbandon, moveAddKeys, moveCopy, moveCount, moveFinish, movePrepare, moveReconcile, moveValidate,
  type PartitionedTable,
} from './queries.ts';

/** What a finished move did. */
export interface MoveResult {
  /** Rows now in the new month partitions (a row deleted by a cascade during the move may count). */
  moved: number;
  /** How long the default partition was held ACCESS EXCLUSIVE (lock granted to commit), ms. */
  lockHeldMs: number;
}

// 55P03: lock_timeout expired behind a long transaction (the next run tries again);
// 40P01: a deadlock with a writer whose cascade reached the locked default partition.
const sqlstate = (e: unknown): string | undefined => (isPgpressError(e) ? e.pg?.sqlstate : undefined);
const FINISH_ATTEMPTS = 3;
const RECONCILE_ATTEMPTS = 5;

/** Moves the rows of `months` (none attached yet) out of the default partition and attaches a
 *  partition for each; null when a lock was not granted in time (nothing changed, retry later). */
export async function moveMonths(s: MaintenanceSession, table: PartitionedTable, months: string[], batchRows: number): Promise<MoveResult | null> {
  if (months.length === 0) return { moved: 0, lockHeldMs: 0 };
  const args = [table, months];
  try {
    await s.query(movePrepare, args);
    for (let after = '0'; ;) {
      const { rows } = await s.query<{ last_id: string | null }>(moveCopy, [table, months, after, batchRows]);
      if (rows[0]!.last_id === null) break;
      after = rows[0]!.last_id;
    }
    // Once the foreign keys exist, a cascade reaches the copies as well; the rows changed
    // before are in the log. Reconciling them first lets the keys validate.
    await s.query(moveAddKeys, args);
    await retrying(RECONCILE_ATTEMPTS, ['23503'], () => s.query(moveReconcile, args));
    await s.query(moveValidate, args);
    const counted = Number((await s.query<{ n: string }>(moveCount, args)).rows[0]!.n);
    return await retrying(FINISH_ATTEMPTS, ['40P01'], async () => {
      let granted = 0;
      const delta = await s.tx(async () => {
        for (const q of lockForMove(table)) await s.query(q);
        granted = performance.now();
        return Number((await s.query<{ delta: string }>(moveFinish, args)).rows[0]!.delta);
      });
      return { moved: counted + delta, lockHeldMs: performance.now() - granted };
    });
  } catch (e) {
    // Whatever happened, stop logging and drop the half-made tables; the next run starts over.
    await s.query(moveAbandon, args).catch(() => undefined);
    if (sqlstate(e) === '55P03' || sqlstate(e) === '40P01') return null;
    throw e;
  }
}

async function retrying<T>(attempts: number, codes: string[], fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !codes.includes(sqlstate(e) ?? '')) throw e;
    }
  }
}
