// Health of each target as /readyz and `pgpress doctor` report it.
import { redactUrl } from '../config/settings.ts';
import type { BreakerState } from './breaker.ts';
import type { LaneStats } from './lane.ts';
import { formatLsn } from './lsn.ts';
import type { ReplicaStatus } from './replicaSet.ts';

/** One target's health. */
export interface TargetHealth {
  name: string;
  role: 'primary' | 'replica';
  /** The URL with its password hidden. */
  url: string;
  /** primary: up | down; replica: healthy | lagging | down | recovering | unknown. */
  state: string;
  breaker: BreakerState;
  /** Replica only: replay lag in ms as last measured. */
  lagMs?: number | undefined;
  replayLsn?: string | undefined;
  inRotation?: boolean;
  error?: string | undefined;
  lanes: Record<string, LaneStats>;
}

/** Builds the health list from the cluster's parts. */
export function clusterHealth(p: {
  primaryUrl: string;
  primaryUp: boolean;
  primaryBreaker: BreakerState;
  lanes: Record<string, LaneStats>;
  replicas: { url: string; status: ReplicaStatus; breaker: BreakerState; lane: LaneStats }[];
}): TargetHealth[] {
  return [
    { name: 'primary', role: 'primary', url: redactUrl(p.primaryUrl), state: p.primaryUp ? 'up' : 'down', breaker: p.primaryBreaker, lanes: p.lanes },
    ...p.replicas.map((r) => ({
      name: r.status.name,
      role: 'replica' as const,
      url: redactUrl(r.url),
      state: r.status.state,
      breaker: r.breaker,
      lagMs: r.status.lagMs,
      replayLsn: r.status.replayLsn === undefined ? undefined : formatLsn(r.status.replayLsn),
      inRotation: r.status.inRotation,
      error: r.status.lastError,
      lanes: { default: r.lane },
    })),
  ];
}

/** One line per target for an operator (used by `pgpress doctor`). */
export function formatHealth(targets: readonly TargetHealth[]): string[] {
  return targets.map((t) => {
    const lanes = Object.entries(t.lanes)
      .map(([n, s]) => `${n} ${s.inUse}/${s.max} in use, ${s.idle} idle, ${s.waiting} waiting`)
      .join('; ');
    const lag = t.role === 'replica' ? ` lag=${t.lagMs === undefined ? '?' : `${t.lagMs}ms`} replay=${t.replayLsn ?? '?'} rotation=${t.inRotation ? 'in' : 'out'}` : '';
    return `${t.name} (${t.url}): ${t.state} breaker=${t.breaker}${lag} [${lanes}]${t.error ? ` error: ${t.error}` : ''}`;
  });
}
