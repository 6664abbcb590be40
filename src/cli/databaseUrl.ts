// The database a CLI command works on: the configured URL for its role; else the embedded server a
// running pgpress (such as `serve`) holds; else the embedded server, started for the command and
// stopped after.
import type { Settings } from '../config/settings.ts';
import { attachEmbedded } from '../db/embeddedAttach.ts';
import { startEmbedded } from '../db/embeddedServer.ts';
import { resolvePrimaryUrl } from '../db/topology.ts';
import { isPgpressError } from '../errors/index.ts';

/** Who a command connects as: the application role (what serve does), the owner (maintenance:
 *  partitions, matviews, jobs, seed) or the migrator (the owner; on the embedded default its
 *  superuser, since migrations create roles and extensions there). */
export type CommandRole = 'app' | 'owner' | 'migrator';

/** The URL to use, where it comes from, and how to release it (stops only a server this call started). */
export interface CommandDatabase {
  url: string;
  /** For people: which server this is. */
  source: string;
  release: () => Promise<void>;
}

/** Returns the database for a command run as role (default the migrator: what every command used before roles). */
export async function databaseUrlFor(s: Settings, role: CommandRole = 'migrator'): Promise<CommandDatabase> {
  if (role !== 'app' && s.migrationDatabaseUrl !== undefined) {
    // Migrations, maintenance and backups work on one server: a multi-host URL (or PATRONI_URLS)
    // resolves to the node that is primary now, as serve's migrate-on-start does.
    const url = await resolvePrimaryUrl(s.migrationDatabaseUrl, s.patroniUrls);
    return { url, source: s.migrationDatabaseUrl === s.databaseUrl ? 'DATABASE_URL' : 'MIGRATION_DATABASE_URL', release: async () => undefined };
  }
  if (s.databaseUrl !== undefined) return { url: s.databaseUrl, source: 'DATABASE_URL', release: async () => undefined };
  const pick = (u: { url: string; ownerUrl: string; adminUrl: string }): string => (role === 'app' ? u.url : role === 'owner' ? u.ownerUrl : u.adminUrl);
  for (let attempt = 0; ; attempt++) {
    const running = await attachEmbedded({ dataDir: s.dataDir });
    if (running) return { url: pick(running), source: `embedded, held by pgpress pid ${running.heldBy} on port ${running.port}`, release: async () => undefined };
    try {
      const embedded = await startEmbedded({ dataDir: s.dataDir, port: s.embeddedPgPort, warn: (m) => console.error(`pgpress: ${m}`) });
      return { url: pick(embedded), source: `embedded, started for this command on port ${embedded.port}`, release: () => embedded.stop() };
    } catch (e) {
      // Another pgpress took the data directory between the look and the start: attach to it instead.
      if (attempt === 0 && isPgpressError(e) && e.details?.heldBy !== undefined) continue;
      throw e;
    }
  }
}
