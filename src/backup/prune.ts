// Retention for the built-in path: keep the newest N base backups, and the archived WAL from the
// oldest kept backup's start onwards (what pg_archivecleanup would remove, by segment position).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { walDir } from './archiving.ts';
import { baseDir, listBackups } from './manifest.ts';

/** What pruning removed. */
export interface PruneResult {
  removedBackups: string[];
  removedWalFiles: number;
}

/** The WAL file a backup starts in, from its backup_label ("START WAL LOCATION: 0/2000028 (file 0000…02)"). */
function startSegment(backupDir: string, id: string): string | undefined {
  try {
    const label = readFileSync(join(baseDir(backupDir), id, 'data', 'backup_label'), 'utf8');
    return /START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)/.exec(label)?.[1];
  } catch {
    return undefined;
  }
}

/** Keeps the newest `keep` complete backups and the WAL they need; removes the rest. */
export function pruneBackups(opts: { backupDir: string; keep: number }): PruneResult {
  const backupDir = resolve(opts.backupDir);
  const all = listBackups(backupDir);
  const keep = Math.max(1, opts.keep);
  const drop = all.slice(0, Math.max(0, all.length - keep));
  const oldestKept = all[all.length - keep] ?? all[0];
  const result: PruneResult = { removedBackups: [], removedWalFiles: 0 };
  for (const m of drop) {
    rmSync(join(baseDir(backupDir), m.id), { recursive: true, force: true });
    result.removedBackups.push(m.id);
  }
  const from = oldestKept ? startSegment(backupDir, oldestKept.id) : undefined;
  if (!from) return result;
  // By position (log + segment), across timelines; timeline history files are always kept.
  const position = from.slice(8);
  for (const name of readdirSync(walDir(backupDir))) {
    const m = /^([0-9A-F]{24})(\.[0-9A-F]{8}\.backup)?$/.exec(name);
    if (!m || m[1]!.slice(8) >= position) continue;
    rmSync(join(walDir(backupDir), name), { force: true });
    result.removedWalFiles++;
  }
  return result;
}
