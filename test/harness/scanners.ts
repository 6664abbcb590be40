// The security scanners' shared ground: requests built from the examples of /docs/json, the rows
// those examples name (id 1 everywhere, slug hello-postgres), and the Debian tools sqlmap and wapiti.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MATVIEWS } from '../../src/ops/matviews.ts';
import type { Store } from '../../src/store.ts';
import type { DebianTool } from './debianTool.ts';

export const SQLMAP: DebianTool = { command: 'sqlmap', candidates: ['/usr/bin/sqlmap'], pkg: 'sqlmap', neededBy: 'test/security/sqlmap.test.ts' };
export const WAPITI: DebianTool = { command: 'wapiti', candidates: ['/usr/bin/wapiti'], pkg: 'wapiti', neededBy: 'test/security/wapiti.test.ts' };

interface Parameter { in: string; name: string; required?: boolean; example?: unknown; schema?: { example?: unknown } }
interface Operation { parameters?: Parameter[]; requestBody?: { content: Record<string, { example?: unknown; schema?: { example?: unknown } }> }; security?: unknown[] }
/** The part of /docs/json the builders read. */
export interface OpenApiDoc { paths: Record<string, Record<string, Operation>> }

/** One operation's example request. */
export interface ExampleRequest {
  /** `GET /v1/articles/{id}`, for messages. */
  operation: string;
  method: string;
  /** The path with its path parameters filled in from their examples. */
  path: string;
  /** The path template with each path parameter's example followed by `marker` (sqlmap's `*`). */
  markedPath(marker: string): string;
  query: Record<string, string>;
  body: unknown;
  /** The operation declares bearer security. */
  needsAuth: boolean;
  /** Inputs without an example (the examples test asserts there are none). */
  missing: string[];
}

const exampleOf = (p: { example?: unknown; schema?: { example?: unknown } }): unknown => p.example ?? p.schema?.example;

/** Query parameters of which a request may carry only one group (the feed filters by one of
 *  author, tag, or meta/lang): such an operation gets one example request per group. */
const EXCLUSIVE_QUERY: Record<string, string[][]> = { 'GET /v1/feed': [['tag'], ['author'], ['meta', 'lang']] };

/** Every operation of the document except /docs itself, with its example request. */
export function exampleRequests(doc: OpenApiDoc): ExampleRequest[] {
  const out: ExampleRequest[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    if (template.startsWith('/docs')) continue;
    for (const [method, op] of Object.entries(methods)) {
      const missing: string[] = [];
      const pathParams: Record<string, string> = {};
      const query: Record<string, string> = {};
      for (const p of op.parameters ?? []) {
        const ex = exampleOf(p);
        if (ex === undefined) { missing.push(`${p.in} ${p.name}`); continue; }
        if (p.in === 'path') pathParams[p.name] = String(ex);
        else if (p.in === 'query') query[p.name] = String(ex);
      }
      const media = op.requestBody?.content['application/json'];
      const body = media === undefined ? undefined : exampleOf(media);
      if (media !== undefined && body === undefined) missing.push('body');
      const fill = (marker: string): string => template.replace(/\{(\w+)\}/g, (_m, name: string) => `${encodeURIComponent(pathParams[name] ?? '')}${marker}`);
      const operation = `${method.toUpperCase()} ${template}`;
      const groups = EXCLUSIVE_QUERY[operation];
      const exclusive = new Set(groups?.flat());
      const common = Object.fromEntries(Object.entries(query).filter(([k]) => !exclusive.has(k)));
      for (const group of groups ?? [[]]) {
        const q = { ...common, ...Object.fromEntries(Object.entries(query).filter(([k]) => group.includes(k))) };
        out.push({ operation: groups ? `${operation} (${group.join('+')})` : operation, method: method.toUpperCase(), path: fill(''), markedPath: fill, query: q, body, needsAuth: (op.security ?? []).length > 0, missing });
      }
    }
  }
  return out;
}

/** The path with the query string of the example. */
export function withQuery(path: string, query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return q === '' ? path : `${path}?${q}`;
}

/** Creates the rows the examples name on a fresh database: user 1, published article 1
 *  (slug hello-postgres, tag postgres, metadata {series: intro, lang: en}) and its comment 1. */
export async function seedExampleRows(store: Store, owner: Store): Promise<void> {
  const ada = await store.users.create({ email: 'example-1@example.com', username: 'example_one', displayName: 'Example One' });
  const ctx = { actorId: ada.id, role: 'author' };
  const a = await store.articles.create({ authorId: ada.id, title: 'Hello, PostgreSQL', slug: 'hello-postgres', body: 'A first look at postgres tables and indexes.', status: 'published', tags: ['postgres'], metadata: { series: 'intro', lang: 'en' } }, ctx);
  const c = await store.comments.create({ articleId: a.id, authorId: ada.id, body: 'First!' }, ctx);
  assert.deepEqual([ada.id, a.id, c.id], [1, 1, 1], 'the examples name id 1: seed them on a database with no users, articles or comments yet');
  await store.events.record({ articleId: a.id, userId: ada.id, kind: 'view' }, ctx);
  // The analytics routes read materialized views: refreshed (as their owner) so id 1 has stats.
  for (const view of MATVIEWS) await owner.analytics.refresh(view, { force: true });
}

/** A stand-in for wapiti's SSRF endpoint (wapiti3.ovh, unreachable offline): it records every
 *  request to /ssrf/<session>/<path id>/<hex parameter>/ and answers GET /get_ssrf.php?id=<session>
 *  with them, in the shape wapiti's ssrf module reads. So an SSRF in the API would be reported. */
export async function ssrfEndpoint(): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  const seen = new Map<string, Record<string, Record<string, { url: string; date: string; ip: string; method: string; size: number }[]>>>();
  let hits = 0;
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://endpoint');
    const m = /^\/ssrf\/([^/]+)\/([^/]+)\/([^/]+)\//.exec(u.pathname);
    if (m !== null) {
      hits++;
      const [, session = '', pathId = '', hexParam = ''] = m;
      const bySession = seen.get(session) ?? {};
      seen.set(session, bySession);
      ((bySession[pathId] ??= {})[hexParam] ??= []).push({ url: u.href, date: new Date().toISOString(), ip: req.socket.remoteAddress ?? '', method: req.method ?? 'GET', size: 0 });
      res.end('ok');
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(u.pathname === '/get_ssrf.php' ? seen.get(u.searchParams.get('id') ?? '') ?? {} : {}));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, get hits() { return hits; }, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
