// The database a CLI command works on: DATABASE_URL; else the embedded server a running pgpress
// (such as `serve`) holds; else the embedded server, started for the command and stopped after.
import type { Settings } from '../config/settings.ts';
import { attachEmbedded } from '../db/embeddedAttach.ts';
import { startEmbedded } from '../db/embeddedServer.ts';
import { isPgpressError } from '../errors/index.ts';

/** The URL to use, where it comes from, and how to release it (stops only a server this call started). */
export interface CommandDatabase {
  url: string;
  /** For people: which server this is. */
  source: string;
  release: () => Promise<void>;
}

/** Returns the database for a command (see the file comment for the order). */
export async function databaseUrlFor(s: Settings): Promise<CommandDatabase> {
  if (s.databaseUrl !== undefined) return { url: s.databaseUrl, source: 'DATABASE_URL', release: async () => undefined };
  for (let attempt = 0; ; attempt++) {
    const running = await attachEmbedded({ dataDir: s.dataDir });
    if (running) return { url: running.url, source: `embedded, held by pgpress pid ${running.heldBy} on port ${running.port}`, release: async () => undefined };
    try {
      const embedded = await startEmbedded({ dataDir: s.dataDir, port: s.embeddedPgPort, warn: (m) => console.error(`pgpress: ${m}`) });
      return { url: embedded.url, source: `embedded, started for this command on port ${embedded.port}`, release: () => embedded.stop() };
    } catch (e) {
      // Another pgpress took the data directory between the look and the start: attach to it instead.
      if (attempt === 0 && isPgpressError(e) && e.details?.heldBy !== undefined) continue;
      throw e;
    }
  }
}
