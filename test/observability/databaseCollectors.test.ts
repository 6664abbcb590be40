// Database collectors against real servers: pg_stat_statements' series stay bounded under 1,000
// distinct statements, replicas appear with their lag, the statements collector without the
// extension warns once, and audit completeness catches a write made with the trigger off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { createDbCollectorRegistry } from '../../src/observability/collectors/registry.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { startCluster } from '../harness/pgCluster.ts';
import { clusterFactory } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

/** The sample lines of one family. */
function series(text: string, family: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `));
}

test('1,000 distinct statements: pg_stat_statements gives the top K and one other series; a replica appears with its lag', async () => {
  const pgc = await startCluster({ replicas: 1, settings: { shared_preload_libraries: 'pg_stat_statements' } });
  try {
    await pgc.primary.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const client = new pg.Client({ connectionString: pgc.primary.url });
    await client.connect();
    try {
      // Each a different statement after normalisation: i constants in the select list.
      for (let i = 1; i <= 1_000; i++) await client.query(`SELECT ${Array.from({ length: i }, () => '1').join(', ')}`);
    } finally {
      await client.end();
    }
    const distinct = Number((await pgc.primary.query<{ n: string }>('SELECT count(DISTINCT queryid)::text AS n FROM pg_stat_statements'))[0]!.n);
    assert.ok(distinct >= 1_000, `${distinct} distinct statements recorded`);
    await pgc.waitForReplica(pgc.replicas[0]!);
    const cluster = new Cluster({ url: pgc.primary.url, metrics: createDbMetrics(new Registry()), max: 2 });
    try {
      const warnings: string[] = [];
      const { registry } = createDbCollectorRegistry(cluster, { cacheMs: 0, statementsTopK: 20, warn: (m) => warnings.push(m) });
      const text = await registry.metrics();
      const seconds = series(text, 'pgpress_pg_statement_seconds_total');
      const calls = series(text, 'pgpress_pg_statement_calls_total');
      assert.equal(seconds.length, 21, `top 20 + other, not ${seconds.length}`);
      assert.equal(calls.length, 21);
      assert.ok(seconds.some((l) => l.startsWith('pgpress_pg_statement_seconds_total{queryid="other",query="other"}')), 'one other series');
      // Labels are cut: no query label longer than 80 characters.
      for (const l of seconds) assert.ok(/query="(.*)"\}/.exec(l)![1]!.length <= 80, l.slice(0, 200));
      // This server has no pgpress schema: only those collectors fail; statements does not.
      assert.deepEqual(warnings.filter((w) => /statements/.test(w)), []);
      assert.match(text, /^pgpress_pg_replicas_connected 1$/m);
      assert.match(text, /^pgpress_pg_replication_lag_bytes\{replica="[^"]+"\} \d+/m);
      assert.match(text, /^pgpress_pg_replication_lag_seconds\{replica="[^"]+"\} [\d.e-]+$/m);
    } finally {
      await cluster.close();
    }
  } finally {
    await pgc.destroy();
  }
});

test('without pg_stat_statements the statement series are absent, one warning is logged, the other collectors work', async () => {
  const { url } = await testDatabase();
  const cluster = clusterFactory(url)({ max: 2 });
  const warnings: string[] = [];
  const { registry } = createDbCollectorRegistry(cluster, { cacheMs: 0, statementsTopK: 20, warn: (m) => warnings.push(m) });
  for (let i = 0; i < 3; i++) {
    const text = await registry.metrics();
    assert.deepEqual(series(text, 'pgpress_pg_statement_seconds_total'), []);
    assert.match(text, /^pgpress_collector_up\{collector="statements"\} 1$/m);
    assert.match(text, /^pgpress_collector_up\{collector="database"\} 1$/m);
  }
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /pg_stat_statements/);
});

test('audit completeness: a write made with the audit trigger disabled is counted, audited writes are not', async () => {
  const { url } = await testDatabase();
  const cluster = clusterFactory(url)({ max: 2 });
  const { registry } = createDbCollectorRegistry(cluster, { cacheMs: 0, slowCacheMs: 0, statementsTopK: 20, warn: () => undefined });
  const missing = async (): Promise<string[]> => series(await registry.metrics(), 'pgpress_audit_missing_rows');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query("INSERT INTO users (email, username, display_name) VALUES ('a@example.com', 'audited_a', 'A'), ('b@example.com', 'audited_b', 'B')");
    await admin.query("UPDATE users SET bio = 'audited' WHERE username = 'audited_a'");
    assert.deepEqual(await missing(), ['pgpress_audit_missing_rows{table="users"} 0', 'pgpress_audit_missing_rows{table="articles"} 0', 'pgpress_audit_missing_rows{table="comments"} 0']);
    // A writer that bypasses the trigger (replica mode skips ordinary triggers).
    await admin.query('BEGIN');
    await admin.query('SET LOCAL session_replication_role = replica');
    await admin.query("UPDATE users SET bio = 'unaudited' WHERE username = 'audited_b'");
    await admin.query("INSERT INTO users (email, username, display_name) VALUES ('c@example.com', 'audited_c', 'C')");
    await admin.query('COMMIT');
    assert.ok((await missing()).includes('pgpress_audit_missing_rows{table="users"} 2'), (await missing()).join('\n'));
  } finally {
    await admin.end();
  }
});
