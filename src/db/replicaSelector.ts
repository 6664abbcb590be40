// Picks the replica for a read: in rotation, breaker closed, within the lag bound, caught up
// with the caller's token (if known), and the least loaded among those.
import type { ReplicaStatus } from './replicaSet.ts';

/** A replica the selector may choose. */
export interface Candidate {
  status: ReplicaStatus;
  breakerClosed: boolean;
}

/** The outcome: a replica known to satisfy the token, one that might after a short wait, or none. */
export type Selection = { kind: 'ready'; replica: ReplicaStatus } | { kind: 'wait'; replica: ReplicaStatus } | { kind: 'none' };

/** Chooses a replica for a read carrying token (bigint LSN) or none. */
export function selectReplica(candidates: readonly Candidate[], token: bigint | undefined): Selection {
  let ready: ReplicaStatus | undefined;
  let behind: ReplicaStatus | undefined;
  for (const c of candidates) {
    const r = c.status;
    if (!c.breakerClosed || !r.inRotation) continue;
    const caughtUp = token === undefined || (r.replayLsn !== undefined && r.replayLsn >= token);
    if (caughtUp) {
      if (!ready || better(r, ready)) ready = r;
    } else if (!behind || (r.replayLsn ?? 0n) > (behind.replayLsn ?? 0n)) {
      behind = r;
    }
  }
  if (ready) return { kind: 'ready', replica: ready };
  if (behind) return { kind: 'wait', replica: behind };
  return { kind: 'none' };
}

function better(a: ReplicaStatus, b: ReplicaStatus): boolean {
  if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight;
  return (a.lagMs ?? 0) < (b.lagMs ?? 0);
}
