// The advisor's report for people: one section per finding kind, each absent section with its reason.
import type { TuneReport } from './advisor.ts';
import type { SettingAdvice } from './settingsAdvice.ts';

const MiB = 1024 ** 2;
const size = (bytes: number): string => (bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(1)} GiB` : bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} kB`);
const value = (a: SettingAdvice, v: number): string => (a.unit === 'bytes' ? size(v) : String(v));
const flat = (s: string, max = 120): string => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** Lines of text for the report. */
export function formatTuneReport(r: TuneReport): string[] {
  const out: string[] = [];
  out.push('== top statements by total time ==');
  if (!r.statements.available) out.push(`  absent: ${r.statements.reason}`);
  else {
    for (const s of r.statements.items) {
      out.push(`  ${s.totalMs.toFixed(0)} ms total, ${s.calls} calls, ${s.meanMs.toFixed(2)} ms mean, ${(s.readShare * 100).toFixed(0)} % blocks from disk: ${flat(s.query)}`);
      if ('unavailable' in s.plan) out.push(`    no plan: ${s.plan.unavailable}`);
      else out.push(...s.plan.text.split('\n').map((l) => `    ${l}`));
    }
  }
  out.push('== tables read mostly by sequential scans ==');
  if (r.seqScanTables.length === 0) out.push('  none');
  for (const t of r.seqScanTables) out.push(`  ${t.table}: ${t.seqScans} sequential scans (~${Math.round(t.rowsPerSeqScan)} rows each, ${Math.round(t.liveRows)} live) vs ${t.indexScans} index scans`);
  out.push('== missing indexes ==');
  if (!r.missingIndexes.available) out.push(`  absent: ${r.missingIndexes.reason}`);
  else {
    if (!r.missingIndexes.hypopg.installed) out.push(`  (not tried as hypothetical indexes: ${r.missingIndexes.hypopg.reason})`);
    if (r.missingIndexes.candidates.length === 0) out.push('  none: no costly statement reads a big table by a selective sequential scan');
    for (const c of r.missingIndexes.candidates) {
      const h = c.hypothetical.tested ? `HypoPG: cost ${c.hypothetical.costBefore.toFixed(1)} -> ${c.hypothetical.costAfter.toFixed(1)}${c.hypothetical.usesIndex ? '' : ' (plan does not use it)'}` : 'untested';
      out.push(`  ${c.recommended ? 'recommended' : 'weak'}: ${c.sql} -- ${h}; seq scan keeps ~${Math.round(c.estimatedRows)} of ${Math.round(c.tableRows)} rows for: ${flat(c.query, 80)}`);
    }
  }
  out.push(`== unused indexes (statistics cover ${(r.indexes.statsWindowSeconds / 86_400).toFixed(1)} days) ==`);
  if (r.indexes.unused.length === 0) out.push('  none');
  for (const u of r.indexes.unused) out.push(`  ${u.index} on ${u.table}, ${size(u.bytes)}${u.conclusive ? '' : ' (window shorter than the bound: not conclusive)'}: ${u.sql}`);
  out.push('== redundant indexes ==');
  if (r.indexes.redundant.length === 0) out.push('  none');
  for (const x of r.indexes.redundant) out.push(`  ${x.index} (${size(x.bytes)}) is covered by ${x.coveredBy}: ${x.sql}`);
  out.push(`== settings for ${size(r.machine.memoryBytes)} memory, ${r.machine.cores} cores, ${r.machine.disk} disk ==`);
  for (const a of r.settings) out.push(`  ${a.status === 'ok' ? 'ok  ' : a.status}: ${a.name} = ${value(a, a.current)}${a.status === 'ok' ? '' : `, suggested ${value(a, a.suggested)}`} (${a.reason})`);
  for (const a of r.autovacuum) out.push(`  table ${a.table}: ${a.sql} (${a.reason})`);
  for (const f of r.migrationsWritten) out.push(`wrote ${f}: review it, then apply it with pgpress migrate up`);
  return out;
}
