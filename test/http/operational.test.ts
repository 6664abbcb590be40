import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadSettings } from '../../src/config/settings.ts';
import { startServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { testApp } from '../harness/testApp.ts';
import { testDatabase } from '../harness/testDatabase.ts';

function captureLogs(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a 5xx is logged with its request id, the body hides internals, and no token reaches the log', async () => {
  const logs = captureLogs();
  const { app, store, bearer } = await testApp({ logger: createLogger('info', logs.stream) });
  store.articles.get = async () => {
    throw new Error('boom: internal detail /etc/secret');
  };
  const token = bearer(1);
  const res = await app.inject({ url: '/v1/articles/1', headers: { authorization: token } });
  assert.equal(res.statusCode, 500);
  const body = res.json();
  assert.equal(body.code, 'PGP_INTERNAL');
  assert.doesNotMatch(res.body, /boom|etc\/secret|at /);
  const failure = logs.lines().find((l) => l.msg === 'request failed');
  assert.ok(failure, 'the failure is logged');
  assert.equal(failure.reqId, body.requestId);
  assert.match(JSON.stringify(failure), /boom: internal detail/);
  const all = JSON.stringify(logs.lines());
  assert.doesNotMatch(all, new RegExp(token.slice(7, 40)), 'the bearer token never reaches the log');
});

test('each request is logged once with its method, path, status and duration', async () => {
  const logs = captureLogs();
  const { app } = await testApp({ logger: createLogger('info', logs.stream) });
  const res = await app.inject('/v1/articles/424242?x=1');
  assert.equal(res.statusCode, 404);
  const lines = logs.lines().filter((l) => l.msg === 'request');
  assert.equal(lines.length, 1, JSON.stringify(logs.lines()));
  const line = lines[0]!;
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/v1/articles/424242?x=1');
  assert.equal(line.statusCode, 404);
  assert.equal(typeof line.ms, 'number');
  assert.equal(line.reqId, res.headers['x-request-id']);
});

test('shutdown lets an in-flight request finish before closing', async () => {
  const { url } = await testDatabase();
  const settings = loadSettings({ DATABASE_URL: url, PORT: '0', LOG_LEVEL: 'silent', MIGRATE_ON_START: 'false', PGPRESS_DATA_DIR: '/tmp/pgpress-op-test', RATE_LIMIT_MAX: '0' });
  const server = await startServer(settings, createLogger('silent'));
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE articles IN ACCESS EXCLUSIVE MODE');
    const inFlight = fetch(`${server.url}/v1/articles/1`);
    await new Promise((r) => setTimeout(r, 200)); // the request is now waiting on the lock
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(closed, false, 'close waits for the in-flight request');
    await locker.query('COMMIT');
    const res = await inFlight;
    assert.equal(res.status, 404, 'the in-flight request got its real answer');
    await closing;
    assert.equal(closed, true);
    await assert.rejects(fetch(`${server.url}/healthz`), 'the server no longer listens');
  } finally {
    await locker.end();
  }
});
