// The full pgpress stack for the api scenario, configured by its environment like `pgpress serve`
// (LOG_LEVEL included: the api scenario runs it lean and in its default configuration).
import { loadSettings } from '../../config/settings.ts';
import { startServer } from '../../http/server.ts';
import { createLogger } from '../../observability/logger.ts';
import { serveForParent } from './serverProcess.ts';

const settings = loadSettings({ ...process.env, PORT: '0' });
const server = await startServer(settings, createLogger(settings.logLevel));
serveForParent(server.url, () => server.close());
