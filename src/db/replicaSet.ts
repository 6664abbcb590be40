// What is known about each replica: replay position, lag, reachability, and whether it is in
// the read rotation. A replica leaves at once on failure or excess lag and rejoins only after
// it has stayed healthy for `rejoinAfterMs` (hysteresis, so a flapping replica stays out).

/** How a replica looks right now. */
export type ReplicaStateName = 'unknown' | 'healthy' | 'lagging' | 'down' | 'recovering';

/** The record one replica keeps. */
export interface ReplicaStatus {
  readonly name: string;
  state: ReplicaStateName;
  inRotation: boolean;
  /** Last replay LSN seen (bigint), or undefined before the first probe. */
  replayLsn: bigint | undefined;
  lagMs: number | undefined;
  lastError: string | undefined;
  /** When the replica last turned healthy after being out (for hysteresis). */
  healthySince: number | undefined;
  /** Reads running on it now (selection prefers the least loaded). */
  inFlight: number;
  everHealthy: boolean;
}

/** Settings of rotation and hysteresis. */
export interface RotationOptions {
  maxLagMs: number;
  rejoinAfterMs: number;
}

/**
 * A new record for a replica. A replica known at start joins at its first healthy probe; one that
 * joins later (lateJoiner: a member Patroni lists after start) must first stay healthy for the
 * rejoin period, like a replica coming back, since it may still be catching up or flapping.
 */
export function newReplicaStatus(name: string, lateJoiner = false): ReplicaStatus {
  return { name, state: 'unknown', inRotation: false, replayLsn: undefined, lagMs: undefined, lastError: undefined, healthySince: undefined, inFlight: 0, everHealthy: lateJoiner };
}

/** Applies one probe result; returns the updated record (mutated in place). */
export function applyProbe(
  r: ReplicaStatus,
  probe: { ok: true; replayLsn: bigint; lagMs: number } | { ok: false; error: string },
  opts: RotationOptions,
  now: number,
): ReplicaStatus {
  if (!probe.ok) {
    markDown(r, probe.error);
    return r;
  }
  r.replayLsn = probe.replayLsn;
  r.lagMs = probe.lagMs;
  r.lastError = undefined;
  if (probe.lagMs > opts.maxLagMs) {
    r.state = 'lagging';
    r.inRotation = false;
    r.healthySince = undefined;
    return r;
  }
  if (r.inRotation) {
    r.state = 'healthy';
    return r;
  }
  // The first healthy probe after start joins at once; after a failure, it must stay healthy.
  if (!r.everHealthy) {
    r.everHealthy = true;
    r.inRotation = true;
    r.state = 'healthy';
    return r;
  }
  r.healthySince ??= now;
  if (now - r.healthySince >= opts.rejoinAfterMs) {
    r.inRotation = true;
    r.state = 'healthy';
    r.healthySince = undefined;
  } else {
    r.state = 'recovering';
  }
  return r;
}

/** Takes a replica out of rotation at once (a failed probe or a failed read). */
export function markDown(r: ReplicaStatus, error: string): void {
  r.state = 'down';
  r.inRotation = false;
  r.healthySince = undefined;
  r.lastError = error;
  r.everHealthy = true; // from now on, rejoining needs the hysteresis period
}
