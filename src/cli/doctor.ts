// `pgpress doctor`: what an operator checks first — settings, database, migrations, each target's
// health, and the database health figures /metrics serves (a table, or JSON with --json).
import { resolve } from 'node:path';
import type { Settings } from '../config/settings.ts';
import { redactUrl } from '../config/settings.ts';
import { formatHealth } from '../db/health.ts';
import { formatHealthFigures, readHealthFigures } from '../observability/healthFigures.ts';
import pg from 'pg';
import { formatSecurityChecks, securityChecks, type SecurityCheck } from '../security/doctorChecks.ts';
import { createStore } from '../store.ts';
import { databaseUrlFor, type CommandDatabase } from './databaseUrl.ts';

/** Prints the database's reachability, migration state, health figures and security flags; exit code 1 when not ready. */
export async function doctorCommand(s: Settings, opts: { json?: boolean } = {}): Promise<void> {
  const database = s.databaseUrl ? redactUrl(s.databaseUrl) : `embedded (${resolve(s.dataDir)})`;
  const { url, source, release } = await databaseUrlFor(s, 'app');
  const store = await createStore({ url, replicaUrls: s.replicaUrls, pool: { ...s.pool, max: 1 }, migrationsDir: s.migrationsDir });
  try {
    const r = await store.readiness();
    // Figures only from a reachable database: each collector would otherwise wait out its deadline.
    const health = r.database.reachable ? await readHealthFigures(store.cluster, { statementsTopK: Math.min(5, s.metrics.statementsTopK) }) : undefined;
    const security = r.database.reachable ? await readSecurity(s, url) : undefined;
    if (!r.ready) process.exitCode = 1;
    if (opts.json) {
      // Target URLs come redacted (health.ts).
      console.log(JSON.stringify({ database, server: s.databaseUrl === undefined ? source : undefined, ready: r.ready, reachable: r.database.reachable, error: r.database.error, migrations: r.database.migrations, targets: r.targets, ...health, security }, null, 2));
      return;
    }
    console.log(`database: ${database}`);
    if (s.databaseUrl === undefined) console.log(`server: ${source}`);
    console.log(`reachable: ${r.database.reachable ? 'yes' : `no (${r.database.error})`}`);
    if (r.database.migrations) {
      const m = r.database.migrations;
      console.log(`migrations: ${m.current ? 'current' : `${m.pending} pending, ${m.changed} changed — run \`pgpress migrate\``}`);
    }
    for (const line of formatHealth(r.targets)) console.log(`target ${line}`);
    if (health) {
      console.log('');
      for (const line of formatHealthFigures(health)) console.log(line);
      console.log('');
    }
    if (security) {
      for (const line of formatSecurityChecks(security)) console.log(line);
      console.log('');
    }
    console.log(r.ready ? 'ready' : 'NOT READY');
  } finally {
    await store.close();
    await release();
  }
}

/** The security checks on the application's connection; the owner's/migrator's (when it is another
 *  URL) may read what the app may not (pg_hba_file_rules). */
async function readSecurity(s: Settings, appUrl: string): Promise<SecurityCheck[]> {
  const app = new pg.Client({ connectionString: appUrl });
  let other: CommandDatabase | undefined;
  let privileged: pg.Client | undefined;
  try {
    await app.connect();
    other = await databaseUrlFor(s, 'migrator');
    if (other.url !== appUrl) {
      privileged = new pg.Client({ connectionString: other.url });
      await privileged.connect().catch(() => (privileged = undefined));
    }
    return await securityChecks(app, { appUrl, privileged: privileged ? [privileged] : [] });
  } finally {
    await privileged?.end().catch(() => undefined);
    await app.end().catch(() => undefined);
    await other?.release();
  }
}
