// `migrate new <name>`: the next numbered file, from a template that is idempotent by construction.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgpressError } from '../errors/index.ts';
import { readMigrationSet } from './migrationFiles.ts';

/** The template's body: comments and commented examples only, so an untouched file is a harmless no-op. */
export function migrationTemplate(name: string): string {
  return `-- ${name}: say what this migration changes and why.
-- It must be safe to run twice: IF NOT EXISTS, guarded DO blocks. See docs/migrations.md.
-- Companions (optional): this name + .precheck.sql / .pre.sql / .post.sql / .check.sql / .hooks.ts
-- For CREATE INDEX CONCURRENTLY put "-- pgpress:no-transaction" on the first line.

-- CREATE TABLE IF NOT EXISTS example (
--   id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
--   created_at timestamptz NOT NULL DEFAULT now()
-- );

-- ALTER TABLE example ADD COLUMN IF NOT EXISTS note text;

-- DO $$
-- BEGIN
--   IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'example_note_len') THEN
--     ALTER TABLE example ADD CONSTRAINT example_note_len CHECK (length(note) <= 200) NOT VALID;
--   END IF;
-- END $$;
`;
}

/** Writes NNNN_name.sql (one past the highest version) into dir; returns its path. Never overwrites. */
export async function newMigration(opts: { dir: string; name: string }): Promise<string> {
  return writeNextMigration(opts.dir, opts.name, migrationTemplate);
}

/** Writes body(name) as the next numbered migration NNNN_name.sql in dir; returns its path. Never
 *  overwrites. Shared by `migrate new` and the tuning advisor's index migrations. */
export async function writeNextMigration(dir: string, rawName: string, body: (name: string) => string): Promise<string> {
  const name = rawName.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (!/^[a-z0-9][a-z0-9_]*$/.test(name)) {
    throw new PgpressError('PGP_VALIDATION', `Migration name ${JSON.stringify(rawName)} must be lower_snake_case letters, digits and underscores (e.g. add_comments).`);
  }
  const { migrations } = await readMigrationSet(dir);
  const version = (migrations.at(-1)?.version ?? 0) + 1;
  const path = join(dir, `${String(version).padStart(4, '0')}_${name}.sql`);
  try {
    await writeFile(path, body(name), { flag: 'wx' });
  } catch (e) {
    throw new PgpressError('PGP_VALIDATION', `Cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  return path;
}
