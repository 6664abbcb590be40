// CPU spent by this process and by a database's backends while a variant runs: a measure of work
// per operation that a loaded machine moves less than throughput (it still counts cache misses and
// contention, but not the time spent waiting for a core). Backends are read from
// /proc/<pid>/task/*/schedstat (ns run time): the server must run on this machine, else backendUs is NaN.
import { readFileSync, readdirSync } from 'node:fs';
import type pg from 'pg';

/** CPU in µs over one measured window. */
export interface CpuSpent {
  /** This process (the load generator and the library under test): user + system. */
  clientUs: number;
  /** The database's backends alive at the start and the end of the window (NaN: not on this machine). */
  backendUs: number;
}

/** CPU time a process has run, in ms, every thread counted (/proc/<pid>/task/<tid>/schedstat, ns:
 *  a Node process's collector and libuv threads too); undefined when it is gone or on another machine.
 *  10 ms ticks (utime and stime of /proc/<pid>/stat) are too coarse for a few thousand requests. */
export function processCpuMs(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended since the listing: its time is no longer counted either way
    }
  }
  return ns / 1e6;
}

async function backendPids(admin: pg.Pool, database: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  return rows.map((r) => r.pid);
}

/** Runs fn and returns its value with the CPU this process and database's backends spent meanwhile. */
export async function measureCpu<T>(admin: pg.Pool, database: string, fn: () => Promise<T>): Promise<{ value: T; cpu: CpuSpent }> {
  const before = new Map<number, number>();
  const pids = await backendPids(admin, database);
  const local = pids.some((p) => processCpuMs(p) !== undefined);
  for (const p of pids) before.set(p, processCpuMs(p) ?? 0);
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  let backendMs = 0;
  // A backend that started during the window counts from 0; one that ended is lost (pools here keep theirs).
  for (const p of await backendPids(admin, database)) backendMs += (processCpuMs(p) ?? before.get(p) ?? 0) - (before.get(p) ?? 0);
  return { value, cpu: { clientUs: c.user + c.system, backendUs: local ? backendMs * 1000 : NaN } };
}
