// write: event ingestion through the API (POST /v1/events, lean), the library (store.events.record,
// one event a call; recordBatch, 100 a call) against the ceiling of the same rows by COPY, on the
// same database, interleaved. Events per second; ratios of the COPY ceiling. one_trip / four_trips:
// one event a call with an actor context in one round trip (Cluster.txStatement) against tx()'s four,
// at CLIENTS callers and at 1 (one_trip_ratio, one_trip_ratio_1), and at 1 with synchronous_commit
// off for both (one_trip_ratio_nosync_1: the round trips without the commit's WAL flush). On
// loopback a round trip costs tens of µs and the commit's WAL flush (fdatasync) ms: the ratio
// there measures mostly the server's work. one_trip_ratio_rtt1ms runs both through a proxy that
// adds 1 ms to each round trip (delayProxy.ts), as a network between application and database
// does: the saving of three round trips where they cost what they cost on a network.
// one_trip_nosync / four_trips_nosync: both at CLIENTS callers without the WAL flush, which splits
// each write's time into the round-trip-bound part and the commit's wait (one_trip_ratio_nosync).
// Every write runs as the product runs: as pgpress_app (row-level security on articles, which the
// event's INSERT reads; the audit trigger wherever it fires), through `-c role=pgpress_app` on the
// bench URL (the role's privileges and policies; no password for it needed). The seed and COPY run
// as the admin. CPU per write (this process and the database's backends, µs) for the one/four
// pairs: cpu_us_one_trip, cpu_us_four_trips, … — what a loaded machine moves less than events/s.
import pg from 'pg';
import { Cluster } from '../../db/cluster.ts';
import { seed } from '../../ops/seed/seed.ts';
import { copyRows } from '../../ops/seed/copyRows.ts';
import { recordEvent, type ArticleEvent } from '../../content/events/repository.ts';
import { createStore } from '../../store.ts';
import { oneStatementTx } from '../../db/pipelineWrite.ts';
import { benchAdminUrl, benchDatabase, throughput } from '../benchDatabase.ts';
import { measureCpu, type CpuSpent } from '../cpuMeter.ts';
import { sampleWaits } from '../waitSampler.ts';
import { delayProxy, type DelayProxy } from '../delayProxy.ts';
import { loadMix, shippedServer, startServerProcess, type ServerProcess } from '../httpLoad.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { recordOp } from '../timeline.ts';

const CLIENTS = Number(process.env.BENCH_WRITE_CLIENTS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BATCH = 100;
const COPY_CHUNK = 5_000;
/** The delay the proxy adds to each round trip of the _rtt1ms variants. */
const RTT_MS = 1;
/** Pools that only some variants use give their connections back this soon (max_connections is shared). */
const SHORT_IDLE_MS = 1_000;
// The sampler runs in this process: its client CPU counts in cpu_client_us (at 10 ms, ~0.1 ms a
// sample on a loaded machine, up to a few hundred µs a write at 1 caller); at 50 ms, a fifth.
const WAIT_SAMPLE_MS = 50;
const WAIT_STATES = ['cpu', 'client', 'flush', 'flush_queue'] as const;

/** url with extra `-c name=value` settings in its start-up options (kept: the ones it had). */
function withSettings(url: string, settings: Record<string, string>): string {
  const u = new URL(url);
  const extra = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  u.searchParams.set('options', [u.searchParams.get('options'), extra].filter(Boolean).join(' '));
  return u.toString();
}

/** COPY into article_events for ms milliseconds, in COPY statements of COPY_CHUNK rows; rows per second. */
async function copyRate(pool: pg.Pool, ids: readonly number[], ms: number): Promise<number> {
  const client = await pool.connect();
  try {
    const end = performance.now() + ms;
    const started = performance.now();
    let rows = 0;
    while (performance.now() < end) {
      const t = performance.now();
      await copyRows(client, 'article_events', ['article_id', 'kind'], COPY_CHUNK, (i) => [ids[(rows + i) % ids.length]!, 'view']);
      recordOp(performance.now() - t);
      rows += COPY_CHUNK;
    }
    return rows / ((performance.now() - started) / 1000);
  } finally {
    client.release();
  }
}

async function runWrite(ctx: ScenarioContext): Promise<ScenarioResult> {
  const db = await benchDatabase();
  const seeder = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  // The service's role: its privileges, row-level security (the admin bypasses it), the audit's db_role.
  const appUrl = withSettings(db.url, { role: 'pgpress_app' });
  const store = await createStore({ url: appUrl, pool: { max: CLIENTS } });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // pg_stat_activity samples from another database: the sampler's own work is not counted as the writes'.
  const sampler = new pg.Pool({ connectionString: benchAdminUrl(), max: 1 });
  // The round trips alone: each commit's WAL flush (several ms on this disk) would otherwise hide them.
  const noSync = new Cluster({ url: withSettings(appUrl, { synchronous_commit: 'off' }), max: CLIENTS, idleTimeoutMs: SHORT_IDLE_MS });
  pool.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
  const proxy: DelayProxy = await delayProxy(db.url, RTT_MS);
  const far = await createStore({ url: proxy.url(appUrl), pool: { max: CLIENTS, idleTimeoutMs: SHORT_IDLE_MS } });
  let server: ServerProcess | undefined;
  try {
    ctx.progress(0, 'seeding');
    await seed(seeder, { scale: 1, seed: 1 });
    // Shedding off (event loop and admission control): this measures ingestion, not refusals; a
    // loaded machine otherwise turns a few requests of a round into 503s and fails it.
    server = await startServerProcess(shippedServer('full'), { DATABASE_URL: appUrl, DB_POOL_MAX: String(CLIENTS), MIGRATE_ON_START: 'false', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', ADMISSION_MAX_IN_FLIGHT: '0', LOG_LEVEL: 'silent', REDIS_URL: '' });
    // As the service runs, or not at all: a superuser would bypass row-level security unseen.
    const who = await store.cluster.query<{ u: string; bypass: boolean }>({ name: 'bench.write.role', text: 'SELECT current_user AS u, rolbypassrls OR rolsuper AS bypass FROM pg_roles WHERE rolname = current_user' });
    if (who.rows[0]?.u !== 'pgpress_app' || who.rows[0].bypass) throw new Error(`write: the writes run as ${who.rows[0]?.u ?? '?'}, not as pgpress_app under row-level security`);
    const { rows } = await pool.query<{ id: string }>("SELECT id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000");
    const ids = rows.map((r) => Number(r.id));
    const event = (i: number): ArticleEvent => ({ articleId: ids[(i * 7919) % ids.length]!, kind: 'view' });
    const s = server;
    let n = 0;
    const body = (): string => JSON.stringify({ articleId: ids[n++ % ids.length], kind: 'view' });
    const json = { 'content-type': 'application/json' };
    // One event a call with an actor context (audit, row-level security): one round trip
    // (Cluster.txStatement) against tx()'s four (BEGIN, SET LOCAL, INSERT, COMMIT + LSN).
    const actor = { actorId: 1, role: 'admin' };
    const actorTx = { actorId: '1', role: 'admin' };
    const fourTrips = (i: number): Promise<unknown> => store.cluster.tx((q) => recordEvent(q, event(i)), actorTx);
    const oneNoSync = (i: number): Promise<unknown> => oneStatementTx(noSync, actorTx, (q) => recordEvent(q, event(i)));
    const fourNoSync = (i: number): Promise<unknown> => noSync.tx((q) => recordEvent(q, event(i)), actorTx);
    const oneFar = (i: number): Promise<unknown> => far.events.record(event(i), actor);
    const fourFar = (i: number): Promise<unknown> => far.cluster.tx((q) => recordEvent(q, event(i)), actorTx);
    // CPU per write of the one/four pairs and the library's, per round (µs; NaN when the server is on another machine).
    const cpu: Record<string, number[]> = {};
    const clientCpu: Record<string, number[]> = {};
    // Where the busy backends' time goes (shares of pg_stat_activity samples): cpu, client (round
    // trips and the client's work), flush (fdatasync), flush_queue (waiting for another's flush: group commit).
    const waits: Record<string, Record<string, number[]>> = {};
    // callers writes at once first (unmeasured): a pool that gave its connections back opens and prepares them again.
    const metered = (name: string, callers: number, fn: (i: number) => Promise<unknown>, warm = false) => async (): Promise<number> => {
      if (warm) await Promise.all(Array.from({ length: callers }, (_x, i) => fn(i)));
      const stop = sampleWaits(sampler, db.name, WAIT_SAMPLE_MS);
      const { value: rate, cpu: spent } = await measureCpu(pool, db.name, () => throughput(callers, SECONDS * 1000, fn));
      const shares = await stop();
      const writes = rate * SECONDS;
      (cpu[name] ??= []).push(writes > 0 ? perWrite(spent) / writes : NaN);
      (clientCpu[name] ??= []).push(writes > 0 ? spent.clientUs / writes : NaN);
      const w = (waits[name] ??= {});
      for (const k of WAIT_STATES) (w[k] ??= []).push(shares[k] ?? 0);
      (w.other ??= []).push(1 - WAIT_STATES.reduce((a, k) => a + (shares[k] ?? 0), 0));
      return rate;
    };
    const perWrite = (c: CpuSpent): number => c.clientUs + c.backendUs;
    const variants = {
      copy: () => copyRate(pool, ids, SECONDS * 1000),
      // No context: an autocommit INSERT in one round trip, the floor of a one-event write.
      library: metered('library', CLIENTS, (i) => store.events.record(event(i))),
      one_trip: metered('one_trip', CLIENTS, (i) => store.events.record(event(i), actor)),
      four_trips: metered('four_trips', CLIENTS, fourTrips),
      one_trip_nosync: metered('one_trip_nosync', CLIENTS, oneNoSync, true),
      four_trips_nosync: metered('four_trips_nosync', CLIENTS, fourNoSync, true),
      one_trip_nosync_1: metered('one_trip_nosync_1', 1, oneNoSync, true),
      four_trips_nosync_1: metered('four_trips_nosync_1', 1, fourNoSync, true),
      one_trip_1: metered('one_trip_1', 1, (i) => store.events.record(event(i), actor)),
      four_trips_1: metered('four_trips_1', 1, fourTrips),
      one_trip_rtt1ms: metered('one_trip_rtt1ms', CLIENTS, oneFar, true),
      four_trips_rtt1ms: metered('four_trips_rtt1ms', CLIENTS, fourFar, true),
      library_batch: async () => BATCH * (await throughput(Math.max(1, CLIENTS / 4), SECONDS * 1000, (i) => store.events.recordBatch(Array.from({ length: BATCH }, (_x, j) => event(i * BATCH + j))))),
      api: async () => {
        const r = await loadMix(s.url, () => ({ method: 'POST', path: '/v1/events', headers: json, body: body() }), CLIENTS, SECONDS);
        if (r.errors + r.non2xx > 0) throw new Error(`write: ${r.errors + r.non2xx} of ${r.total} POST /v1/events failed (${JSON.stringify(r)})`);
        return r.rps;
      },
    };
    type Variant = keyof typeof variants;
    // BENCH_WRITE_VARIANTS=a,b runs only those (figures of the others are left out).
    const only = process.env.BENCH_WRITE_VARIANTS?.split(',');
    const names = (Object.keys(variants) as Variant[]).filter((v) => only === undefined || only.includes(v));
    let done = 0;
    const runs = await interleaved(names, ROUNDS, (v) => {
      ctx.progress((done++ / (names.length * (ROUNDS + 1))), v);
      return variants[v]();
    });
    const m = (v: Variant): number => (runs[v] ? Math.round(median(runs[v])) : NaN);
    const ratio = (a: Variant, b: Variant): number => (runs[a] && runs[b] ? Number(medianRatio(runs[a], runs[b]).toFixed(4)) : NaN);
    console.log(`events/s  COPY: ${m('copy')}   library (one a call): ${m('library')}   library (${BATCH} a call): ${m('library_batch')}   API: ${m('api')}`);
    console.log(`events/s with an actor context  one round trip: ${m('one_trip')} (1 caller: ${m('one_trip_1')})   four (tx): ${m('four_trips')} (1 caller: ${m('four_trips_1')}); 1 caller without waiting for the WAL flush: ${m('one_trip_nosync_1')} vs ${m('four_trips_nosync_1')}`);
    // The floor: an autocommit INSERT with no context at all (library) is the most a one-round-trip
    // write with a context can reach; on loopback, where the server's work dominates, it bounds one_trip_ratio.
    const [floorRatio, oneTripOfFloor] = [ratio('library', 'four_trips'), ratio('one_trip', 'library')];
    console.log(`floor (autocommit INSERT, no context) ÷ four round trips: ${floorRatio.toFixed(2)}; one round trip ÷ floor: ${oneTripOfFloor.toFixed(2)}`);
    console.log(`events/s with ${RTT_MS} ms added to each round trip (a proxy), ${CLIENTS} callers  one round trip: ${m('one_trip_rtt1ms')}   four (tx): ${m('four_trips_rtt1ms')}`);
    console.log(`events/s without waiting for the WAL flush, ${CLIENTS} callers  one round trip: ${m('one_trip_nosync')}   four (tx): ${m('four_trips_nosync')}`);
    // Closed loop: a write's mean latency is callers ÷ rate; with and without the flush, its difference is the commit's wait.
    const latencyMs = (v: Variant, callers: number): number => (runs[v] ? (callers * 1000) / median(runs[v]) : NaN);
    const [l1, l4, n1, n4] = [latencyMs('one_trip', CLIENTS), latencyMs('four_trips', CLIENTS), latencyMs('one_trip_nosync', CLIENTS), latencyMs('four_trips_nosync', CLIENTS)];
    console.log(`ms per write at ${CLIENTS} callers (callers ÷ rate)  one round trip: ${l1.toFixed(2)} = ${n1.toFixed(2)} without the flush + ${(l1 - n1).toFixed(2)} waiting for it   four: ${l4.toFixed(2)} = ${n4.toFixed(2)} + ${(l4 - n4).toFixed(2)}`);
    const cpuOf = (v: string): number => (cpu[v] ? Math.round(median(cpu[v])) : NaN);
    console.log(`CPU µs per write (this process + the database's backends, medians of rounds)  ${Object.keys(cpu).map((v) => `${v} ${cpuOf(v)} (${Math.round(median(clientCpu[v]!))} + ${Math.round(median(cpu[v]!.map((c, i) => c - clientCpu[v]![i]!)))})`).join('   ')}`);
    const share = (v: string, k: string): number => (waits[v]?.[k] ? Number(median(waits[v][k]).toFixed(3)) : 0);
    const states = [...WAIT_STATES, 'other'];
    console.log(`busy backends' time (medians of shares of pg_stat_activity samples every ${WAIT_SAMPLE_MS} ms: ${states.join(' / ')})`);
    for (const v of Object.keys(waits)) console.log(`  ${v.padEnd(20)} ${states.map((k) => share(v, k).toFixed(2)).join(' / ')}`);
    console.log(`(${CLIENTS} callers or connections, ${Math.max(1, CLIENTS / 4)} for batches, COPY on one connection in statements of ${COPY_CHUNK} rows; medians of ${ROUNDS} interleaved ${SECONDS} s rounds)`);
    return {
      figures: Object.fromEntries(Object.entries({
        library_ratio: ratio('library', 'copy'),
        library_batch_ratio: ratio('library_batch', 'copy'),
        api_ratio: ratio('api', 'copy'),
        one_trip_ratio: ratio('one_trip', 'four_trips'),
        one_trip_ratio_1: ratio('one_trip_1', 'four_trips_1'),
        one_trip_ratio_nosync_1: ratio('one_trip_nosync_1', 'four_trips_nosync_1'),
        one_trip_ratio_rtt1ms: ratio('one_trip_rtt1ms', 'four_trips_rtt1ms'),
        one_trip_ratio_nosync: ratio('one_trip_nosync', 'four_trips_nosync'),
        floor_ratio: floorRatio,
        one_trip_of_floor: oneTripOfFloor,
        ms_per_write_one_trip: Number(l1.toFixed(3)),
        ms_per_write_four_trips: Number(l4.toFixed(3)),
        flush_wait_ms_one_trip: Number((l1 - n1).toFixed(3)),
        flush_wait_ms_four_trips: Number((l4 - n4).toFixed(3)),
        ...Object.fromEntries(Object.keys(cpu).map((v) => [`cpu_us_${v}`, cpuOf(v)])),
        ...Object.fromEntries(Object.keys(clientCpu).map((v) => [`cpu_client_us_${v}`, Math.round(median(clientCpu[v]!))])),
        cpu_ratio: Number((cpuOf('four_trips') / cpuOf('one_trip')).toFixed(4)),
        ...Object.fromEntries(['one_trip', 'four_trips'].filter((v) => waits[v]).flatMap((v) => states.map((k) => [`wait_${k}_${v}`, share(v, k)]))),
        copy_eps: m('copy'),
        library_eps: m('library'),
        library_batch_eps: m('library_batch'),
        api_eps: m('api'),
        one_trip_eps: m('one_trip'),
        four_trips_eps: m('four_trips'),
        errors: 0,
      }).filter(([, v]) => !Number.isNaN(v))),
    };
  } finally {
    await server?.stop();
    await pool.end();
    await sampler.end();
    await store.close();
    await far.close();
    await proxy.close();
    await seeder.close();
    await noSync.close();
    await db.drop();
  }
}

export const write: Scenario = {
  name: 'write',
  description: 'Event ingestion: the API and the library (one event a call, and 100 a call) against the COPY ceiling of the same rows on the same database.',
  run: runWrite,
};
