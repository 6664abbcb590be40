// The database a CLI command works on: DATABASE_URL, or the embedded server (started for the command).
import type { Settings } from '../config/settings.ts';
import { startEmbedded } from '../db/embeddedServer.ts';

/** Returns the URL to use and how to release it (stops an embedded server this call started). */
export async function databaseUrlFor(s: Settings): Promise<{ url: string; release: () => Promise<void> }> {
  if (s.databaseUrl !== undefined) return { url: s.databaseUrl, release: async () => undefined };
  const embedded = await startEmbedded({ dataDir: s.dataDir, port: s.embeddedPgPort, warn: (m) => console.error(`pgpress: ${m}`) });
  return { url: embedded.url, release: () => embedded.stop() };
}
