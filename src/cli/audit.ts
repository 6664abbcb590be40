// `pgpress audit verify [--json]`: the audit log's hash chains and completeness. Exit code 2 when
// anything is found, 0 when the log verifies.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { formatAuditReport, verifyAuditLog } from '../security/auditVerify.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the audit command to the program. */
export function auditCommand(program: Command, settings: () => Settings): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('recompute the audit hash chains, name every edited, deleted, inserted or reordered entry, check the triggers and unaudited writes (exit 2 on a finding)')
    .option('--json', 'print the report as one JSON object')
    .action(async (o: { json?: boolean }) => {
      const s = settings();
      // The owner reads the log, the chain heads and the audited tables (MIGRATION_DATABASE_URL).
      const { url, release } = await databaseUrlFor(s, 'owner');
      const cluster = new Cluster({ url, max: 1, statementTimeoutMs: 0 });
      try {
        const report = await verifyAuditLog(cluster);
        if (o.json === true) console.log(JSON.stringify(report, null, 2));
        else for (const line of formatAuditReport(report)) console.log(line);
        if (report.findings.length > 0) process.exitCode = 2;
      } finally {
        await cluster.close();
        await release();
      }
    });
}
