// The JWT secret: JWT_SECRET, or one generated once and kept under the data directory.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Returns the configured secret, or reads (creating on first use) dataDir/jwt-secret (mode 600). */
export function resolveJwtSecret(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) return configured;
  const dir = resolve(dataDir);
  const file = join(dir, 'jwt-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written whole to a file of our own, then linked into place: link() fails if the name exists,
  // so of servers started together on a fresh folder one wins and the rest read its complete file
  // (an exclusive create could be read while still empty, or fail the loser with EEXIST).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(file, 'utf8').trim();
}
