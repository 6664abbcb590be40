// A secret generated once and kept in a file of the data folder (mode 600): the JWT secret, the
// encryption key ring, the blind-index key.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Reads dataDir/name, creating it (mode 600) from make() on first use; safe when servers start together. */
export function dataFolderSecret(dataDir: string, name: string, make: () => string): string {
  const dir = resolve(dataDir);
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written whole to a file of our own, then linked into place: link() fails if the name exists,
  // so of servers started together on a fresh folder one wins and the rest read its complete file
  // (an exclusive create could be read while still empty, or fail the loser with EEXIST).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${make()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(file, 'utf8').trim();
}
