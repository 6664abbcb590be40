// `pgpress doctor`: what an operator checks first — settings, database, migrations, each target's health.
import { resolve } from 'node:path';
import type { Settings } from '../config/settings.ts';
import { redactUrl } from '../config/settings.ts';
import { formatHealth } from '../db/health.ts';
import { createStore } from '../store.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Prints the database's reachability and migration state; exit code 1 when not ready. */
export async function doctorCommand(s: Settings): Promise<void> {
  console.log(`database: ${s.databaseUrl ? redactUrl(s.databaseUrl) : `embedded (${resolve(s.dataDir)})`}`);
  const { url, source, release } = await databaseUrlFor(s);
  if (s.databaseUrl === undefined) console.log(`server: ${source}`);
  const store = await createStore({ url, replicaUrls: s.replicaUrls, pool: { ...s.pool, max: 1 }, migrationsDir: s.migrationsDir });
  try {
    const r = await store.readiness();
    console.log(`reachable: ${r.database.reachable ? 'yes' : `no (${r.database.error})`}`);
    if (r.database.migrations) {
      const m = r.database.migrations;
      console.log(`migrations: ${m.current ? 'current' : `${m.pending} pending, ${m.changed} changed — run \`pgpress migrate\``}`);
    }
    for (const line of formatHealth(r.targets)) console.log(`target ${line}`);
    console.log(r.ready ? 'ready' : 'NOT READY');
    if (!r.ready) process.exitCode = 1;
  } finally {
    await store.close();
    await release();
  }
}
