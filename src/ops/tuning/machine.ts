// The machine's memory, cores and disk kind, as seen from where the advisor runs. The advisor
// cannot see the database server's machine through SQL: when PostgreSQL runs elsewhere, pass its
// figures (`pgpress tune --memory 16GiB --cores 8 --disk ssd`).
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Machine } from './settingsAdvice.ts';

/** ssd when every block device says it is not rotational, hdd when every one says it is; else unknown. */
export function diskKind(sysBlock = '/sys/block'): Machine['disk'] {
  let flags: string[];
  try {
    flags = readdirSync(sysBlock)
      .filter((d) => !/^(loop|ram|zram|sr|nbd)/.test(d))
      .map((d) => readFileSync(`${sysBlock}/${d}/queue/rotational`, 'utf8').trim());
  } catch {
    return 'unknown';
  }
  if (flags.length === 0) return 'unknown';
  if (flags.every((f) => f === '0')) return 'ssd';
  if (flags.every((f) => f === '1')) return 'hdd';
  return 'unknown';
}

/** This machine: total memory, cores available to the process, disk kind. */
export function localMachine(): Machine {
  return { memoryBytes: os.totalmem(), cores: os.availableParallelism(), disk: diskKind() };
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3, tb: 1024 ** 4, tib: 1024 ** 4 };

/** '16GiB', '512MB', '2048' (bytes) → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  return m && unit ? Math.round(Number(m[1]) * unit) : undefined;
}
