// The retention part of the schema scenario: what retiring a month costs by DELETE (the statement,
// the VACUUM that must follow it before the space is reusable, and the WAL both write) against
// detaching and dropping the month's partition, on two equal copies of the events.
import pg from 'pg';
import { quoteIdent } from '../src/db/sql.ts';

/** Time and WAL of one step. */
interface Cost {
  ms: number;
  walBytes: number;
}

const MONTH_START = "($1::date)::timestamp AT TIME ZONE 'UTC'";
const MONTH_END = "($1::date + interval '1 month')::timestamp AT TIME ZONE 'UTC'";

const partition = (table: string, month: string): string => `${table}_${month.replace(/-/g, '_')}`;

/** Runs fn; its wall time and the WAL inserted meanwhile. The WAL position is the server's, so
 *  other sessions' writes on a shared server count too: an upper bound for small steps. */
async function cost(c: pg.Client, fn: () => Promise<unknown>): Promise<Cost> {
  const lsn = async (): Promise<string> => (await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
  const before = await lsn();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  const { rows } = await c.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint::text AS b', [before]);
  return { ms, walBytes: Number(rows[0]!.b) };
}

/** Copies article_events into a fresh partitioned table with the same months. */
async function eventsCopy(c: pg.Client, name: string, months: string[]): Promise<void> {
  await c.query(`CREATE TABLE ${quoteIdent(name)} (LIKE article_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES) PARTITION BY RANGE (occurred_at)`);
  for (const m of months) {
    // Partition bounds are literals in DDL (no bind parameters there); m comes from the catalogue.
    if (!/^\d{4}-\d{2}-01$/.test(m)) throw new Error(`not a month: ${m}`);
    await c.query(
      `CREATE TABLE ${quoteIdent(partition(name, m))} PARTITION OF ${quoteIdent(name)} FOR VALUES FROM ('${m}T00:00:00Z') TO (('${m}'::date + interval '1 month')::timestamp AT TIME ZONE 'UTC')`,
    );
  }
  await c.query(`INSERT INTO ${quoteIdent(name)} SELECT * FROM article_events WHERE occurred_at >= $1::timestamptz`, [`${months[0]}T00:00:00Z`]);
  await c.query(`VACUUM ANALYZE ${quoteIdent(name)}`);
}

/** DELETE of month m from table, then VACUUM of its partition. */
async function byDelete(c: pg.Client, table: string, m: string): Promise<{ del: Cost; vacuum: Cost }> {
  const del = await cost(c, () => c.query(`DELETE FROM ${quoteIdent(table)} WHERE occurred_at >= ${MONTH_START} AND occurred_at < ${MONTH_END}`, [m]));
  const vacuum = await cost(c, () => c.query(`VACUUM ${quoteIdent(partition(table, m))}`));
  return { del, vacuum };
}

/** DETACH and DROP of month m's partition of table. */
async function byDrop(c: pg.Client, table: string, m: string): Promise<Cost> {
  return cost(c, async () => {
    await c.query(`ALTER TABLE ${quoteIdent(table)} DETACH PARTITION ${quoteIdent(partition(table, m))}`);
    await c.query(`DROP TABLE ${quoteIdent(partition(table, m))}`);
  });
}

/** Retires the two biggest months both ways, alternating which method goes first. */
export async function retention(c: pg.Client): Promise<Record<string, number>> {
  const months = (await c.query<{ m: string }>("SELECT m::text AS m FROM pgpress_partition_months('article_events') m")).rows.map((r) => r.m);
  const sizes = await c.query<{ m: string; n: string }>("SELECT to_char(date_trunc('month', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS m, count(*) AS n FROM article_events GROUP BY 1");
  const biggest = sizes.rows.sort((a, b) => Number(b.n) - Number(a.n)).slice(0, 2);
  await eventsCopy(c, 'bench_events_a', months);
  await eventsCopy(c, 'bench_events_b', months);
  try {
    const deletes: { del: Cost; vacuum: Cost }[] = [];
    const drops: Cost[] = [];
    // Month 1: DELETE on copy a, then DROP on copy b; month 2: DROP on a, then DELETE on b.
    deletes.push(await byDelete(c, 'bench_events_a', biggest[0]!.m));
    drops.push(await byDrop(c, 'bench_events_b', biggest[0]!.m));
    drops.push(await byDrop(c, 'bench_events_a', biggest[1]!.m));
    deletes.push(await byDelete(c, 'bench_events_b', biggest[1]!.m));
    const sum = (xs: Cost[], k: keyof Cost): number => xs.reduce((n, x) => n + x[k], 0);
    const delMs = sum(deletes.map((d) => d.del), 'ms');
    const vacMs = sum(deletes.map((d) => d.vacuum), 'ms');
    const delWal = sum(deletes.map((d) => d.del), 'walBytes') + sum(deletes.map((d) => d.vacuum), 'walBytes');
    const dropMs = sum(drops, 'ms');
    const dropWal = sum(drops, 'walBytes');
    const rows = biggest.reduce((n, r) => n + Number(r.n), 0);
    const mb = (b: number): string => (b / 1048576).toFixed(1);
    console.log(
      `retention of 2 months (${rows} rows): DELETE ${delMs.toFixed(0)} ms + VACUUM ${vacMs.toFixed(0)} ms, ${mb(delWal)} MiB WAL; ` +
        `DETACH + DROP ${dropMs.toFixed(1)} ms, ${(dropWal / 1024).toFixed(0)} KiB WAL (WAL positions are the server's: a shared server's other writes count too)`,
    );
    return {
      retention_ratio: Number(((delMs + vacMs) / dropMs).toFixed(1)),
      retention_wal_ratio: Number((delWal / Math.max(1, dropWal)).toFixed(1)),
      retention_delete_ms: Math.round(delMs),
      retention_vacuum_ms: Math.round(vacMs),
      retention_drop_ms: Number(dropMs.toFixed(1)),
      retention_delete_wal_bytes: delWal,
      retention_drop_wal_bytes: dropWal,
      retention_rows: rows,
    };
  } finally {
    await c.query('DROP TABLE IF EXISTS bench_events_a, bench_events_b');
  }
}
