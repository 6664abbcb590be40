// createStore: the library face — a Cluster plus the content services over it.
import { resolve } from 'node:path';
import { Cluster, type ClusterOptions } from './db/cluster.ts';
import type { TargetHealth } from './db/health.ts';
import { migrationCurrency, readMigrations, type MigrationCurrency, type MigrationFile } from './migrate/index.ts';
import { createUser, getUser, type NewUser, type User } from './content/users/repository.ts';
import { createArticle, getArticle, type Article, type NewArticle } from './content/articles/repository.ts';
import type { Settings } from './config/settings.ts';

/** Readiness of the store: can it reach the database, is the schema current, how is each target? */
export interface Readiness {
  ready: boolean;
  database: { reachable: boolean; migrations: MigrationCurrency | null; error?: string };
  /** The primary and each replica: state, lag, breaker, lanes. */
  targets: TargetHealth[];
}

/** The storage platform as a library. */
export interface Store {
  readonly cluster: Cluster;
  readonly users: {
    create(input: NewUser): Promise<User>;
    get(id: number): Promise<User>;
  };
  readonly articles: {
    create(input: NewArticle): Promise<Article>;
    get(id: number): Promise<Article>;
  };
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}

/** How to build a store: a database URL, plus optional pool settings, replicas and migrations folder. */
export interface StoreOptions {
  url: string;
  replicaUrls?: readonly string[];
  pool?: Partial<Settings['pool']> & Partial<Omit<ClusterOptions, 'url' | 'replicaUrls'>>;
  migrationsDir?: string;
}

/** Connects to PostgreSQL (lazily: the first query opens a connection) and returns the store. */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const migrations: MigrationFile[] = await readMigrations(resolve(opts.migrationsDir ?? 'migrations'));
  const cluster = new Cluster({ url: opts.url, ...opts.pool, replicaUrls: opts.replicaUrls ?? [] });
  return {
    cluster,
    users: {
      // Writes run in a transaction so they yield a commit LSN (the read-your-writes token).
      create: async (input) => (await cluster.tx((q) => createUser(q, input))).value,
      get: (id) => getUser(cluster, id),
    },
    articles: {
      create: async (input) => (await cluster.tx((q) => createArticle(q, input))).value,
      get: (id) => getArticle(cluster, id),
    },
    async readiness() {
      const targets = await cluster.health();
      try {
        const m = await migrationCurrency(cluster, migrations);
        return { ready: m.current && targets[0]!.state === 'up', database: { reachable: true, migrations: m }, targets };
      } catch (e) {
        return { ready: false, database: { reachable: false, migrations: null, error: (e as Error).message }, targets };
      }
    },
    close: () => cluster.close(),
  };
}
