// Behind a reverse proxy: with TRUST_PROXY the rate limit keys on the forwarded client address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../../src/config/settings.ts';
import { testApp } from '../harness/testApp.ts';

const PROXY = '10.9.0.1';
const get = (app: Awaited<ReturnType<typeof testApp>>['app'], client: string) =>
  app.inject({ url: '/v1/articles/1', remoteAddress: PROXY, headers: { 'x-forwarded-for': client } }).then((r) => r.statusCode);

test('with a trusted proxy, each forwarded client has its own rate limit', async () => {
  const { trustProxy } = loadSettings({ TRUST_PROXY: PROXY }).http;
  const { app } = await testApp({ trustProxy, rateLimit: { max: 2, windowMs: 60_000 } });
  assert.deepEqual([await get(app, '203.0.113.5'), await get(app, '203.0.113.5'), await get(app, '203.0.113.5')], [404, 404, 429]);
  assert.equal(await get(app, '198.51.100.7'), 404, 'another client behind the same proxy is not limited');
  // A client cannot pick its key by sending the header without the proxy.
  const direct = await app.inject({ url: '/v1/articles/1', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': '198.51.100.8' } });
  const again = await app.inject({ url: '/v1/articles/1', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': '198.51.100.9' } });
  const third = await app.inject({ url: '/v1/articles/1', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': '198.51.100.10' } });
  assert.deepEqual([direct.statusCode, again.statusCode, third.statusCode], [404, 404, 429], 'an untrusted peer is keyed on its own address');
});

test('without TRUST_PROXY the header is ignored: everyone behind the proxy shares its limit', async () => {
  assert.equal(loadSettings({}).http.trustProxy, false);
  const { app } = await testApp({ rateLimit: { max: 2, windowMs: 60_000 } });
  assert.deepEqual([await get(app, '203.0.113.5'), await get(app, '198.51.100.7'), await get(app, '192.0.2.1')], [404, 404, 429]);
});

test('TRUST_PROXY as a hop count trusts that many proxies', async () => {
  const { trustProxy } = loadSettings({ TRUST_PROXY: '1' }).http;
  assert.equal(trustProxy, 1);
  const { app } = await testApp({ trustProxy, rateLimit: { max: 1, windowMs: 60_000 } });
  assert.deepEqual([await get(app, '203.0.113.5'), await get(app, '203.0.113.5'), await get(app, '198.51.100.7')], [404, 429, 404]);
});
