// Prints the privilege matrix of a database (default: the admin server's `postgres` database's
// sibling named by the argument), to compare with or update test/security/expected-privileges.tsv:
//   node --import tsx test/security/privilegesPrint.ts postgres://postgres@127.0.0.1:5432/mydb
import pg from 'pg';
import { readPrivilegeMatrix } from '../../src/security/rolesMatrix.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: privilegesPrint.ts DATABASE_URL (an admin URL of a migrated database)');
const c = new pg.Client({ connectionString: url });
await c.connect();
try {
  process.stdout.write(`${(await readPrivilegeMatrix(c)).join('\n')}\n`);
} finally {
  await c.end();
}
