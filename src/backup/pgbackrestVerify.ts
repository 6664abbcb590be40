// `backup verify` for the pgBackRest path: `pgbackrest verify` over the repository's checksums, then
// the newest backup restored into a throwaway cluster at its restore point, amcheck and table figures.
import { newestLabel, pgbackrestRestore, pgbackrestVerifyRepo, readFigures } from './pgbackrest.ts';
import { checkInThrowawayCluster, type VerifyReport } from './verifyBackup.ts';

/** Verifies the newest (or given) pgBackRest backup; the report says what is wrong. */
export async function pgbackrestVerify(opts: { backupDir: string; backupId?: string; pgBindir?: string }): Promise<VerifyReport> {
  const t0 = Date.now();
  const label = opts.backupId ?? (await newestLabel(opts.backupDir)) ?? '(none)';
  const report: VerifyReport = { ok: false, backupId: label, badFiles: [], indexesChecked: 0, tables: [], problems: [], durationMs: 0 };
  report.badFiles = await pgbackrestVerifyRepo(opts.backupDir);
  report.problems.push(...report.badFiles);
  if (report.problems.length === 0) {
    const fig = readFigures(opts.backupDir, label);
    await checkInThrowawayCluster((at) => pgbackrestRestore({
      backupDir: opts.backupDir, to: 'latest', set: label, ...at, pgBindir: opts.pgBindir, trustLocal: true,
      ...(fig ? { restorePoint: fig.restorePoint } : {}), settings: { shared_buffers: '32MB', ...(fig ? {} : { recovery_target: 'immediate' }) },
    }), fig?.figures ?? null, fig ? undefined : 'no figures file for this backup', report);
  }
  report.ok = report.problems.length === 0;
  report.durationMs = Date.now() - t0;
  return report;
}
