// sqlmap against every operation of /docs/json, served for real on 127.0.0.1 over a throwaway
// database as the app role, starting from each operation's example request: path parameters
// marked with `*`, query parameters, JSON body fields, a bearer token where the route needs one.
// Every parameter must be tested and found not injectable, and the requests must reach the
// database: the example itself is answered from it, and on every operation with a free-text input
// (a string no pattern or enum stops) some of sqlmap's payloads are too (2xx, 404, 409), not all
// refused by validation. Bounded: level 1 / risk 1, PostgreSQL payloads only, two runs at a time,
// each killed after RUN_LIMIT_MS (a killed run fails the test: it proved nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureTool } from '../harness/debianTool.ts';
import { freePort } from '../harness/freePort.ts';
import { testApp } from '../harness/testApp.ts';
import { SQLMAP, exampleRequests, seedExampleRows, withQuery, type ExampleRequest, type OpenApiDoc } from '../harness/scanners.ts';

const RUN_LIMIT_MS = 150_000;
const PARALLEL = 2;

/** What one sqlmap run found and what its traffic says. */
interface RunResult {
  operation: string;
  output: string;
  /** Parameters sqlmap reports as tested and not injectable, as it names them. */
  notInjectable: string[];
  injectable: boolean;
  completed: boolean;
  /** The example request itself (sqlmap's baseline) answered from the database. */
  baselineReached: number;
  /** Requests carrying a payload that were answered from the database. */
  payloadReached: number;
  payloadRejected: number;
}

/** Statuses only a handler that queried the database gives (a row, none, or a conflict). */
const reached = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 409;

/** Splits sqlmap's traffic file (-t) into request text and response status. */
function traffic(file: string): { request: string; status: number }[] {
  const out: { request: string; status: number }[] = [];
  for (const chunk of readFileSync(file, 'utf8').replace(/\r\n/g, '\n').split(/^HTTP request \[#\d+\]:\n/m).slice(1)) {
    const m = /^HTTP response \[#\d+\] \((\d+)/m.exec(chunk);
    if (m === null) continue;
    const [head = '', ...rest] = chunk.slice(0, m.index).split('\n\n');
    out.push({ request: `${head.split('\n')[0]}\n${rest.join('\n\n').trim()}`, status: Number(m[1]) });
  }
  return out;
}

/** The example's URL for sqlmap. With a path parameter marked `*`, sqlmap tests only marked
 *  places, so the query values are marked too (it names them #1*, #2*, … in order). */
function targetUrl(r: ExampleRequest): string {
  if (!hasPathParam(r)) return withQuery(r.path, r.query);
  const q = Object.entries(r.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}*`).join('&');
  return q === '' ? r.markedPath('*') : `${r.markedPath('*')}?${q}`;
}

const hasPathParam = (r: ExampleRequest): boolean => r.markedPath('*') !== r.path;

function runSqlmap(bin: string, base: string, r: ExampleRequest, bearer: string): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-sqlmap-'));
  const args = [
    '-u', `${base}${targetUrl(r)}`,
    '--method', r.method, '--batch', '--flush-session', '--disable-coloring', '--skip-waf',
    '--dbms=PostgreSQL', '--level=1', '--risk=1', '--threads=1', '--timeout=20', '--retries=1',
    '--output-dir', dir, '-t', join(dir, 'traffic.txt'),
    ...(r.body === undefined ? [] : ['--data', JSON.stringify(r.body)]),
    ...(r.needsAuth ? ['--headers', `Authorization: ${bearer}`] : []),
  ];
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      const baseline = `${r.method} ${withQuery(r.path, r.query)} HTTP/1.1\n${r.body === undefined ? '' : JSON.stringify(r.body)}`.trim();
      let baselineReached = 0, payloadReached = 0, payloadRejected = 0;
      try {
        for (const t of traffic(join(dir, 'traffic.txt'))) {
          if (t.request.trim() === baseline) baselineReached += reached(t.status) ? 1 : 0;
          else if (reached(t.status)) payloadReached++;
          else payloadRejected++;
        }
      } catch {
        // No traffic file: the run failed before its first request; `completed` says so.
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        operation: r.operation,
        output,
        notInjectable: [...output.matchAll(/parameter '([^']+)' (?:does not seem to be|is not) injectable/g)].map((m) => m[1]!),
        // sqlmap's verdict, after its own false-positive check: a heuristic "appears to be … injectable"
        // that the check dismisses (a response echoing the value, as PATCH /v1/users does) is not one.
        injectable: /sqlmap identified the following injection point|parameter '[^']+' is vulnerable/.test(output),
        completed: /all tested parameters do not appear to be injectable|sqlmap identified the following injection point/.test(output),
        baselineReached,
        payloadReached,
        payloadRejected,
      });
    });
  });
}

type Schema = { type?: string | string[]; pattern?: string; enum?: unknown[]; format?: string; properties?: Record<string, Schema>; items?: Schema };
type DocOp = { parameters?: { in: string; schema?: Schema }[]; requestBody?: { content: Record<string, { schema?: Schema }> } };

/** A string input that neither a pattern, an enum nor a format confines: payloads pass validation. */
function freeText(s: Schema | undefined): boolean {
  if (s === undefined) return false;
  if (s.type === 'string') return s.pattern === undefined && s.enum === undefined && s.format === undefined;
  return Object.values(s.properties ?? {}).some(freeText) || freeText(s.items);
}

test('sqlmap finds no injectable parameter on any operation, and its requests reach the database', { timeout: 8 * 60_000 }, async () => {
  const bin = ensureTool(SQLMAP);
  const { app, store, owner, bearer, url } = await testApp();
  await seedExampleRows(store, owner);
  const doc = (await app.inject('/docs/json')).json() as OpenApiDoc;
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const xacts = async (): Promise<number> => Number((await admin.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);
  const before = await xacts();

  // Operations without any input (/healthz, /readyz) give sqlmap nothing to inject.
  const requests = exampleRequests(doc).filter((r) => hasPathParam(r) || Object.keys(r.query).length > 0 || r.body !== undefined);
  const results: RunResult[] = [];
  const queue = [...requests];
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) results.push(await runSqlmap(bin, `http://127.0.0.1:${port}`, r, bearer(1)));
  }));
  const xactDelta = (await xacts()) - before;
  await admin.end();

  const lines = results.map((x) => `${x.operation}: tested ${x.notInjectable.length} (${x.notInjectable.join(', ')}); example reached db ${x.baselineReached}x; payloads reached db ${x.payloadReached}, refused ${x.payloadRejected}`);
  process.stdout.write(`# sqlmap over ${results.length} example requests; ${xactDelta} transactions in the scan's database\n# ${lines.join('\n# ')}\n`);
  for (const r of requests) {
    const x = results.find((y) => y.operation === r.operation)!;
    const tail = x.output.split('\n').slice(-15).join('\n');
    assert.ok(!x.injectable, `${x.operation}: sqlmap found an injection point:\n${x.output}`);
    assert.ok(x.completed, `${x.operation}: sqlmap did not finish (killed after ${RUN_LIMIT_MS} ms or failed):\n${tail}`);
    const marked = hasPathParam(r) ? 1 + Object.keys(r.query).length : 0;
    const expected = [
      ...Array.from({ length: marked }, (_v, i) => `#${i + 1}*`),
      ...(marked > 0 ? [] : Object.keys(r.query)),
      ...Object.entries((r.body ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v !== 'object').map(([k]) => `JSON ${k}`),
    ];
    for (const name of expected) assert.ok(x.notInjectable.some((n) => n === name || n.endsWith(name)), `${x.operation}: parameter ${name} was tested and found not injectable (tested: ${x.notInjectable.join(', ')})`);
    assert.ok(x.baselineReached > 0, `${x.operation}: the example request reached the database (${x.baselineReached})`);
    const [, method = '', template = ''] = /^(\w+) (\S+)/.exec(x.operation) ?? [];
    const op = (doc.paths as unknown as Record<string, Record<string, DocOp>>)[template]?.[method.toLowerCase()];
    const free = (op?.parameters ?? []).some((p) => p.in === 'query' && freeText(p.schema)) || freeText(op?.requestBody?.content['application/json']?.schema);
    if (free) assert.ok(x.payloadReached > 0, `${x.operation}: has a free-text input, yet every payload was refused before the database`);
  }
  assert.ok(xactDelta > results.reduce((n, x) => n + x.payloadReached, 0) / 2, `the payloads ran transactions in the database (${xactDelta})`);
});
