// `npm run bench -- recovery` (checkout only: the drill and its API writers are the test harness's):
// the restore drill (test/harness/restoreDrill.ts) on a database seeded
// at BENCH_RECOVERY_SCALE (default 10; 100 for the large figure): writes through the HTTP API, a base
// backup while they run, T, a table dropped by mistake. Reports the row-level diff of the restore to
// T (0 expected), the acknowledged writes a restore to the last archived WAL loses (RPO, 0 expected)
// and the seconds from the restore call to an API answering /readyz 200 (RTO).
import type { Scenario, ScenarioContext, ScenarioResult } from '../src/bench/scenario.ts';
import { runRestoreDrill } from '../test/harness/restoreDrill.ts';

const STEPS = ['archiving on', 'migrated', 'seeded', 'writing; taking a base backup', 'base backup', 'writers stopped', 'restore to latest'];

export const recovery: Scenario = {
  name: 'recovery',
  description: 'Restore drill: point-in-time restore to T (row diff), RPO at the last archived WAL, RTO to a ready API',
  onlyWhenNamed: 'starts a primary with WAL archiving and restores it (the test harness\'s restore drill)',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const scale = Number(process.env.BENCH_RECOVERY_SCALE ?? 10);
    const phaseMs = Number(process.env.BENCH_RECOVERY_PHASE_MS ?? 3_000);
    const t0 = Date.now();
    const r = await runRestoreDrill({
      scale,
      phaseMs,
      log: (line) => {
        console.log(`recovery ${((Date.now() - t0) / 1000).toFixed(1)} s: ${line}`);
        const step = STEPS.findIndex((s) => line.startsWith(s));
        if (step >= 0) ctx.progress((step + 1) / (STEPS.length + 1), line);
      },
    });
    const { missing, extra, changed, rpo_lost, acked_before_t_missing, sent_after_t_present, tables_differing, t, ...numbers } = r;
    for (const [what, list] of Object.entries({ missing, extra, changed, rpo_lost, acked_before_t_missing, sent_after_t_present, tables_differing })) {
      if (list.length > 0) console.log(`recovery: ${what} (${list.length}): ${list.slice(0, 20).join(', ')}`);
    }
    console.log(`recovery: T = ${t}; RTO ${r.rto_s} s (restore ${r.restore_s} s), base backup ${r.backup_mb} MB in ${r.backup_s} s`);
    const expectedAtT = r.rows_before_t;
    return {
      figures: {
        // Of the rows committed by T, the share the restore has (1 when nothing is missing).
        rows_at_t_ratio: expectedAtT === 0 ? 0 : (expectedAtT - missing.length) / expectedAtT,
        ...numbers,
        checks_failed: acked_before_t_missing.length + sent_after_t_present.length + tables_differing.length,
      },
    };
  },
};
