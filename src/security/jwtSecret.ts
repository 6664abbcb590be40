// The JWT secret: JWT_SECRET, or one generated once and kept under the data directory.
import { randomBytes } from 'node:crypto';
import { dataFolderSecret } from './dataFolderSecret.ts';

/** Returns the configured secret, or reads (creating on first use) dataDir/jwt-secret (mode 600). */
export function resolveJwtSecret(configured: string | undefined, dataDir: string): string {
  return configured ?? dataFolderSecret(dataDir, 'jwt-secret', () => randomBytes(32).toString('base64url'));
}
