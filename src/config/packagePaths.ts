// Folders of the pgpress package itself, found from this file so they hold wherever it is installed.
import { fileURLToPath } from 'node:url';

/** The migrations pgpress ships (<package>/migrations), whatever the caller's working directory.
 *  This file is src/config/packagePaths.ts in a checkout and dist/config/packagePaths.js when built:
 *  two levels below the package root either way. */
export const PACKAGE_MIGRATIONS_DIR: string = fileURLToPath(new URL('../../migrations', import.meta.url));
