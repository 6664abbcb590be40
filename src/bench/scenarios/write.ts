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
import pg from 'pg';
import { Cluster } from '../../db/cluster.ts';
import { seed } from '../../ops/seed/seed.ts';
import { copyRows } from '../../ops/seed/copyRows.ts';
import { recordEvent, type ArticleEvent } from '../../content/events/repository.ts';
import { createStore } from '../../store.ts';
import { oneStatementTx } from '../../db/pipelineWrite.ts';
import { benchDatabase, throughput } from '../benchDatabase.ts';
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
  const store = await createStore({ url: db.url, pool: { max: CLIENTS } });
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  // The round trips alone: each commit's WAL flush (several ms on this disk) would otherwise hide them.
  const noSyncUrl = new URL(db.url);
  noSyncUrl.searchParams.set('options', '-c synchronous_commit=off');
  const noSync = new Cluster({ url: noSyncUrl.toString(), max: 2 });
  pool.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
  const proxy: DelayProxy = await delayProxy(db.url, RTT_MS);
  const far = await createStore({ url: proxy.url(db.url), pool: { max: CLIENTS } });
  let server: ServerProcess | undefined;
  try {
    ctx.progress(0, 'seeding');
    await seed(seeder, { scale: 1, seed: 1 });
    // Shedding off (event loop and admission control): this measures ingestion, not refusals; a
    // loaded machine otherwise turns a few requests of a round into 503s and fails it.
    server = await startServerProcess(shippedServer('full'), { DATABASE_URL: db.url, DB_POOL_MAX: String(CLIENTS), MIGRATE_ON_START: 'false', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', ADMISSION_MAX_IN_FLIGHT: '0', LOG_LEVEL: 'silent', REDIS_URL: '' });
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
    const fourTrips = (i: number): Promise<unknown> => store.cluster.tx((q) => recordEvent(q, event(i)), { actorId: '1', role: 'admin' });
    const variants = {
      copy: () => copyRate(pool, ids, SECONDS * 1000),
      library: () => throughput(CLIENTS, SECONDS * 1000, (i) => store.events.record(event(i))),
      one_trip: () => throughput(CLIENTS, SECONDS * 1000, (i) => store.events.record(event(i), actor)),
      four_trips: () => throughput(CLIENTS, SECONDS * 1000, fourTrips),
      one_trip_nosync_1: () => throughput(1, SECONDS * 1000, (i) => oneStatementTx(noSync, { actorId: '1', role: 'admin' }, (q) => recordEvent(q, event(i)))),
      four_trips_nosync_1: () => throughput(1, SECONDS * 1000, (i) => noSync.tx((q) => recordEvent(q, event(i)), { actorId: '1', role: 'admin' })),
      one_trip_1: () => throughput(1, SECONDS * 1000, (i) => store.events.record(event(i), actor)),
      four_trips_1: () => throughput(1, SECONDS * 1000, fourTrips),
      one_trip_rtt1ms: () => throughput(CLIENTS, SECONDS * 1000, (i) => far.events.record(event(i), actor)),
      four_trips_rtt1ms: () => throughput(CLIENTS, SECONDS * 1000, (i) => far.cluster.tx((q) => recordEvent(q, event(i)), { actorId: '1', role: 'admin' })),
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
    console.log(`events/s with ${RTT_MS} ms added to each round trip (a proxy), ${CLIENTS} callers  one round trip: ${m('one_trip_rtt1ms')}   four (tx): ${m('four_trips_rtt1ms')}`);
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
