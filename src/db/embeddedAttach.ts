// Attaching to the embedded PostgreSQL another pgpress (usually `serve`) already runs on a data
// directory: its port is in the claim file, its generated password beside it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { liveClaim } from './embeddedClaim.ts';
import { embeddedUrls } from './embeddedServer.ts';

/** An embedded server held by another process: use it, never stop it. */
export interface AttachedServer {
  /** The application database as the application role (generated password inside). */
  readonly url: string;
  /** The same database as the owner: maintenance. */
  readonly ownerUrl: string;
  /** The same database as the cluster's superuser: migrations. */
  readonly adminUrl: string;
  readonly port: number;
  /** The pgpress process that holds the data directory. */
  readonly heldBy: number;
}

/** Where to look, and how long to wait for a holder that is still starting its server. */
export interface AttachOptions {
  dataDir: string;
  database?: string;
  waitMs?: number;
}

/** The running embedded server of dataDir, or undefined when no live pgpress holds it. */
export async function attachEmbedded(opts: AttachOptions): Promise<AttachedServer | undefined> {
  const root = resolve(opts.dataDir);
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  let claim = liveClaim(root);
  // A holder writes its port once PostgreSQL is up (a first start runs initdb first): wait for it.
  while (claim !== undefined && claim.port === undefined) {
    if (Date.now() > deadline) {
      throw new PgpressError('PGP_EMBEDDED_START_FAILED', `The data directory ${root} is held by pgpress pid ${claim.pid}, whose PostgreSQL has not come up; stop that process or wait for it.`);
    }
    await new Promise((r) => setTimeout(r, 200));
    claim = liveClaim(root);
  }
  if (claim?.port === undefined) return undefined;
  let urls: ReturnType<typeof embeddedUrls>;
  try {
    const read = (name: string): string => readFileSync(join(root, name), 'utf8').trim();
    urls = embeddedUrls(claim.port, opts.database ?? 'pgpress', read('postgres-password'), { app: read('app-password'), owner: read('owner-password') });
  } catch (e) {
    throw new PgpressError('PGP_EMBEDDED_START_FAILED', `Cannot read the embedded server's passwords in ${root}: ${(e as Error).message}`, { cause: e });
  }
  const client = new pg.Client({ connectionString: urls.adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw new PgpressError(
      'PGP_EMBEDDED_START_FAILED',
      `The data directory ${root} is held by pgpress pid ${claim.pid}, but its PostgreSQL on port ${claim.port} does not answer: ${(e as Error).message}`,
      { cause: e },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return { ...urls, port: claim.port, heldBy: claim.pid };
}
