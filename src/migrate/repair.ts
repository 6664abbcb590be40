// `migrate repair <version>`: accept one deliberate edit of an applied migration by re-recording its
// checksum, visibly (repaired_at / repaired_by / repaired_from are part of the row's hash).
import { PgpressError } from '../errors/index.ts';
import { verifyChain, rowHash, type ChainFields } from './hashChain.ts';
import { acquireMigrationLock } from './lock.ts';
import { readMigrationSet } from './migrationFiles.ts';
import { connectMigrator, prepareTracking } from './runner.ts';
import { TRACKING_TABLE, UTC_TEXT } from './trackingTable.ts';

/** Re-records the repaired row: new checksum and script, who repaired it and from what, its new hash. */
const REPAIR_ROW = `UPDATE ${TRACKING_TABLE} SET checksum = $2, script = $3, repaired_at = $4::timestamptz, repaired_by = $5,
  repaired_from = $6, row_hash = $7 WHERE version = $1`;

/** Re-links a later row to its predecessor's new hash. */
const RESEAL_ROW = `UPDATE ${TRACKING_TABLE} SET previous_hash = $2, row_hash = $3 WHERE version = $1`;

/** What a repair changed. */
export interface RepairResult {
  version: number;
  file: string;
  repaired: boolean;
  from: string;
  to: string;
}

/** Re-records one applied migration's checksum from its file; refuses when the history chain is broken. */
export async function repairMigration(opts: { url: string; dir: string; version: number }): Promise<RepairResult> {
  const { migrations } = await readMigrationSet(opts.dir);
  const file = migrations.find((f) => f.version === opts.version);
  if (!file) throw new PgpressError('PGP_VALIDATION', `No migration file with version ${opts.version} in ${opts.dir}; repair re-records a changed file, it cannot forget a removed one.`);
  const client = await connectMigrator(opts.url);
  try {
    await acquireMigrationLock(client, true, 60_000);
    const rows = await prepareTracking(client, migrations, () => undefined);
    const broken = verifyChain(rows);
    if (broken.length > 0) {
      throw new PgpressError('PGP_MIGRATION_DRIFT', `The tracking history was edited (row ${broken[0]!.version} ${broken[0]!.problem}); repair will not re-seal it. Restore ${TRACKING_TABLE} from a backup.`);
    }
    const at = rows.findIndex((r) => r.version === opts.version);
    const row = rows[at];
    if (!row) throw new PgpressError('PGP_VALIDATION', `Migration ${file.file} has not been applied, so there is nothing to repair.`);
    if (row.checksum === file.checksum) return { version: row.version, file: file.file, repaired: false, from: row.checksum, to: file.checksum };

    await client.query('BEGIN');
    try {
      const now = await client.query<{ at: string; by: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${UTC_TEXT}) AS at, current_user::text AS by`);
      const repaired: ChainFields = { ...row, checksum: file.checksum, repairedAt: now.rows[0]!.at, repairedBy: now.rows[0]!.by, repairedFrom: row.checksum };
      let previous = row.previousHash;
      const hash = rowHash(previous, repaired);
      await client.query(REPAIR_ROW, [row.version, file.checksum, file.sql, repaired.repairedAt, repaired.repairedBy, repaired.repairedFrom, hash]);
      previous = hash;
      // Later rows link to this one, so their hashes are re-sealed over the new link.
      for (const later of rows.slice(at + 1)) {
        const h = rowHash(previous, later);
        await client.query(RESEAL_ROW, [later.version, previous, h]);
        previous = h;
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return { version: row.version, file: file.file, repaired: true, from: row.checksum, to: file.checksum };
  } finally {
    await client.end().catch(() => undefined);
  }
}
