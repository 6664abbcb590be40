// The open-loop generator's own rules: latencies and timeouts run from each request's scheduled
// send, a wait for a connection included (no coordinated omission), and connections opened before
// the clock are the ones the run uses (no connects while it is measuring).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openConnections, openLoop, type OpenLoopOptions, type RoutedRequest } from '../../src/bench/openLoop.ts';

/** A server answering every request after delayMs; counts the connections it accepted. */
async function slowServer(delayMs: number): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/healthz') return res.end('{"status":"ok"}');
    const t = setTimeout(() => {
      timers.delete(t);
      res.end('{}');
    }, delayMs);
    timers.add(t);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

const get = (): RoutedRequest => ({ route: 'get', method: 'GET', path: '/x' });

test('a request waiting for a free connection is timed out from its scheduled send, and every request is counted', async () => {
  const s = await slowServer(100);
  try {
    // One connection, 100 ms a request, 40 requests over 1 s: the n-th is answered ~100 + 75n ms after
    // its schedule, so all but the first few outlive a 400 ms timeout while they wait in this process.
    // (maxSockets: the option's name before `connections`, so the same test runs on the old code.)
    const opts = { timeoutMs: 400, connections: 1, maxSockets: 1 } as OpenLoopOptions;
    const r = await openLoop(s.url, get, 40, 1, opts);
    const a = r.all;
    assert.equal(a.sent, 40);
    assert.equal(a.ok.count + a.timeouts + a.failures + a.errors + a.shed, 40, 'every request has an outcome');
    assert.ok(a.timeouts >= 30, `requests answered long after the timeout must count as timeouts: ${a.timeouts} timeouts, ${a.ok.count} ok, slowest ok ${a.ok.max} ms`);
    // The sweep runs every 100 ms: an answer is at most that late to be counted as one.
    assert.ok(a.ok.max <= 400 + 150, `an ok answer came ${a.ok.max} ms after its schedule, past the 400 ms timeout`);
    // From the schedule, not from the send: the second request waited ~75 ms for the connection.
    assert.ok(a.ok.max >= a.service.max, `latency from the schedule (${a.ok.max}) is at least the one from the connection (${a.service.max})`);
    assert.ok(a.waited.max >= 150, `waits for the one connection are counted: longest ${a.waited.max} ms`);
  } finally {
    await s.close();
  }
});

test('connections opened before the clock are the ones the run uses: none is opened while it runs', async () => {
  const s = await slowServer(20);
  // More than one wave (256) of connects.
  const agent = await openConnections(s.url, 300);
  try {
    assert.equal(s.connections(), 300, 'openConnections opens exactly n connections');
    // 200 req/s of 20 ms each need ~4 connections at once: the open ones carry them all.
    const r = await openLoop(s.url, get, 200, 0.5, { timeoutMs: 2000, agent });
    assert.equal(r.all.ok.count, 100, `every request answered: ${JSON.stringify({ ...r.all, okMs: undefined })}`);
    assert.equal(r.connectionsOpened, 0, 'no connection opened while the clock ran');
    assert.equal(s.connections(), 300, 'the server accepted no other connection');
  } finally {
    agent.destroy();
    await s.close();
  }
});

test('without open connections, those opened during the run are counted', async () => {
  const s = await slowServer(20);
  try {
    const r = await openLoop(s.url, get, 200, 0.5, { timeoutMs: 2000, connections: 64 });
    assert.equal(r.all.ok.count, 100);
    assert.equal(r.connectionsOpened, s.connections(), 'each connection the server accepted was counted');
    assert.ok(r.connectionsOpened >= 2, `connections opened: ${r.connectionsOpened}`);
  } finally {
    await s.close();
  }
});
