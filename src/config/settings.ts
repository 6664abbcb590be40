// Every setting pgpress reads, parsed once from the environment into a frozen Settings.
import { z } from 'zod';
import { PgpressError } from '../errors/index.ts';
import { PACKAGE_MIGRATIONS_DIR } from './packagePaths.ts';
import { parseHostList, parsePatroniUrls } from '../db/topologyUrl.ts';
import { parseBlindIndexKey, parseEncryptionKeys } from '../security/keyRing.ts';

const postgresUrl = z
  .string()
  .url('must be a URL such as postgres://user:password@host:5432/dbname')
  .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must start with postgres:// or postgresql://');

/** One server, or the libpq multi-host form postgres://h1:5432,h2:5432/db (the Cluster finds the primary). */
const postgresHostsUrl = z.string().superRefine((s, ctx) => {
  try {
    parseHostList(s);
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
  }
});

/** One server (redis://, rediss://), a Sentinel-managed primary (redis+sentinel://h1:26379,h2/name) or a Cluster (redis+cluster://h1:7000,h2:7001). */
const redisUrl = z
  .string()
  .refine((s) => (/^rediss?:\/\//.test(s) ? URL.canParse(s) : /^redis\+(sentinel|cluster)s?:\/\/\S+$/.test(s)), 'must be a URL such as redis://127.0.0.1:6379 (or redis+sentinel://host:26379/name, redis+cluster://host:7000,host:7001)');

const intIn = (min: number, max: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { errorMap: () => ({ message: 'must be true or false' }) })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

function checkKey(parse: () => unknown, ctx: z.RefinementCtx): void {
  try {
    parse();
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
  }
}

/** The schema: environment variable name → parser, with its default. */
export const settingsSchema = z.object({
  DATABASE_URL: postgresHostsUrl.optional(),
  // The owner's (pgpress_owner) URL: migrate, serve's migrate-on-start, the scheduler and maintenance commands (unset: DATABASE_URL).
  MIGRATION_DATABASE_URL: postgresHostsUrl.optional(),
  PATRONI_URLS: z
    .string()
    .superRefine((s, ctx) => {
      try {
        parsePatroniUrls(s);
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
      }
    })
    .transform((s) => parsePatroniUrls(s))
    .optional(),
  HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  PORT: intIn(0, 65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PGPRESS_DATA_DIR: z.string().min(1, 'must not be empty').default('.pgpress'),
  EMBEDDED_PG_PORT: intIn(1, 65535).default(54329),
  // Default: the package's own migrations, not the caller's working directory.
  MIGRATIONS_DIR: z.string().min(1, 'must not be empty').default(PACKAGE_MIGRATIONS_DIR),
  MIGRATE_ON_START: bool.default('true'),
  MIGRATE_LOCK_TIMEOUT_MS: intIn(0, 600_000).default(5_000),
  MIGRATE_LOCK_RETRIES: intIn(0, 100).default(5),
  DB_POOL_MAX: intIn(1, 1000).default(16),
  DB_ACQUIRE_TIMEOUT_MS: intIn(1, 600_000).default(5_000),
  DB_STATEMENT_TIMEOUT_MS: intIn(0, 3_600_000).default(30_000),
  DB_IDLE_TIMEOUT_MS: intIn(0, 3_600_000).default(30_000),
  DB_NAMED_STATEMENTS: bool.default('true'),
  DATABASE_REPLICA_URLS: z
    .string()
    .transform((v) => v.split(',').map((u) => u.trim()).filter((u) => u !== ''))
    .pipe(z.array(postgresUrl))
    .optional(),
  DB_CRITICAL_POOL_MAX: intIn(1, 1000).default(4),
  DB_CRITICAL_ACQUIRE_TIMEOUT_MS: intIn(1, 600_000).default(1_000),
  DB_CRITICAL_STATEMENT_TIMEOUT_MS: intIn(0, 3_600_000).default(5_000),
  DB_BACKGROUND_POOL_MAX: intIn(1, 1000).default(4),
  DB_BACKGROUND_ACQUIRE_TIMEOUT_MS: intIn(1, 600_000).default(30_000),
  DB_BACKGROUND_STATEMENT_TIMEOUT_MS: intIn(0, 3_600_000).default(300_000),
  DB_QUEUE_MAX: intIn(0, 100_000).default(1_000),
  DB_MAX_LIFETIME_MS: intIn(0, 86_400_000).default(1_800_000),
  DB_LIFETIME_JITTER_PCT: intIn(0, 90).default(20),
  DB_LEAK_THRESHOLD_MS: intIn(0, 3_600_000).default(60_000),
  DB_RETRY_MAX_ATTEMPTS: intIn(1, 20).default(4),
  DB_RETRY_BUDGET_PCT: intIn(0, 100).default(20),
  DB_BREAKER_FAILURES: intIn(1, 1000).default(5),
  DB_BREAKER_HALF_OPEN_MS: intIn(1, 600_000).default(2_000),
  DB_REPLICA_MAX_LAG_MS: intIn(0, 3_600_000).default(5_000),
  DB_REPLICA_REJOIN_MS: intIn(0, 3_600_000).default(5_000),
  DB_REPLICA_MONITOR_INTERVAL_MS: intIn(50, 600_000).default(500),
  DB_RYW_WAIT_MS: intIn(0, 60_000).default(200),
  REDIS_URL: redisUrl.optional(),
  REDIS_COMMAND_TIMEOUT_MS: intIn(10, 60_000).default(250),
  CACHE_ENABLED: bool.default('true'),
  CACHE_L1_MAX_BYTES: intIn(0, 17_179_869_184).default(67_108_864),
  CACHE_CONTENT_TTL_MS: intIn(1_000, 86_400_000).default(300_000),
  CACHE_LIST_TTL_MS: intIn(1_000, 86_400_000).default(60_000),
  // The cache's Redis namespace (unset: from the database's identity, so deployments on different databases sharing a Redis never mix).
  CACHE_NAMESPACE: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -').optional(),
  // The cache's change feed LISTENs: it needs a direct connection, never PgBouncer's (unset: DATABASE_URL).
  CACHE_LISTEN_URL: postgresUrl.optional(),
  CACHE_CHANGES_POLL_MS: intIn(50, 600_000).default(1_000),
  CACHE_CHANGES_RETENTION_MS: intIn(60_000, 604_800_000).default(900_000),
  SHUTDOWN_GRACE_MS: intIn(0, 600_000).default(10_000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Personal data keys: id:base64key,… (the first seals new values) and the blind index's key (unset: generated into PGPRESS_DATA_DIR).
  ENCRYPTION_KEYS: z.string().superRefine((s, ctx) => checkKey(() => parseEncryptionKeys(s), ctx)).optional(),
  BLIND_INDEX_KEY: z.string().superRefine((s, ctx) => checkKey(() => parseBlindIndexKey(s), ctx)).optional(),
  BODY_LIMIT_BYTES: intIn(1024, 104_857_600).default(1_048_576),
  RATE_LIMIT_MAX: intIn(0, 1_000_000).default(600),
  RATE_LIMIT_WINDOW_MS: intIn(1000, 3_600_000).default(60_000),
  SHED_EVENT_LOOP_DELAY_MS: intIn(0, 60_000).default(100),
  // Unset: DB_POOL_MAX (a request beyond the pool's connections would wait for one); 0 turns admission control off.
  ADMISSION_MAX_IN_FLIGHT: intIn(0, 100_000).optional(),
  ADMISSION_QUEUE_MAX: intIn(0, 100_000).default(128),
  ADMISSION_QUEUE_TIMEOUT_MS: intIn(1, 60_000).default(250),
  ADMISSION_QUEUE_TARGET_MS: intIn(1, 60_000).default(50),
  HTTP_REQUEST_BUDGET_MS: intIn(100, 600_000).default(10_000),
  READYZ_CACHE_MS: intIn(0, 60_000).default(1_000),
  METRICS_PORT: intIn(0, 65535).default(0),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_DB_CACHE_MS: intIn(0, 600_000).default(10_000),
  METRICS_STATEMENTS_TOP_K: intIn(1, 500).default(20),
  TRUST_PROXY: z
    .string()
    .transform((v): boolean | number | string[] => {
      if (/^(true|yes)$/.test(v)) return true;
      if (/^(false|no|0)$/.test(v)) return false;
      if (/^\d+$/.test(v)) return Number(v);
      return v.split(',').map((a) => a.trim()).filter((a) => a !== '');
    })
    .default('false'),
  PARTITION_MONTHS_AHEAD: intIn(0, 36).default(3),
  EVENTS_RETENTION_MONTHS: intIn(0, 1200).default(13),
  AUDIT_RETENTION_MONTHS: intIn(0, 1200).default(84),
  PARTITION_ARCHIVE: bool.default('false'),
  MAINTENANCE_BATCH_ROWS: intIn(100, 1_000_000).default(10_000),
  MAINTENANCE_LOCK_TIMEOUT_MS: intIn(1, 600_000).default(2_000),
  SCHEDULER_ENABLED: bool.default('true'),
  SCHEDULER_POLL_MS: intIn(50, 600_000).default(1_000),
  JOB_PARTITIONS_INTERVAL_S: intIn(0, 31_536_000).default(3_600),
  JOB_MATVIEWS_INTERVAL_S: intIn(0, 31_536_000).default(300),
  MATVIEW_MAX_AGE_S: intIn(1, 31_536_000).default(3_600),
  JOB_VACUUM_INTERVAL_S: intIn(0, 31_536_000).default(900),
  VACUUM_DEAD_TUPLES_MIN: intIn(1, 1_000_000_000).default(1_000),
  VACUUM_DEAD_PCT: intIn(0, 100).default(10),
  JOB_REINDEX_INTERVAL_S: intIn(0, 31_536_000).default(86_400),
  REINDEX_BLOAT_PCT: intIn(1, 99).default(30),
  REINDEX_MIN_BYTES: intIn(0, 1_000_000_000_000).default(1_048_576),
  JOB_SOURCE_CHANGES_INTERVAL_S: intIn(0, 31_536_000).default(3_600),
  JOB_IDEMPOTENCY_KEYS_INTERVAL_S: intIn(0, 31_536_000).default(600),
  IDEMPOTENCY_KEY_TTL_HOURS: intIn(1, 8_760).default(24),
  // Unset: backups/ inside PGPRESS_DATA_DIR for the embedded default; required with DATABASE_URL.
  BACKUP_DIR: z.string().min(1, 'must not be empty').optional(),
  PG_BINDIR: z.string().min(1, 'must not be empty').optional(),
  // auto: pgBackRest once the server archives through pgpress's pgBackRest configuration, else built-in.
  BACKUP_TOOL: z.enum(['auto', 'builtin', 'pgbackrest']).default('auto'),
  BACKUP_RETENTION_FULL: intIn(1, 9999).default(2),
});

type Parsed = z.infer<typeof settingsSchema>;

/** Parsed, validated, frozen settings. Secrets inside URLs are hidden from printing. */
export interface Settings {
  readonly databaseUrl: string | undefined;
  /** The owner's URL for migrations and maintenance (MIGRATION_DATABASE_URL, else DATABASE_URL). */
  readonly migrationDatabaseUrl: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly logLevel: Parsed['LOG_LEVEL'];
  readonly dataDir: string;
  readonly embeddedPgPort: number;
  readonly migrationsDir: string;
  readonly migrateOnStart: boolean;
  /** lock_timeout for migration DDL and the retries after it hits (see migrate/lockRetry.ts). */
  readonly migrateLock: { readonly timeoutMs: number; readonly retries: number };
  readonly pool: {
    readonly max: number;
    readonly acquireTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly namedStatements: boolean;
    readonly queueMax: number;
    readonly maxLifetimeMs: number;
    readonly lifetimeJitter: number;
    readonly leakThresholdMs: number;
    readonly lanes: {
      readonly critical: { readonly max: number; readonly acquireTimeoutMs: number; readonly statementTimeoutMs: number };
      readonly background: { readonly max: number; readonly acquireTimeoutMs: number; readonly statementTimeoutMs: number };
    };
    readonly retry: { readonly maxAttempts: number; readonly budgetRatio: number };
    readonly breaker: { readonly failureThreshold: number; readonly halfOpenAfterMs: number };
    readonly replicas: { readonly maxLagMs: number; readonly rejoinAfterMs: number; readonly monitorIntervalMs: number; readonly rywWaitMs: number };
  };
  /** Streaming replicas for reads (empty: every read goes to the primary). */
  readonly replicaUrls: readonly string[];
  /** Patroni REST endpoints: the primary is Patroni's leader, the other members read replicas (empty: none). */
  readonly patroniUrls: readonly string[];
  readonly redisUrl: string | undefined;
  /** Every Redis command fails after this many ms (the rate limit then lets the request through). */
  readonly redisCommandTimeoutMs: number;
  /** The query cache: L1 bound in bytes; fresh TTLs of articles and users (content) and of feed, search and analytics (lists). */
  readonly cache: { readonly enabled: boolean; readonly l1MaxBytes: number; readonly contentTtlMs: number; readonly listTtlMs: number; readonly namespace: string | undefined };
  /** The cache change feed's direct URL for LISTEN (non-enumerable: it may hold a password). */
  readonly cacheListenUrl: string | undefined;
  /** How often the change feed reads the log without a wake-up, and the log's retention. */
  readonly cacheChanges: Readonly<{ pollMs: number; retentionMs: number }>;
  readonly shutdownGraceMs: number;
  /** HS256 secret for bearer tokens; unset → generated once under dataDir (see http/jwtSecret.ts). */
  readonly jwtSecret: string | undefined;
  /** ENCRYPTION_KEYS and BLIND_INDEX_KEY as given (hidden from printing); unset → generated under dataDir (security/keyRing.ts). */
  readonly encryption: { readonly keys: string | undefined; readonly blindIndexKey: string | undefined };
  readonly http: {
    readonly bodyLimit: number;
    /** Requests per client per window; 0 turns rate limiting off. */
    readonly rateLimitMax: number;
    readonly rateLimitWindowMs: number;
    /** Shed load (503) when event-loop delay passes this; 0 turns it off. */
    readonly shedEventLoopDelayMs: number;
    /** Requests in progress at once (0: no bound), those waiting, and how long they may wait (http/admission.ts). */
    readonly admission: { readonly maxInFlight: number; readonly queueMax: number; readonly queueTimeoutMs: number; readonly queueTargetMs: number };
    /** End-to-end budget of one request; what is left of it is the deadline of its database calls. */
    readonly requestBudgetMs: number;
    /** /readyz serves a health snapshot at most this old (0: a fresh check per request). */
    readonly readyzCacheMs: number;
    /** Fastify's trustProxy: which X-Forwarded-For hops to believe for the client address. */
    readonly trustProxy: boolean | number | string[];
    /** An Idempotency-Key's stored answer is replayed this long, then purged (idempotency_keys job). */
    readonly idempotencyKeyTtlHours: number;
  };
  /** Partition maintenance (`pgpress maintain`); retention 0 keeps every month. */
  /** GET /metrics: its own port (0: on the API), bearer token (hidden from printing), database figures' cache, statements kept. */
  readonly metrics: { readonly port: number; readonly token: string | undefined; readonly dbCacheMs: number; readonly statementsTopK: number };
  readonly maintenance: {
    readonly monthsAhead: number;
    readonly eventsRetentionMonths: number;
    readonly auditRetentionMonths: number;
    readonly archive: boolean;
    readonly batchRows: number;
    readonly lockTimeoutMs: number;
  };
  /** The maintenance scheduler in `serve` / `pgpress scheduler`; an interval of 0 turns its job off. */
  readonly scheduler: {
    readonly enabled: boolean;
    readonly pollMs: number;
    readonly intervalsS: { readonly partitions: number; readonly matviews: number; readonly vacuum: number; readonly reindex: number; readonly sourceChanges: number; readonly idempotencyKeys: number };
    readonly matviewMaxAgeS: number;
    readonly vacuumDeadTuplesMin: number;
    readonly vacuumDeadPct: number;
    readonly reindexBloatPct: number;
    readonly reindexMinBytes: number;
  };
  /** `pgpress backup|restore|dump|load`: where backups go (unset: see BACKUP_DIR), PostgreSQL's programs. */
  readonly backup: { readonly dir: string | undefined; readonly pgBindir: string | undefined; readonly tool: Parsed['BACKUP_TOOL']; readonly retentionFull: number };
}

/** Hides a URL's password: for logs and `doctor` output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

function secret<T extends object>(obj: T, key: keyof T): T {
  // Non-enumerable: JSON.stringify, console.log and pino never see it (pg-pool does the same).
  const value = obj[key];
  Object.defineProperty(obj, key, { value, enumerable: false, writable: false });
  return obj;
}

/** Turns an environment (process.env by default) into Settings, or throws PGP_CONFIG_INVALID. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const input: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const result = settingsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const name = String(i.path[0]);
      const shown = /URLS?$/.test(name) ? (input[name] ?? '').split(',').map(redactUrl).join(',') : /SECRET|TOKEN|KEY/.test(name) ? '<hidden>' : JSON.stringify(input[name]);
      return `${name}=${shown}: ${i.message}`;
    });
    throw new PgpressError('PGP_CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const p = result.data;
  const settings: Settings = {
    databaseUrl: p.DATABASE_URL,
    migrationDatabaseUrl: p.MIGRATION_DATABASE_URL ?? p.DATABASE_URL,
    host: p.HOST,
    port: p.PORT,
    logLevel: p.LOG_LEVEL,
    dataDir: p.PGPRESS_DATA_DIR,
    embeddedPgPort: p.EMBEDDED_PG_PORT,
    migrationsDir: p.MIGRATIONS_DIR,
    migrateOnStart: p.MIGRATE_ON_START,
    migrateLock: Object.freeze({ timeoutMs: p.MIGRATE_LOCK_TIMEOUT_MS, retries: p.MIGRATE_LOCK_RETRIES }),
    pool: Object.freeze({
      max: p.DB_POOL_MAX,
      acquireTimeoutMs: p.DB_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: p.DB_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: p.DB_IDLE_TIMEOUT_MS,
      namedStatements: p.DB_NAMED_STATEMENTS,
      queueMax: p.DB_QUEUE_MAX,
      maxLifetimeMs: p.DB_MAX_LIFETIME_MS,
      lifetimeJitter: p.DB_LIFETIME_JITTER_PCT / 100,
      leakThresholdMs: p.DB_LEAK_THRESHOLD_MS,
      lanes: Object.freeze({
        critical: Object.freeze({ max: p.DB_CRITICAL_POOL_MAX, acquireTimeoutMs: p.DB_CRITICAL_ACQUIRE_TIMEOUT_MS, statementTimeoutMs: p.DB_CRITICAL_STATEMENT_TIMEOUT_MS }),
        background: Object.freeze({ max: p.DB_BACKGROUND_POOL_MAX, acquireTimeoutMs: p.DB_BACKGROUND_ACQUIRE_TIMEOUT_MS, statementTimeoutMs: p.DB_BACKGROUND_STATEMENT_TIMEOUT_MS }),
      }),
      retry: Object.freeze({ maxAttempts: p.DB_RETRY_MAX_ATTEMPTS, budgetRatio: p.DB_RETRY_BUDGET_PCT / 100 }),
      breaker: Object.freeze({ failureThreshold: p.DB_BREAKER_FAILURES, halfOpenAfterMs: p.DB_BREAKER_HALF_OPEN_MS }),
      replicas: Object.freeze({
        maxLagMs: p.DB_REPLICA_MAX_LAG_MS,
        rejoinAfterMs: p.DB_REPLICA_REJOIN_MS,
        monitorIntervalMs: p.DB_REPLICA_MONITOR_INTERVAL_MS,
        rywWaitMs: p.DB_RYW_WAIT_MS,
      }),
    }),
    replicaUrls: Object.freeze([...(p.DATABASE_REPLICA_URLS ?? [])]),
    patroniUrls: Object.freeze([...(p.PATRONI_URLS ?? [])]),
    redisUrl: p.REDIS_URL,
    redisCommandTimeoutMs: p.REDIS_COMMAND_TIMEOUT_MS,
    cache: Object.freeze({ enabled: p.CACHE_ENABLED && p.CACHE_L1_MAX_BYTES > 0, l1MaxBytes: p.CACHE_L1_MAX_BYTES, contentTtlMs: p.CACHE_CONTENT_TTL_MS, listTtlMs: p.CACHE_LIST_TTL_MS, namespace: p.CACHE_NAMESPACE }),
    cacheListenUrl: p.CACHE_LISTEN_URL ?? p.DATABASE_URL,
    cacheChanges: Object.freeze({
      pollMs: p.CACHE_CHANGES_POLL_MS,
      retentionMs: p.CACHE_CHANGES_RETENTION_MS,
    }),
    shutdownGraceMs: p.SHUTDOWN_GRACE_MS,
    jwtSecret: p.JWT_SECRET,
    encryption: Object.freeze(secret(secret({ keys: p.ENCRYPTION_KEYS, blindIndexKey: p.BLIND_INDEX_KEY }, 'keys'), 'blindIndexKey')),
    http: Object.freeze({
      bodyLimit: p.BODY_LIMIT_BYTES,
      rateLimitMax: p.RATE_LIMIT_MAX,
      rateLimitWindowMs: p.RATE_LIMIT_WINDOW_MS,
      shedEventLoopDelayMs: p.SHED_EVENT_LOOP_DELAY_MS,
      admission: Object.freeze({
        maxInFlight: p.ADMISSION_MAX_IN_FLIGHT ?? p.DB_POOL_MAX,
        queueMax: p.ADMISSION_QUEUE_MAX,
        queueTimeoutMs: p.ADMISSION_QUEUE_TIMEOUT_MS,
        queueTargetMs: p.ADMISSION_QUEUE_TARGET_MS,
      }),
      requestBudgetMs: p.HTTP_REQUEST_BUDGET_MS,
      readyzCacheMs: p.READYZ_CACHE_MS,
      trustProxy: p.TRUST_PROXY,
      idempotencyKeyTtlHours: p.IDEMPOTENCY_KEY_TTL_HOURS,
    }),
    metrics: Object.freeze(secret({ port: p.METRICS_PORT, token: p.METRICS_TOKEN, dbCacheMs: p.METRICS_DB_CACHE_MS, statementsTopK: p.METRICS_STATEMENTS_TOP_K }, 'token')),
    maintenance: Object.freeze({
      monthsAhead: p.PARTITION_MONTHS_AHEAD,
      eventsRetentionMonths: p.EVENTS_RETENTION_MONTHS,
      auditRetentionMonths: p.AUDIT_RETENTION_MONTHS,
      archive: p.PARTITION_ARCHIVE,
      batchRows: p.MAINTENANCE_BATCH_ROWS,
      lockTimeoutMs: p.MAINTENANCE_LOCK_TIMEOUT_MS,
    }),
    scheduler: Object.freeze({
      enabled: p.SCHEDULER_ENABLED,
      pollMs: p.SCHEDULER_POLL_MS,
      intervalsS: Object.freeze({
        partitions: p.JOB_PARTITIONS_INTERVAL_S,
        matviews: p.JOB_MATVIEWS_INTERVAL_S,
        vacuum: p.JOB_VACUUM_INTERVAL_S,
        reindex: p.JOB_REINDEX_INTERVAL_S,
        sourceChanges: p.JOB_SOURCE_CHANGES_INTERVAL_S,
        idempotencyKeys: p.JOB_IDEMPOTENCY_KEYS_INTERVAL_S,
      }),
      matviewMaxAgeS: p.MATVIEW_MAX_AGE_S,
      vacuumDeadTuplesMin: p.VACUUM_DEAD_TUPLES_MIN,
      vacuumDeadPct: p.VACUUM_DEAD_PCT,
      reindexBloatPct: p.REINDEX_BLOAT_PCT,
      reindexMinBytes: p.REINDEX_MIN_BYTES,
    }),
    backup: Object.freeze({ dir: p.BACKUP_DIR, pgBindir: p.PG_BINDIR, tool: p.BACKUP_TOOL, retentionFull: p.BACKUP_RETENTION_FULL }),
  };
  secret(settings, 'databaseUrl');
  secret(settings, 'migrationDatabaseUrl');
  secret(settings, 'redisUrl');
  secret(settings, 'cacheListenUrl');
  secret(settings, 'jwtSecret');
  secret(settings, 'replicaUrls');
  return Object.freeze(settings);
}
