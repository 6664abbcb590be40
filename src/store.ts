// createStore: the library face — a Cluster plus the content services over it.
import { resolve } from 'node:path';
import { Cluster } from './db/cluster.ts';
import { migrationCurrency, readMigrations, type MigrationCurrency, type MigrationFile } from './migrate/index.ts';
import { createUser, getUser, type NewUser, type User } from './content/users/repository.ts';
import { createArticle, getArticle, type Article, type NewArticle } from './content/articles/repository.ts';
import type { Settings } from './config/settings.ts';

/** Readiness of the store: can it reach the database, and is the schema current? */
export interface Readiness {
  ready: boolean;
  database: { reachable: boolean; migrations: MigrationCurrency | null; error?: string };
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
  /** True while callers queue for connections four deep per pooled connection: time to shed load. */
  saturated(): boolean;
  close(): Promise<void>;
}

/** How to build a store: a database URL, plus optional pool settings and migrations folder. */
export interface StoreOptions {
  url: string;
  pool?: Partial<Settings['pool']>;
  migrationsDir?: string;
}

/** Connects to PostgreSQL (lazily: the first query opens a connection) and returns the store. */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const migrations: MigrationFile[] = await readMigrations(resolve(opts.migrationsDir ?? 'migrations'));
  const cluster = new Cluster({ url: opts.url, ...opts.pool });
  return {
    cluster,
    users: {
      create: (input) => createUser(cluster, input),
      get: (id) => getUser(cluster, id),
    },
    articles: {
      create: (input) => createArticle(cluster, input),
      get: (id) => getArticle(cluster, id),
    },
    async readiness() {
      try {
        const m = await migrationCurrency(cluster, migrations);
        return { ready: m.current, database: { reachable: true, migrations: m } };
      } catch (e) {
        return { ready: false, database: { reachable: false, migrations: null, error: (e as Error).message } };
      }
    },
    saturated: () => cluster.pool.waitingCount > 4 * cluster.pool.options.max,
    close: () => cluster.close(),
  };
}
