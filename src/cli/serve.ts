// `pgpress serve`: start the service; SIGINT/SIGTERM drain it and stop cleanly.
import type { Settings } from '../config/settings.ts';
import { startServer } from '../http/server.ts';
import { createLogger } from '../observability/logger.ts';
import { startScheduler } from '../ops/scheduler/index.ts';

/** Runs until SIGINT or SIGTERM, then shuts down in order. */
export async function serveCommand(settings: Settings): Promise<void> {
  const logger = createLogger(settings.logLevel);
  const server = await startServer(settings, logger);
  logger.info({ address: server.url }, `pgpress listening on ${server.url}`);
  const scheduler = settings.scheduler.enabled ? startScheduler(settings, server.maintenance.cluster, server.maintenance.url, logger) : undefined;
  const stop = (signal: string): void => {
    logger.info({ signal }, 'signal received');
    // The scheduler first: its run in progress finishes on the store's pool before the pool drains.
    (scheduler?.stop(settings.shutdownGraceMs) ?? Promise.resolve()).then(() => server.close()).then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
