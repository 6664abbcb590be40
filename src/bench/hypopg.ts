// HypoPG, which the tune scenario's advisor asks for hypothetical indexes: its Debian package, and
// a clear PGP_TOOL_MISSING error (with the command to run) when a server cannot create it.
import { PgpressError } from '../errors/index.ts';

/** Debian's package of HypoPG for a PostgreSQL major version. */
export const hypopgPackage = (major: number): string => `postgresql-${major}-hypopg`;

/** Throws PGP_TOOL_MISSING, naming the package, unless hypopg is among the server's available extensions. */
export async function assertHypopgAvailable(query: (sql: string) => Promise<{ v: string; hypopg: boolean }[]>): Promise<void> {
  const [row] = await query("SELECT current_setting('server_version_num') AS v, EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg') AS hypopg");
  if (!row?.hypopg) throw hypopgMissing(Math.floor(Number(row?.v) / 10_000));
}

/** The error for a server of that major version without HypoPG. */
export function hypopgMissing(major: number): PgpressError {
  return new PgpressError(
    'PGP_TOOL_MISSING',
    `HypoPG is not installed for PostgreSQL ${major}: the tune scenario's advisor tests its index candidates with it. Install it (apt-get install ${hypopgPackage(major)}), then run the scenario again.`,
  );
}
