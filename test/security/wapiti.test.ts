// wapiti (Debian's counterpart of OWASP ZAP) scans the API and /docs served for real on 127.0.0.1
// with its xss, crlf, redirect, file and ssrf modules, starting from every GET operation's example
// URL (wapiti 3.0 attacks query parameters and HTML forms; it reads no OpenAPI document and sends
// no JSON bodies: those are sqlmap's, test/security/sqlmap.test.ts). Every finding fails the test
// unless test/security/wapiti-allowlist.json explains it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTool } from '../harness/debianTool.ts';
import { freePort } from '../harness/freePort.ts';
import { testApp } from '../harness/testApp.ts';
import { WAPITI, exampleRequests, seedExampleRows, ssrfEndpoint, withQuery, type OpenApiDoc } from '../harness/scanners.ts';

const MODULES = 'xss,crlf,redirect,file,ssrf';
const MAX_SCAN_S = 150;

interface Finding { category: string; path: string; parameter: string; info: string }
interface Allowed { category: string; path: string; parameter: string; reason: string }
type Report = { vulnerabilities: Record<string, { path: string; parameter: string; info: string }[]>; anomalies: Record<string, unknown[]>; infos: Record<string, unknown> };

function run(bin: string, args: string[], limitMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test(`wapiti (${MODULES}) finds nothing unexplained in the API and /docs`, { timeout: 6 * 60_000 }, async () => {
  const bin = ensureTool(WAPITI);
  const { app, store, owner } = await testApp();
  await seedExampleRows(store, owner);
  const doc = (await app.inject('/docs/json')).json() as OpenApiDoc;
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const base = `http://127.0.0.1:${port}`;
  const starts = [
    '/docs', '/docs/json', '/docs/static/index.html',
    ...exampleRequests(doc).filter((r) => r.method === 'GET').map((r) => withQuery(r.path, r.query)),
  ];
  const endpoint = await ssrfEndpoint();
  after(() => endpoint.close());
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-wapiti-'));
  const reportFile = join(dir, 'report.json');
  const args = [
    '-u', `${base}/`, '--scope', 'folder', '-m', MODULES, '--flush-session', '--store-session', dir,
    '--max-scan-time', String(MAX_SCAN_S), '-d', '3', '--max-links-per-page', '50', '-t', '10',
    '-f', 'json', '-o', reportFile, '-v', '1', '--endpoint', endpoint.url,
    ...starts.flatMap((s) => ['-s', `${base}${s}`]),
  ];
  // What wapiti sent, counted on the listener: a scan that reached nothing proves nothing.
  const sent = new Map<string, number>();
  app.server.on('request', (req: { url?: string }) => {
    const path = new URL(req.url ?? '/', base).pathname;
    sent.set(path, (sent.get(path) ?? 0) + 1);
  });
  const { code, output } = await run(bin, args, (MAX_SCAN_S + 90) * 1000);
  if (process.env.WAPITI_LOG !== undefined) writeFileSync(process.env.WAPITI_LOG, output);
  let report: Report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(code, 0, `wapiti exited ${code}:\n${output.split('\n').slice(-20).join('\n')}`);
  const findings: Finding[] = Object.entries(report.vulnerabilities).flatMap(([category, list]) => list.map((v) => ({ category, path: v.path, parameter: v.parameter, info: v.info })));
  const allow = JSON.parse(readFileSync(new URL('./wapiti-allowlist.json', import.meta.url), 'utf8')) as Allowed[];
  const unexplained = findings.filter((f) => !allow.some((a) => a.category === f.category && a.path === f.path && a.parameter === f.parameter));
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`# wapiti: ${total} requests to ${sent.size} paths, ${endpoint.hits} to the SSRF endpoint, ${findings.length} findings (${findings.length - unexplained.length} explained in wapiti-allowlist.json)\n# ${[...sent].map(([p, n]) => `${p} ${n}`).join('\n# ')}\n`);
  // Each GET operation with query parameters was attacked (wapiti mutates each parameter per module).
  for (const r of exampleRequests(doc).filter((x) => x.method === 'GET' && Object.keys(x.query).length > 0)) {
    assert.ok((sent.get(r.path) ?? 0) > 20, `wapiti attacked ${r.operation} (${sent.get(r.path) ?? 0} requests):\n${output.split('\n').slice(-20).join('\n')}`);
  }
  assert.deepEqual(unexplained, [], 'every wapiti finding is fixed or explained in test/security/wapiti-allowlist.json');
});

test('the SSRF endpoint stand-in works: wapiti reports a page that fetches the URL it is given', { timeout: 3 * 60_000 }, async () => {
  const bin = ensureTool(WAPITI);
  const endpoint = await ssrfEndpoint();
  // A deliberately vulnerable page: GET /fetch?url=… requests that URL from the server.
  const vulnerable = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('url');
    if (target === null || !target.startsWith('http://')) return void res.end('no');
    get(target, (r) => r.resume().on('end', () => res.end('fetched'))).on('error', () => res.end('failed'));
  });
  await new Promise<void>((ok) => vulnerable.listen(0, '127.0.0.1', ok));
  after(async () => {
    await new Promise<void>((ok) => vulnerable.close(() => ok()));
    await endpoint.close();
  });
  const base = `http://127.0.0.1:${(vulnerable.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-wapiti-'));
  const reportFile = join(dir, 'report.json');
  const { output } = await run(bin, ['-u', `${base}/`, '--scope', 'folder', '-m', 'ssrf', '--flush-session', '--store-session', dir, '--max-scan-time', '60', '-t', '10', '-f', 'json', '-o', reportFile, '--endpoint', endpoint.url, '-s', `${base}/fetch?url=http://example.com/`], 120_000);
  let report: Report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ssrf = report.vulnerabilities['Server Side Request Forgery'] ?? [];
  assert.deepEqual(ssrf.map((v) => [v.path, v.parameter]), [['/fetch', 'url']], `wapiti reports the SSRF through the stand-in (${endpoint.hits} hits):\n${output.split('\n').slice(-15).join('\n')}`);
});
