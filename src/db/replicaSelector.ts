// Picks the replica for a read: in rotation (so within the lag bound), breaker not mid-trial,
// caught up with the caller's token (if known), closed breakers first, then the least loaded.
import type { BreakerState } from './breaker.ts';
import type { ReplicaStatus } from './replicaSet.ts';

/** A replica the selector may choose. */
export interface Candidate {
  status: ReplicaStatus;
  /** An open breaker is still eligible (after its pause the call is the trial), just less preferred. */
  breaker: BreakerState;
}

/** The outcome: a replica known to satisfy the token, one that might after a short wait, or none. */
export type Selection = { kind: 'ready'; replica: ReplicaStatus } | { kind: 'wait'; replica: ReplicaStatus } | { kind: 'none' };

/** Chooses a replica for a read carrying token (bigint LSN) or none. */
export function selectReplica(candidates: readonly Candidate[], token: bigint | undefined): Selection {
  let ready: Candidate | undefined;
  let behind: ReplicaStatus | undefined;
  for (const c of candidates) {
    const r = c.status;
    if (c.breaker === 'half-open' || !r.inRotation) continue;
    const caughtUp = token === undefined || (r.replayLsn !== undefined && r.replayLsn >= token);
    if (caughtUp) {
      if (!ready || better(c, ready)) ready = c;
    } else if (!behind || (r.replayLsn ?? 0n) > (behind.replayLsn ?? 0n)) {
      behind = r;
    }
  }
  if (ready) return { kind: 'ready', replica: ready.status };
  if (behind) return { kind: 'wait', replica: behind };
  return { kind: 'none' };
}

function better(x: Candidate, y: Candidate): boolean {
  if ((x.breaker === 'closed') !== (y.breaker === 'closed')) return x.breaker === 'closed';
  const a = x.status;
  const b = y.status;
  if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight;
  return (a.lagMs ?? 0) < (b.lagMs ?? 0);
}
