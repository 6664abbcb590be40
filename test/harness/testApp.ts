// The HTTP app over a per-file database, with a token service to act as any user.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/http/app.ts';
import { tokenService, type Role, type TokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { enforceResponseContract } from './responseContract.ts';
import { roleUrl } from './roleUrl.ts';
import { testDatabase } from './testDatabase.ts';

/** A running app (inject only) and what it stands on. */
export interface TestApp {
  app: FastifyInstance;
  store: Store;
  /** The admin (superuser) URL of the app's database, for fixtures. */
  url: string;
  /** The application role's URL of the same database: what the app's store connects with. */
  appUrl: string;
  /** A store on the same database as the owner (pgpress_owner): fixtures and maintenance the app
   *  role may not do (matview refresh, reading audit_log or every table). */
  owner: Store;
  tokens: TokenService;
  /** `Authorization` header value for this user and role. */
  bearer(userId: number, role?: Role): string;
}

/** Builds the app on a fresh database, connected as the application role (least privilege, as
 *  `serve` runs); closed after the file. Call at top level or in a test. */
export async function testApp(overrides: Partial<AppOptions> = {}): Promise<TestApp> {
  const { url, appUrl } = await testDatabase();
  const store = await createStore({ url: appUrl, pool: { max: 4 } });
  const owner = await createStore({ url: roleUrl(url, 'owner'), pool: { max: 2 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  // Event-loop shedding is off by default: a busy test machine must not turn answers into 503s.
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0, ...overrides });
  const violations = enforceResponseContract(app);
  after(async () => {
    assert.deepEqual(violations, [], 'every response matches the schema its route documents');
    await app.close();
    await store.close();
    await owner.close();
  });
  return { app, store, url, appUrl, owner, tokens, bearer: (userId, role = 'author') => `Bearer ${tokens.sign({ userId, role })}` };
}
