// startServer: the whole service — embedded PostgreSQL if needed, migrations, store, HTTP.
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Settings } from '../config/settings.ts';
import { startEmbedded, type EmbeddedServer } from '../db/embeddedServer.ts';
import { patroniClusterOptions, resolvePrimaryUrl } from '../db/topology.ts';
import { Cluster } from '../db/cluster.ts';
import { sql } from '../db/sql.ts';
import { appRoleChecks, type CheckReader } from '../security/doctorChecks.ts';
import { PgpressError } from '../errors/index.ts';
import { migrate } from '../migrate/index.ts';
import type { Logger } from '../observability/logger.ts';
import { createStore, type Store } from '../store.ts';
import type { RedisClient as Redis } from '../cache/l2.ts';
import { resolveJwtSecret } from '../security/jwtSecret.ts';
import { resolveKeyRing } from '../security/keyRing.ts';
import { tokenService } from '../security/tokens.ts';
import { buildApp } from './app.ts';
import { connectRedis } from './redisClient.ts';
import { ttlsFrom } from '../cache/ttl.ts';
import { startCacheChangeFeed } from '../cache/changeFeedStart.ts';
import { databaseNamespace } from '../cache/namespace.ts';
import type { RunningChangeFeed } from '../cache/changeFeed.ts';

/** A running service. */
export interface RunningServer {
  /** Base URL of the HTTP API. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  /** The primary's URL as the application role (DATABASE_URL or the embedded server's). */
  readonly databaseUrl: string;
  /** Where maintenance runs: the owner's primary URL (MIGRATION_DATABASE_URL, the embedded owner)
   *  and a cluster on it (the store's own when the owner's URL is DATABASE_URL). */
  readonly maintenance: { readonly url: string; readonly cluster: Cluster };
  /** Drains HTTP (up to the grace period), closes pools, stops an embedded PostgreSQL. */
  close(): Promise<void>;
}

/** Starts everything `pgpress serve` runs; on failure, stops whatever it had started. */
export async function startServer(settings: Settings, logger: Logger): Promise<RunningServer> {
  let embedded: EmbeddedServer | undefined;
  let store: Store | undefined;
  let redis: Redis | undefined;
  let feed: RunningChangeFeed | undefined;
  let ownerCluster: Cluster | undefined;
  try {
    let url = settings.databaseUrl;
    // Migrations as the owner (on the embedded default its superuser: they create roles and
    // extensions), maintenance as the owner, everything else as the application role.
    let migrationUrl = settings.migrationDatabaseUrl;
    let ownerUrl = settings.migrationDatabaseUrl;
    if (url === undefined) {
      logger.info({ dataDir: resolve(settings.dataDir), port: settings.embeddedPgPort }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
      embedded = await startEmbedded({
        dataDir: settings.dataDir,
        port: settings.embeddedPgPort,
        log: (m) => logger.debug({ component: 'embedded-postgres' }, m),
        warn: (m) => logger.warn({ component: 'embedded-postgres' }, m),
      });
      url = embedded.url;
      migrationUrl = embedded.adminUrl;
      ownerUrl = embedded.ownerUrl;
    }
    // With several hosts or PATRONI_URLS the store, the maintenance pool, the change feed and the
    // scheduler's lock follow the primary (each reconnect resolves it again); migrations at start use
    // the primary found now, once.
    const primaryUrl = await resolvePrimaryUrl(url, settings.patroniUrls);
    const nodes = await patroniClusterOptions(settings.patroniUrls);
    const primaryOf = (u: string | undefined): Promise<string> => (u === undefined || u === url ? Promise.resolve(primaryUrl) : resolvePrimaryUrl(u, settings.patroniUrls));
    const dir = resolve(settings.migrationsDir);
    if (settings.migrateOnStart) {
      const applied = await migrate({ url: await primaryOf(migrationUrl), dir, wait: true, lock: settings.migrateLock, log: (m) => logger.info({ component: 'migrate' }, m) });
      logger.info({ applied: applied.length }, 'migrations current');
    }
    const maintenanceUrl = await primaryOf(ownerUrl);
    if (settings.redisUrl !== undefined) {
      redis = await connectRedis(settings.redisUrl, settings.redisCommandTimeoutMs, logger);
    }
    const { enabled, l1MaxBytes, contentTtlMs, listTtlMs } = settings.cache;
    // Deployments on different databases may share one Redis: each keeps to its database's namespace.
    const namespace = enabled && redis ? (settings.cache.namespace ?? (await databaseNamespace(primaryUrl))) : undefined;
    store = await createStore({
      url, replicaUrls: settings.replicaUrls, pool: { ...settings.pool, ...nodes }, migrationsDir: dir, eventsRetentionMonths: settings.maintenance.eventsRetentionMonths,
      keys: resolveKeyRing(settings.encryption, settings.dataDir),
      ...(enabled ? { cache: { l1MaxBytes, ttls: ttlsFrom(contentTtlMs, listTtlMs), log: logger, ...(redis ? { redis, namespace } : {}) } } : {}),
    });
    await warnOfPrivilegedAppRole(store.cluster, logger);
    // Generated keys belong to this data folder: another server on the same database could not open what this one seals.
    if (settings.databaseUrl !== undefined && (settings.encryption.keys === undefined || settings.encryption.blindIndexKey === undefined)) {
      logger.warn({ dataDir: settings.dataDir }, 'encryption keys: ENCRYPTION_KEYS or BLIND_INDEX_KEY unset, using the keys generated in the data folder; give every server of this database the same two settings (docs/security.md)');
    }
    if (maintenanceUrl !== primaryUrl) {
      // On the owner's URL as given (several hosts, or PATRONI_URLS): the jobs follow the primary as the store does.
      ownerCluster = new Cluster({ url: ownerUrl ?? maintenanceUrl, ...settings.pool, ...nodes, max: 2, applicationName: 'pgpress-maintenance' });
    }
    if (store.cache) {
      // Writes made outside pgpress invalidate too: the database's change log, on a direct connection (LISTEN).
      const { pollMs, retentionMs } = settings.cacheChanges;
      // On the cluster's URL the feed follows the primary (with PATRONI_URLS: Patroni's leader) on every reconnect.
      const patroni = settings.cacheListenUrl === url ? { patroniUrls: settings.patroniUrls } : {};
      feed = await startCacheChangeFeed({ url: settings.cacheListenUrl ?? primaryUrl, ...patroni, cache: store.cache, log: logger, pollMs, retentionMs, ...(redis ? { redis, namespace } : {}) });
    }
    const jwtSecret = resolveJwtSecret(settings.jwtSecret, settings.dataDir);
    const tokens = tokenService(jwtSecret);
    const app = await buildApp({
      store,
      tokens,
      logger,
      bodyLimit: settings.http.bodyLimit,
      rateLimit: {
        max: settings.http.rateLimitMax,
        windowMs: settings.http.rateLimitWindowMs,
        redisTimeoutMs: settings.redisCommandTimeoutMs,
        ...(redis ? { redis } : {}),
      },
      shedEventLoopDelayMs: settings.http.shedEventLoopDelayMs,
      admission: settings.http.admission,
      trustProxy: settings.http.trustProxy,
      readyzCacheMs: settings.http.readyzCacheMs,
      // Instances share JWT_SECRET, so they agree on every request's fingerprint (a retry may reach another).
      idempotency: { ttlHours: settings.http.idempotencyKeyTtlHours, secret: createHmac('sha256', jwtSecret).update('pgpress idempotency fingerprint').digest() },
      metrics: {
        port: settings.metrics.port,
        host: settings.host,
        token: settings.metrics.token,
        dbCacheMs: settings.metrics.dbCacheMs,
        statementsTopK: settings.metrics.statementsTopK,
      },
      requestBudgetMs: settings.http.requestBudgetMs,
    });
    try {
      await app.listen({ host: settings.host, port: settings.port });
    } catch (e) {
      await app.close();
      const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw new PgpressError(
        'PGP_CONFIG_INVALID',
        inUse ? `HTTP port ${settings.host}:${settings.port} is in use; stop what holds it or set PORT.` : `Cannot listen on ${settings.host}:${settings.port}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    const openStore = store;
    const openEmbedded = embedded;
    const openRedis = redis;
    const openFeed = feed;
    const openOwner = ownerCluster;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${settings.host}:${port}`,
      app,
      store: openStore,
      databaseUrl: primaryUrl,
      maintenance: { url: maintenanceUrl, cluster: openOwner ?? openStore.cluster },
      close: () =>
        (closing ??= (openFeed?.stop() ?? Promise.resolve())
          .then(() => openOwner?.close())
          .then(() => shutdown(app, openStore, openRedis, openEmbedded, settings.shutdownGraceMs, logger))),
    };
  } catch (e) {
    await feed?.stop().catch(() => undefined);
    await ownerCluster?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    redis?.disconnect();
    await embedded?.stop().catch(() => undefined);
    throw e;
  }
}

async function shutdown(app: FastifyInstance, store: Store, redis: Redis | undefined, embedded: EmbeddedServer | undefined, graceMs: number, logger: Logger): Promise<void> {
  logger.info('shutting down: draining HTTP requests');
  // In-flight requests finish; past the grace period the remaining connections are cut.
  const timer = setTimeout(() => {
    logger.warn({ graceMs }, 'grace period over: closing remaining HTTP connections');
    app.server.closeAllConnections();
  }, graceMs);
  // Keep-alive connections turn idle as their last response goes out: close them as they do.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(reaper);
  }
  await store.close();
  redis?.disconnect();
  if (embedded) {
    logger.info('stopping the embedded PostgreSQL');
    await embedded.stop();
  }
  logger.info('stopped');
}

/** A superuser, owner or BYPASSRLS application role defeats least privilege: said loudly at start
 *  (pgpress doctor flags it too; docs/security.md says how to set the roles up). */
async function warnOfPrivilegedAppRole(cluster: Cluster, logger: Logger): Promise<void> {
  const reader: CheckReader = { query: (text) => cluster.query(sql('serve.appRoleFacts', text)) };
  for (const c of await appRoleChecks(reader)) {
    if (c.state === 'flag') logger.warn({ check: c.check }, `security: ${c.message}`);
  }
}
