// pgbench, PostgreSQL's C benchmark client: the ceiling a Node.js client is compared with.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The pgbench binary: BENCH_PGBENCH, the newest /usr/lib/postgresql/<v>/bin/pgbench, or PATH. */
export function findPgbench(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_PGBENCH) return env.BENCH_PGBENCH;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(`${root}/${v}/bin/pgbench`)).sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return `${root}/${versions[0]}/bin/pgbench`;
  }
  const which = spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  throw new Error('pgbench is not installed: the baseline scenario needs it (Debian: apt-get install postgresql-15, or set BENCH_PGBENCH to its path).');
}

/** pgbench -i at scale 1 (100k pgbench_accounts rows) into the database at url. */
export async function pgbenchInit(bin: string, url: string): Promise<void> {
  await run(bin, ['-i', '-q', '-s', '1', url], { maxBuffer: 1 << 20 });
}

/** Transactions per second of a pgbench run (`args` besides clients, threads and time), prepared statements, no vacuum. */
export async function pgbenchTps(bin: string, url: string, clients: number, seconds: number, args: string[]): Promise<number> {
  const threads = Math.min(clients, 2);
  const { stdout } = await run(bin, ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(threads), '-T', String(Math.max(1, Math.round(seconds))), ...args, url], { maxBuffer: 1 << 20 });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
  if (tps === undefined) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return Number(tps);
}
