// Database CPU per search statement, from the backend's run time (processCpuMs: schedstat, ns), robust to a loaded machine where wall-clock times are not. Each variant is a SQL file
// with the product statement's parameters ($1 text, $2 limit, $3 offset, $4 meta, $5 lang), run
// prepared (named, as the Cluster sends it) on a connection of its own; rounds interleave the
// variants (A B, B A, ...), each round runs every term REPS times per variant. Prints CPU per call
// per class of term and the ratio of each variant to the first, median over rounds.
//   DATABASE_URL=... node bench/searchCpu.ts old.sql new.sql [...]
// Env: SEARCH_CPU_ROUNDS (default 10), SEARCH_CPU_REPS (default 20), SEARCH_CPU_TERMS (comma list:
// only those terms).
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { tailVocabulary } from '../src/ops/seed/words.ts';
import { TAIL_WORDS } from '../src/ops/seed/seed.ts';
import { median } from '../src/bench/measure.ts';
import { processCpuMs } from '../src/bench/cpuMeter.ts';

const ROUNDS = Number(process.env.SEARCH_CPU_ROUNDS ?? 10);
const REPS = Number(process.env.SEARCH_CPU_REPS ?? 20);
const TAIL = tailVocabulary(TAIL_WORDS);
const CLASSES: Record<string, string[]> = {
  common: ['table', 'query', 'index', 'vacuum', 'replication', 'deadlocks', 'sharding', 'latency', 'checkpoint', 'fsync'],
  rare: [10, 30, 100, 300, 1000, 3000].map((i) => TAIL[i]!),
  multi: ['checkpoint fsync', 'query planner', 'deadlocks or sharding'],
};
const only = process.env.SEARCH_CPU_TERMS?.split(',');
if (only) for (const k of Object.keys(CLASSES)) CLASSES[k] = CLASSES[k]!.filter((t) => only.includes(t));

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: node bench/searchCpu.ts variant.sql [variant.sql ...]');
const variants = await Promise.all(files.map(async (file, i) => {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const [path, setting] = file.split('@') as [string, string | undefined];
  if (setting) {
    const [name, value] = setting.split('=') as [string, string];
    await c.query('SELECT set_config($1, $2, false)', [name, value]);
  }
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return { file, c, pid, text: readFileSync(path, 'utf8'), name: `v${i}` };
}));
// Warm up each (plans cached, pages in shared buffers).
for (const v of variants) for (const terms of Object.values(CLASSES)) for (const t of terms) for (let i = 0; i < 6; i++) {
  await v.c.query({ name: v.name, text: v.text, values: [t, 10, 0, null, null] });
}
const per: Record<string, Record<string, number[]>> = {};
for (const v of variants) per[v.file] = Object.fromEntries(Object.keys(CLASSES).map((k) => [k, [] as number[]]));
const loads: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    for (const [cls, terms] of Object.entries(CLASSES)) {
      if (terms.length === 0) continue;
      const before = processCpuMs(v.pid)!;
      for (let i = 0; i < REPS; i++) for (const t of terms) await v.c.query({ name: v.name, text: v.text, values: [t, 10, 0, null, null] });
      per[v.file]![cls]!.push((processCpuMs(v.pid)! - before) / (REPS * terms.length));
    }
  }
  loads.push(loadavg()[0]!);
}
console.log(`${ROUNDS} rounds × ${REPS} reps, ${cpus().length} cpus, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
for (const cls of Object.keys(CLASSES)) {
  if (CLASSES[cls]!.length === 0) continue;
  const base = per[files[0]!]![cls]!;
  for (const v of variants) {
    const xs = per[v.file]![cls]!;
    const ratios = xs.map((x, i) => x / base[i]!);
    console.log(`${cls.padEnd(6)} ${v.file.padEnd(40)} ${median(xs).toFixed(3)} ms CPU/search (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)}), ratio to first ${median(ratios).toFixed(2)}`);
  }
}
for (const v of variants) await v.c.end();
