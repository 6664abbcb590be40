// The database health figures /metrics serves, read once for a person: `pgpress doctor` prints
// them as a terminal table or JSON.
import type { Queryable } from '../db/queryable.ts';
import { allCollectors } from './collectors/registry.ts';
import { ScrapeCache } from './collectors/scrapeCache.ts';

/** One figure: the metric name, its labels and value. */
export interface HealthFigure {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Every collector's figures, and which collectors failed. */
export interface HealthFigures {
  figures: HealthFigure[];
  /** collector → whether its read succeeded. */
  collectors: Record<string, boolean>;
  warnings: string[];
}

/** Reads every database collector once (on db's background lane). */
export async function readHealthFigures(db: Queryable, opts: { statementsTopK?: number; deadlineMs?: number } = {}): Promise<HealthFigures> {
  const warnings: string[] = [];
  const warn = (m: string, e?: unknown): void => {
    warnings.push(e instanceof Error ? `${m}: ${e.message}` : m);
  };
  const cache = new ScrapeCache(db, allCollectors({ statementsTopK: opts.statementsTopK ?? 5, warn }), { ttlMs: 0, slowTtlMs: 0, deadlineMs: opts.deadlineMs ?? 5_000, warn });
  const snapshot = await cache.snapshot();
  const figures: HealthFigure[] = [];
  const collectors: Record<string, boolean> = {};
  for (const [name, r] of snapshot) {
    collectors[name] = r.ok;
    for (const s of r.samples) figures.push({ metric: s.name, labels: s.labels, value: s.value });
  }
  return { figures, collectors, warnings };
}

/** The figures as aligned terminal lines: metric, labels, value. */
export function formatHealthFigures(h: HealthFigures): string[] {
  const rows = h.figures.map((f) => [f.metric, Object.entries(f.labels).map(([k, v]) => `${k}=${v}`).join(' '), formatValue(f.value)] as const);
  const header = ['metric', 'labels', 'value'] as const;
  const width = [0, 1].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => `${r[0]!.padEnd(width[0]!)}  ${r[1]!.padEnd(width[1]!)}  ${r[2]}`.trimEnd();
  const failed = Object.entries(h.collectors).filter(([, ok]) => !ok).map(([n]) => n);
  return [
    line(header),
    line(['-'.repeat(width[0]!), '-'.repeat(width[1]!), '-----']),
    ...rows.map(line),
    ...(failed.length ? [`collectors failed: ${failed.join(', ')}`] : []),
    ...h.warnings.map((w) => `warning: ${w}`),
  ];
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 4 : 2);
}
