// Where a single-statement write's time goes (issue #18 item 4): the one-round-trip path
// (oneStatementTx → Cluster.txStatement), tx()'s four round trips, and a plain autocommit INSERT
// without context, one caller on one connection, with synchronous_commit on and off, rounds
// interleaved. Per write: wall time, client CPU (process.cpuUsage), backend CPU
// (/proc/<backend pid>/schedstat: the PostgreSQL server must run on this machine) and the rest
// (waiting: round trips, the WAL flush, the scheduler). STRACE=1 also counts the backend's system
// calls per write in the first round (strace -c -f -p): how many reads and sends a write takes.
// APP=1 connects as pgpress_app (row-level security applies; the admin user bypasses it) and adds
// a comment write (audited: the audit trigger runs) both ways. SYNC=on or off runs only that setting.
// Run: node --import tsx bench/writeAnatomy.ts   (N writes per round, ROUNDS rounds)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { recordEvent, type ArticleEvent } from '../src/content/events/repository.ts';
import { insertComment } from '../src/content/comments/queries.ts';
import { Cluster } from '../src/db/cluster.ts';
import { oneStatementTx } from '../src/db/pipelineWrite.ts';
import { benchDatabase } from '../src/bench/benchDatabase.ts';
import { median } from '../src/bench/measure.ts';
import { createStore } from '../src/store.ts';

const N = Number(process.env.N ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const STRACE = process.env.STRACE === '1';
const APP = process.env.APP === '1';
const SYNC = process.env.SYNC;

const backendPid = async (c: Cluster): Promise<number> => (await c.query<{ pid: number }>({ name: 'anatomy.pid', text: 'SELECT pg_backend_pid() AS pid' })).rows[0]!.pid;
const cpuNs = (pid: number): number => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

/** Backend system calls per write while fn runs (strace -c), as "name count/write" pairs. */
async function straced(pid: number, writes: number, fn: () => Promise<void>): Promise<string> {
  let out = '';
  const st = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  st.stderr.on('data', (b: Buffer) => void (out += b.toString()));
  await new Promise((r) => setTimeout(r, 300));
  await fn();
  st.kill('SIGINT');
  await new Promise((r) => st.on('close', r));
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d+$/.test(f[3]!) && f[f.length - 1] !== 'total')
    .map((f) => `${f[f.length - 1]} ${(Number(f[3]) / writes).toFixed(2)}`)
    .join(', ');
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url, pool: { max: 2 } });
  const open: Cluster[] = [];
  try {
    const author = await store.users.create({ email: 'anatomy@example.com', username: 'anatomy', displayName: 'Anatomy' });
    const ACTOR = { actorId: String(author.id), role: 'author' };
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) ids.push((await store.articles.create({ authorId: author.id, title: `Anatomy ${i}`, status: 'published' })).id);
    const ev = (i: number): ArticleEvent => ({ articleId: ids[i % ids.length]!, kind: 'view' });
    const connect = async (sync: boolean): Promise<{ c: Cluster; pid: number }> => {
      const u = new URL(db.url);
      if (APP) u.username = 'pgpress_app';
      if (!sync) u.searchParams.set('options', '-c synchronous_commit=off');
      // One connection, kept between rounds (its backend's CPU is read by pid).
      const c = new Cluster({ url: u.toString(), max: 1, idleTimeoutMs: 3_600_000 });
      open.push(c);
      return { c, pid: await backendPid(c) };
    };
    const settings = (['on', 'off'] as const).filter((x) => SYNC === undefined || SYNC === x);
    const conns = await Promise.all(settings.map(async (x) => [x, await connect(x === 'on')] as const));
    const variants: { name: string; on: { c: Cluster; pid: number }; fn: (c: Cluster, i: number) => Promise<unknown> }[] = [];
    const comment = (i: number): unknown[] => [ids[i % ids.length]!, author.id, null, `comment ${i}`];
    for (const [s, conn] of conns) {
      if (APP) {
        variants.push({ name: `four_trips_comment_${s}`, on: conn, fn: (c, i) => c.tx((q) => q.query(insertComment, comment(i)), ACTOR) });
        variants.push({ name: `one_trip_comment_${s}`, on: conn, fn: (c, i) => c.txStatement(insertComment, comment(i), ACTOR) });
      }
      variants.push({ name: `four_trips_${s}`, on: conn, fn: (c, i) => c.tx((q) => recordEvent(q, ev(i)), ACTOR) });
      variants.push({ name: `one_trip_${s}`, on: conn, fn: (c, i) => oneStatementTx(c, ACTOR, (q) => recordEvent(q, ev(i))) });
      variants.push({ name: `plain_insert_${s}`, on: conn, fn: (c, i) => recordEvent(c, ev(i)) });
    }
    // ONLY=a,b keeps the variants whose names contain one of these.
    const only = process.env.ONLY?.split(',');
    if (only) variants.splice(0, variants.length, ...variants.filter((v) => only.some((o) => v.name.includes(o))));
    const acc = new Map<string, { wall: number[]; client: number[]; backend: number[] }>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        const { c } = v.on;
        for (let i = 0; i < 50; i++) await v.fn(c, i); // prepared, warm
        // Read again: a connection lost in between (the machine is shared) is replaced by the pool.
        const pid = await backendPid(c);
        const run = async (): Promise<void> => {
          for (let i = 0; i < N; i++) await v.fn(c, i);
        };
        if (STRACE && r === 0) {
          console.log(`${v.name} backend syscalls per write: ${await straced(pid, N, run)}`);
          continue;
        }
        const c0 = process.cpuUsage();
        const b0 = cpuNs(pid);
        const t0 = performance.now();
        await run();
        const wall = ((performance.now() - t0) * 1000) / N;
        const cu = process.cpuUsage(c0);
        const a = acc.get(v.name) ?? { wall: [], client: [], backend: [] };
        a.wall.push(wall);
        a.client.push((cu.user + cu.system) / N);
        a.backend.push((cpuNs(pid) - b0) / 1000 / N);
        acc.set(v.name, a);
      }
    }
    console.log('µs per write (medians of rounds)   wall   client CPU   backend CPU   waiting (wall - CPU)');
    for (const [name, a] of acc) {
      const [w, cl, be] = [median(a.wall), median(a.client), median(a.backend)];
      console.log(`${name.padEnd(32)} ${w.toFixed(0).padStart(6)} ${cl.toFixed(0).padStart(12)} ${be.toFixed(0).padStart(13)} ${(w - cl - be).toFixed(0).padStart(12)}`);
    }
  } finally {
    for (const c of open) await c.close();
    await store.close();
    await db.drop();
  }
}

await main();
