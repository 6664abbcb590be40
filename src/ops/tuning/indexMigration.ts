// A recommended index as the next numbered migration: first line `-- pgpress:no-transaction`,
// CREATE INDEX CONCURRENTLY IF NOT EXISTS, checked by `migrate lint` before it is written.
// The advisor only writes the file; `pgpress migrate up` applies it like any other migration.
import { PgpressError } from '../../errors/index.ts';
import { lintSql } from '../../migrate/lint/lint.ts';
import { writeNextMigration } from '../../migrate/template.ts';
import type { IndexCandidate } from './missingIndexes.ts';

/** One comment line: no newline can end the comment early. */
const oneLine = (s: string, max = 160): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The migration's text for a candidate. */
export function indexMigrationSql(c: IndexCandidate): string {
  const verdict = c.hypothetical.tested
    ? `HypoPG: estimated cost ${c.hypothetical.costBefore.toFixed(1)} -> ${c.hypothetical.costAfter.toFixed(1)} with this index (plan ${c.hypothetical.usesIndex ? 'uses' : 'does not use'} it).`
    : `Not tried as a hypothetical index (${oneLine(c.hypothetical.reason, 100)}).`;
  return [
    '-- pgpress:no-transaction',
    `-- Written by \`pgpress tune\`: ${c.table} is read by sequential scan to keep ~${Math.round(c.estimatedRows)} of ${Math.round(c.tableRows)} rows`,
    `-- (filter ${oneLine(c.filter, 100)}) in the statement ${c.queryid}: ${oneLine(c.query)}`,
    `-- ${verdict}`,
    `${c.sql};`,
    '',
  ].join('\n');
}

/** Writes NNNN_<index name>.sql (one past the highest version in dir, never overwriting); returns its path. */
export async function writeIndexMigration(dir: string, c: IndexCandidate): Promise<string> {
  const sql = indexMigrationSql(c);
  const findings = (await lintSql(`${c.name}.sql`, sql)).filter((f) => !f.acknowledged);
  if (findings.length > 0) {
    throw new PgpressError('PGP_INTERNAL', `The index migration for ${c.name} fails migrate lint: ${findings.map((f) => `${f.rule}: ${f.message}`).join('; ')}`);
  }
  // Index names may hold upper case or other characters a file name should not.
  return writeNextMigration(dir, c.name.toLowerCase().replace(/[^a-z0-9_]/g, '_'), () => sql);
}
