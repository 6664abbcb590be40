// Who holds an embedded data directory: `serve.pid` in it names the pgpress process that runs its
// PostgreSQL (first line) and, once that server is up, its port (second line).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgpressError } from '../errors/index.ts';

/** The holder of a data directory, as its claim file says. */
export interface Claim {
  pid: number;
  /** Set once the holder's PostgreSQL accepts connections. */
  port: number | undefined;
}

function claimFile(root: string): string {
  return join(root, 'serve.pid');
}

/** Is process pid running (EPERM: running, as another user)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The claim on root when a live process other than this one holds it; undefined otherwise. */
export function liveClaim(root: string): Claim | undefined {
  let text: string;
  try {
    text = readFileSync(claimFile(root), 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, portLine] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  const port = Number(portLine);
  return { pid, port: Number.isInteger(port) && port > 0 ? port : undefined };
}

/** Takes the data directory for this process; a live holder means another pgpress serves it. */
export function claimDataDir(root: string): { release: () => void; recordPort: (port: number) => void } {
  const file = claimFile(root);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return {
        release: () => rmSync(file, { force: true }),
        recordPort: (port) => {
          // Written aside and renamed: a reader sees the old claim or the new one, never half of it.
          writeFileSync(`${file}.tmp`, `${process.pid}\n${port}\n`);
          renameSync(`${file}.tmp`, file);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = liveClaim(root);
      if (holder) {
        throw new PgpressError(
          'PGP_EMBEDDED_START_FAILED',
          `The data directory ${root} is in use by another pgpress (pid ${holder.pid}). Stop it first, or set PGPRESS_DATA_DIR to another folder.`,
          { details: { heldBy: holder.pid } },
        );
      }
      rmSync(file, { force: true }); // its holder died: the claim is stale
    }
  }
  throw new PgpressError('PGP_EMBEDDED_START_FAILED', `Could not claim the data directory ${root}.`);
}
