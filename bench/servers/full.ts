// The full pgpress stack for the api scenario, on the DATABASE_URL it is given.
import { loadSettings } from '../../src/config/settings.ts';
import { startServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/observability/logger.ts';

const server = await startServer(loadSettings({ ...process.env, PORT: '0', LOG_LEVEL: 'silent' }), createLogger('silent'));
console.log(`listening ${server.url}`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
