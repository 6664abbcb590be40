// Run-level setup and teardown, called by scripts/test.js around the test runner:
//   setup [--pgbouncer]  start local PostgreSQL and Redis if down, check services (installing PgBouncer
//                        when the run needs it and it can),
//                        sweep leftovers of dead runs, build the migrated template; prints its name;
//                        and, when PGPRESS_CLUSTER_TEMPLATE names a data directory (scripts/test.js
//                        sets it), runs initdb there once: every throwaway cluster of the run copies it
//   teardown NAME    drop the template and every database this run created, remove the initdb template
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/migrate/index.ts';
import { quoteIdent } from '../../src/db/sql.ts';
import { bringUpPostgres, bringUpRedis } from './bringUp.ts';
import { ensurePgbouncer } from './pgbouncer.ts';
import { initdbCluster, pgOwner, sweepStaleClusters } from './pgCluster.ts';
import { ADMIN_URL, REDIS_URL, assertServices, databaseUrl } from './services.ts';

/** Test databases are named pgpress_t_<runner pid>_…; the pid tells whether their run is alive. */
const TEST_DB = /^pgpress_t_(\d+)_/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function dropWhere(admin: pg.Client, keep: (name: string, pid: number) => boolean): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'pgpress\\_t\\_%'");
  for (const { datname } of rows) {
    const pid = Number(TEST_DB.exec(datname)?.[1]);
    if (!keep(datname, pid)) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
  }
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

async function setup(needsPgbouncer: boolean): Promise<void> {
  await bringUpPostgres(ADMIN_URL);
  await bringUpRedis(REDIS_URL);
  await assertServices();
  if (needsPgbouncer) ensurePgbouncer();
  sweepStaleClusters();
  const runner = process.ppid; // scripts/test.js
  const template = `pgpress_t_${runner}_template`;
  await withAdmin(async (admin) => {
    await dropWhere(admin, (_name, pid) => Number.isInteger(pid) && pid !== runner && isAlive(pid));
    await admin.query(`CREATE DATABASE ${quoteIdent(template)}`);
  });
  // initdb (the postgres OS user's process) runs while the migrations run on the server.
  await Promise.all([migrate({ url: databaseUrl(template), dir: resolve('migrations') }), makeClusterTemplate(runner)]);
  process.stdout.write(`${template}\n`);
}

/** initdb once into PGPRESS_CLUSTER_TEMPLATE (…/pgpress-cluster-…/data): startCluster copies it
 *  (~0.1 s) instead of running initdb (~1.6 s of CPU) for each throwaway primary. Its folder holds
 *  owner.pid (the runner's), so sweepStaleClusters removes it if the run dies before teardown. */
async function makeClusterTemplate(runner: number): Promise<void> {
  const dataDir = process.env.PGPRESS_CLUSTER_TEMPLATE;
  if (!dataDir) return;
  const root = dirname(dataDir);
  rmSync(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  writeFileSync(resolve(root, 'owner.pid'), String(runner));
  const { uid, gid } = pgOwner();
  if (uid !== undefined && gid !== undefined) await chown(root, uid, gid);
  await initdbCluster(dataDir, root);
}

async function teardown(template: string): Promise<void> {
  const runner = Number(TEST_DB.exec(template)?.[1]);
  await withAdmin((admin) => dropWhere(admin, (_name, pid) => pid !== runner));
  const dataDir = process.env.PGPRESS_CLUSTER_TEMPLATE;
  if (dataDir && existsSync(resolve(dirname(dataDir), 'owner.pid'))) rmSync(dirname(dataDir), { recursive: true, force: true });
}

const [cmd, arg] = process.argv.slice(2);
try {
  if (cmd === 'setup') await setup(arg === '--pgbouncer');
  else if (cmd === 'teardown' && arg) await teardown(arg);
  else throw new Error('usage: globalSetup.ts setup [--pgbouncer] | teardown TEMPLATE');
} catch (e) {
  process.stderr.write(`test setup failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
