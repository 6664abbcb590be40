// A database per test file, cloned from the run's migrated template, dropped after the file.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { quoteIdent } from '../../src/db/sql.ts';
import { roleUrl } from './roleUrl.ts';
import { ADMIN_URL, databaseUrl } from './services.ts';

/** A fresh database for this test file: `url` connects as the admin (a superuser), the others as each pgpress role. */
export interface TestDatabase {
  name: string;
  url: string;
  appUrl: string;
  ownerUrl: string;
  readonlyUrl: string;
  auditorUrl: string;
}

function runnerPid(): string {
  const template = process.env.PGPRESS_TEST_TEMPLATE;
  if (!template) throw new Error('PGPRESS_TEST_TEMPLATE is not set: run the tests with `npm test` (scripts/test.js builds the template).');
  return /^pgpress_t_(\d+)_/.exec(template)![1]!;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates a database: a clone of the migrated template (default) or empty; dropped after the file.
 *  Call it at the top level of a test file or inside a test, not in before(): there node runs
 *  the after() it registers as soon as the hook ends. */
export async function testDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `pgpress_t_${runnerPid()}_${randomBytes(5).toString('hex')}`;
  const template = opts.empty ? 'template0' : process.env.PGPRESS_TEST_TEMPLATE!;
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
  after(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)));
  const url = databaseUrl(name);
  return { name, url, appUrl: roleUrl(url, 'app'), ownerUrl: roleUrl(url, 'owner'), readonlyUrl: roleUrl(url, 'readonly'), auditorUrl: roleUrl(url, 'auditor') };
}
