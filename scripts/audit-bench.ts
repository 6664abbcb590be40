// Measures the audit trigger's cost (docs/audit.md): `node --import tsx scripts/audit-bench.ts [URL]`.
// URL: an admin (superuser) URL of a server where it may create and drop a scratch database
// (default postgres://postgres@127.0.0.1:5432/postgres). It migrates a scratch database, then:
// 1. per-row cost (synchronous_commit off: the trigger's work, not the disk's): N single-row UPDATEs of users (personal columns) and of articles (none), with
//    each audit trigger version in turn, interleaved over rounds: no trigger, 0009 (no redaction),
//    0028 (HMAC redaction through two SECURITY DEFINER calls), inline (0084's redaction, 0028's plain
//    INSERT: the redaction change alone), current (0084: inline redaction + hash chain);
// 2. the chain under concurrency: C writers, each running transactions of two audited UPDATEs
//    (two round trips with the chain held between them) and COMMIT, with one chain head or eight,
//    and with 0028's chainless trigger as the baseline; interleaved over rounds.
// Part 1 counts the backend's CPU time (Linux /proc/<pid>/schedstat; run it on the database's
// machine), part 2 wall time. Prints medians per variant and the ratios. Drops the scratch database at the end.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { quoteIdent } from '../src/db/sql.ts';
import { migrate } from '../src/migrate/index.ts';

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.N ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TX = Number(process.env.TX ?? 60);
const WRITERS = (process.env.WRITERS ?? '1,8,16').split(',').map(Number);

const name = `pgpress_auditbench_${randomBytes(4).toString('hex')}`;
const url = (() => { const u = new URL(adminUrl); u.pathname = `/${name}`; return u.toString(); })();
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await migrate({ url, dir: 'migrations' });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // The earlier trigger functions, under other names, from their own migrations' text.
  const fn = (file: string, newName: string): string => {
    const text = readFileSync(`migrations/${file}`, 'utf8');
    const start = text.indexOf('CREATE OR REPLACE FUNCTION pgpress_audit_row()');
    const end = text.indexOf('$$;', start) + 3;
    return text.slice(start, end).replace('pgpress_audit_row()', `${newName}()`);
  };
  await c.query(fn('0009_audit_triggers.sql', 'bench_audit_row_0009'));
  await c.query(fn('0028_audit_redaction.sql', 'bench_audit_row_0028'));
  // 0084's redaction with 0028's plain INSERT: the redaction change alone, without the chain.
  await c.query(fn('0084_audit_row_chained.sql', 'bench_audit_row_inline').replace(
    /PERFORM pgpress_audit_append\(TG_TABLE_NAME, TG_OP, ([^;]*?), v_key,\s*v_old, v_new, v_changed\);/,
    'INSERT INTO audit_log (actor_id, table_name, operation, row_id, row_key, old_row, new_row, changed_columns) VALUES (NULL, TG_TABLE_NAME, TG_OP, $1, v_key, v_old, v_new, v_changed);'));
  await c.query(`INSERT INTO users (email, username, display_name) SELECT 'u' || g || '@example.org', 'user_' || g, 'User ' || g FROM generate_series(1, 64) g`);
  await c.query(`INSERT INTO articles (author_id, title, slug, body) SELECT g, 'Title ' || g, 'slug-' || g, repeat('text ', 200) FROM generate_series(1, 64) g`);

  const variants = { none: null, '0009': 'bench_audit_row_0009', '0028': 'bench_audit_row_0028', inline: 'bench_audit_row_inline', current: 'pgpress_audit_row' } as const;
  async function use(fnName: string | null): Promise<void> {
    for (const [table, args] of [['users', "'email', 'username', 'display_name', 'bio'"], ['articles', '']] as const) {
      const [t, trigger] = [quoteIdent(table), quoteIdent(`${table}_audit`)];
      if (fnName === null) await c.query(`ALTER TABLE ${t} DISABLE TRIGGER ${trigger}`);
      else {
        // args: constant trigger arguments (column names as SQL literals) of this script.
        await c.query(`CREATE OR REPLACE TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${quoteIdent(fnName)}(${args})`);
        await c.query(`ALTER TABLE ${t} ENABLE TRIGGER ${trigger}`);
      }
    }
  }
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  // Each UPDATE its own transaction (a chain is taken per statement), without waiting for the WAL
  // flush, which would drown the trigger's cost on a shared disk.
  await c.query('SET synchronous_commit = off');
  // The backend's own CPU time (/proc/<pid>/schedstat, ns on CPU): on a shared, loaded machine the
  // wall time of a statement is mostly waiting for a core; the CPU it used is what the trigger costs.
  const backendPid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const cpuNs = (): number => Number(readFileSync(`/proc/${backendPid}/schedstat`, 'utf8').split(' ')[0]);
  const perRow: Record<string, { users: number[]; articles: number[] }> = {};
  const perRowWall: Record<string, { users: number[]; articles: number[] }> = {};
  for (let r = 0; r < ROUNDS; r++) {
    // Every other round in reverse order, so a drifting load does not favour one variant.
    const order = Object.entries(variants);
    for (const [v, f] of r % 2 === 0 ? order : order.reverse()) {
      await use(f);
      const times = (perRow[v] ??= { users: [], articles: [] });
      const wall = (perRowWall[v] ??= { users: [], articles: [] });
      for (const table of ['users', 'articles'] as const) {
        const col = table === 'users' ? 'bio' : 'title';
        const t0 = performance.now();
        const c0 = cpuNs();
        for (let i = 0; i < N; i++) await c.query(`UPDATE ${quoteIdent(table)} SET ${quoteIdent(col)} = $2 WHERE id = $1`, [1 + (i % 64), `v${r}-${i}`]);
        times[table].push((cpuNs() - c0) / 1000 / N);
        wall[table].push(((performance.now() - t0) * 1000) / N);
      }
    }
  }
  console.log(`\n1. single-row UPDATE, backend CPU microseconds per statement (wall in brackets), median of ${ROUNDS} interleaved rounds of ${N}`);
  for (const [v, t] of Object.entries(perRow)) {
    const w = perRowWall[v]!;
    console.log(`  ${v.padEnd(8)} users ${median(t.users).toFixed(0).padStart(5)} (${median(w.users).toFixed(0)})   articles ${median(t.articles).toFixed(0).padStart(5)} (${median(w.articles).toFixed(0)})`);
  }
  const ratio = (a: string, b: string, table: 'users' | 'articles'): string => (median(perRow[a]![table]) / median(perRow[b]![table])).toFixed(2);
  console.log(`  0028/0009: users ${ratio('0028', '0009', 'users')}, articles ${ratio('0028', '0009', 'articles')}`);
  console.log(`  inline/0028 (the redaction change alone): users ${ratio('inline', '0028', 'users')}, articles ${ratio('inline', '0028', 'articles')}`);
  console.log(`  current/0028: users ${ratio('current', '0028', 'users')}, articles ${ratio('current', '0028', 'articles')}`);
  console.log(`  current/0009: users ${ratio('current', '0009', 'users')}, articles ${ratio('current', '0009', 'articles')}`);

  // 2. Concurrency.
  const setChains = async (n: number): Promise<void> => {
    await c.query('DELETE FROM pgpress_audit_chain WHERE chain >= $1', [n]);
    await c.query('INSERT INTO pgpress_audit_chain (chain, seq, hash) SELECT g, 0, decode(repeat($2, 32), $3) FROM generate_series(0, $1 - 1) g ON CONFLICT DO NOTHING', [n, '00', 'hex']);
    // Chains removed and made again start over: the log is not verified here.
  };
  const throughput: Record<string, number[]> = {};
  for (const writers of WRITERS) {
    const clients = await Promise.all(Array.from({ length: writers }, async () => { const x = new pg.Client({ connectionString: url }); await x.connect(); return x; }));
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const order = [['0028 (no chain)', 'bench_audit_row_0028', 8], ['1 chain', 'pgpress_audit_row', 1], ['8 chains', 'pgpress_audit_row', 8]] as const;
        for (const [v, f, chains] of r % 2 === 0 ? order : [...order].reverse()) {
          await use(f);
          await setChains(chains);
          const t0 = performance.now();
          await Promise.all(clients.map(async (x, w) => {
            for (let i = 0; i < TX; i++) {
              const id = 1 + ((w * 7 + i) % 64);
              await x.query('BEGIN');
              await x.query('UPDATE articles SET title = $2 WHERE id = $1', [id, `w${w}-${i}`]);
              await x.query('UPDATE articles SET version = version + 1 WHERE id = $1', [id]);
              await x.query('COMMIT');
            }
          }));
          (throughput[`${writers}|${v}`] ??= []).push((writers * TX) / ((performance.now() - t0) / 1000));
        }
      }
    } finally {
      await Promise.all(clients.map((x) => x.end()));
    }
  }
  console.log(`\n2. transactions per second (two audited UPDATEs each), median of ${ROUNDS} interleaved rounds`);
  for (const writers of WRITERS) {
    const get = (v: string): number => median(throughput[`${writers}|${v}`]!);
    console.log(`  ${String(writers).padStart(2)} writers: 0028 (no chain) ${get('0028 (no chain)').toFixed(0)}, 1 chain ${get('1 chain').toFixed(0)}, 8 chains ${get('8 chains').toFixed(0)}` +
      `  (1 chain / no chain ${(get('1 chain') / get('0028 (no chain)')).toFixed(2)}, 8 chains / no chain ${(get('8 chains') / get('0028 (no chain)')).toFixed(2)})`);
  }
  // Each entry updates its chain's head row: dead versions pile up while a long transaction
  // anywhere on the server holds back the xmin horizon, and each transaction's first lookup walks them.
  const { rows: [bloat] } = await c.query<{ pages: string; oldest: string | null }>(
    `SELECT pg_relation_size('pgpress_audit_chain') / 8192 AS pages,
            (SELECT max(now() - xact_start)::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) AS oldest`);
  console.log(`  chain heads table after the run: ${bloat!.pages} pages (8 rows); oldest open transaction on the server: ${bloat!.oldest}`);
  console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await c.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.end();
}
