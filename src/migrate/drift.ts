// Drift: an applied migration whose file changed, vanished or arrived out of order, or an edited history.
import { normalizeSql } from './checksum.ts';
import { verifyChain } from './hashChain.ts';
import type { MigrationFile } from './migrationFiles.ts';
import { splitStatements } from './splitStatements.ts';
import type { TrackingRow } from './trackingTable.ts';

/** One difference between the folder and the tracking table. */
export interface Drift {
  version: number;
  kind: 'changed' | 'missing' | 'out-of-order' | 'history';
  message: string;
}

/** Every drift between files and tracking rows, in version order. */
export function findDrift(files: readonly MigrationFile[], rows: readonly TrackingRow[]): Drift[] {
  const out: Drift[] = [];
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of rows) {
    const file = byVersion.get(row.version);
    if (!file) {
      out.push({ version: row.version, kind: 'missing', message: `Migration ${row.version} (${row.name}) was applied but its file is no longer in the migrations folder.` });
    } else if (file.checksum !== row.checksum) {
      out.push({
        version: row.version,
        kind: 'changed',
        message: `Migration ${file.file} changed after it was applied: ${whatDiffers(file, row)}. Add a new migration instead of editing an applied one, or accept this one change with \`pgpress migrate repair ${row.version}\`.`,
      });
    }
  }
  const applied = new Set(rows.map((r) => r.version));
  const latest = rows.at(-1)?.version ?? 0;
  for (const f of files) {
    if (f.version < latest && !applied.has(f.version)) {
      out.push({ version: f.version, kind: 'out-of-order', message: `Migration ${f.file} is older than the latest applied migration (${latest}); renumber it after ${latest}.` });
    }
  }
  for (const p of verifyChain(rows)) {
    out.push({ version: p.version, kind: 'history', message: `Tracking row ${p.version} ${p.problem}: the migration history in the database was edited.` });
  }
  return out.sort((a, b) => a.version - b.version);
}

/** Names the first statement that differs (the tracking row keeps the script as applied). */
function whatDiffers(file: MigrationFile, row: TrackingRow): string {
  const recorded = `recorded checksum ${row.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…`;
  if (row.script === null) return recorded;
  const before = splitStatements(row.script);
  const after = splitStatements(file.sql);
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const a = before[i];
    const b = after[i];
    if (!b) return `statement ${i + 1} (${short(a!.text)}) was removed (${recorded})`;
    if (!a) return `statement ${i + 1} at line ${b.line} (${short(b.text)}) was added (${recorded})`;
    if (normalizeSql(a.text) !== normalizeSql(b.text)) return `statement ${i + 1} at line ${b.line} now reads \`${short(b.text)}\`, it was \`${short(a.text)}\` (${recorded})`;
  }
  if (NO_TX.test(row.script) !== NO_TX.test(file.sql)) return `its no-transaction directive was added or removed (${recorded})`;
  return `a pre/post hook or the no-transaction directive changed (${recorded})`;
}

const NO_TX = /^\uFEFF?\s*--\s*pgpress:no-transaction\b/;

function short(sql: string): string {
  const one = normalizeSql(sql);
  return one.length > 100 ? `${one.slice(0, 97)}…` : one;
}
