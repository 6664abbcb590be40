// The embedded PostgreSQL preloads and creates pg_stat_statements, so its top-statements series exist.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { startEmbedded } from '../../src/db/embeddedServer.ts';
import { createDbCollectorRegistry } from '../../src/observability/collectors/registry.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { freePort } from '../harness/freePort.ts';

const work = mkdtempSync(join(tmpdir(), 'pgpress-embedded-stmts-'));
chmodSync(work, 0o755); // the postgres OS user must reach the data directory below
after(() => rmSync(work, { recursive: true, force: true }));

test('the embedded server has pg_stat_statements: the statement series are present, no warning', async () => {
  const server = await startEmbedded({ dataDir: join(work, 'data'), port: await freePort() });
  try {
    const cluster = new Cluster({ url: server.url, metrics: createDbMetrics(new Registry()), max: 2 });
    try {
      const warnings: string[] = [];
      const { registry } = createDbCollectorRegistry(cluster, { cacheMs: 0, statementsTopK: 5, warn: (m) => warnings.push(m) });
      const text = await registry.metrics();
      assert.deepEqual(warnings.filter((w) => /statements/.test(w)), []);
      assert.match(text, /^pgpress_pg_statement_calls_total\{queryid="[^"]+",query="[^"]*"\} \d+/m);
    } finally {
      await cluster.close();
    }
  } finally {
    await server.stop();
  }
});
