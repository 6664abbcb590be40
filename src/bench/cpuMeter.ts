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

/** CPU used so far by each of pids that can be read, in ms (none: a database on another machine). */
export function cpuByPid(pids: number[]): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) byPid.set(pid, ms);
  }
  return byPid;
}

/** CPU the processes read both times used in between, in ms (one that ended in between is left
 *  out); null when none was read both times. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number | null {
  let sum = 0;
  let read = 0;
  for (const [pid, ms] of after) {
    const was = before.get(pid);
    if (was === undefined) continue;
    sum += ms - was;
    read++;
  }
  return read === 0 ? null : sum;
}

/** The client backends of the database `db` is connected to, less its own. */
export async function clientBackendPids(db: pg.Client): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
  return rows.map((r) => r.pid);
}

async function backendPids(admin: pg.Pool, database: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  return rows.map((r) => r.pid);
}

/** Runs fn and returns its value with the CPU this process and database's backends spent meanwhile. */
export async function measureCpu<T>(admin: pg.Pool, database: string, fn: () => Promise<T>): Promise<{ value: T; cpu: CpuSpent }> {
  const before = cpuByPid(await backendPids(admin, database));
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  let backendMs = 0;
  // A backend that started during the window counts from 0; one that ended is lost (pools here keep theirs).
  for (const p of await backendPids(admin, database)) backendMs += (processCpuMs(p) ?? before.get(p) ?? 0) - (before.get(p) ?? 0);
  return { value, cpu: { clientUs: c.user + c.system, backendUs: before.size > 0 ? backendMs * 1000 : NaN } };
}
