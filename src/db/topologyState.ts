// The pure part of finding the primary: which node a round of probes names, and what the topology
// does on each event. A node is the primary only when it answers pg_is_in_recovery() = false and,
// with Patroni, also holds the leader key; two writable nodes (a split brain) name none.
import { endpointText, type Endpoint } from './topologyUrl.ts';

/** What one probe of a node found. */
export type NodeProbe = { endpoint: Endpoint; writable: boolean } | { endpoint: Endpoint; error: string };

/** The outcome of a round: the primary, or why there is none (yet). */
export type Resolution = { kind: 'primary'; primary: Endpoint } | { kind: 'none'; reason: string };

const same = (a: Endpoint, b: Endpoint): boolean => a.host === b.host && a.port === b.port;

/** The primary a round of probes names. leader: Patroni's leader (undefined without Patroni, or none elected). */
export function choosePrimary(probes: readonly NodeProbe[], patroni?: { leader: Endpoint | undefined }): Resolution {
  const writable = probes.filter((p) => 'writable' in p && p.writable).map((p) => p.endpoint);
  const problems = probes.filter((p): p is { endpoint: Endpoint; error: string } => 'error' in p).map((p) => `${endpointText(p.endpoint)}: ${p.error}`);
  if (patroni) {
    const leader = patroni.leader;
    if (leader === undefined) return { kind: 'none', reason: 'Patroni names no running leader (a failover may be under way)' };
    if (writable.some((w) => same(w, leader))) return { kind: 'primary', primary: leader };
    return { kind: 'none', reason: `Patroni's leader ${endpointText(leader)} does not accept writes yet${problems.length ? ` (${problems.join('; ')})` : ''}` };
  }
  if (writable.length === 1) return { kind: 'primary', primary: writable[0]! };
  if (writable.length > 1) return { kind: 'none', reason: `${writable.length} nodes accept writes (${writable.map(endpointText).join(', ')}); refusing to pick one` };
  return { kind: 'none', reason: `no node accepts writes${problems.length ? ` (${problems.join('; ')})` : ''}` };
}

/** The topology's state: the known primary (if any), whether a resolution runs, and a generation that counts changes. */
export interface TopologyState {
  primary: Endpoint | undefined;
  resolving: boolean;
  generation: number;
  lastReason: string | undefined;
}

/** What happens to the topology. */
export type TopologyEvent =
  | { kind: 'suspect'; reason: string } // a write met 25006, the primary's connection failed, the monitor saw a change
  | { kind: 'resolved'; resolution: Resolution };

/** The next state; `changed` is true when the primary is now a different node (pools and breaker start afresh). */
export function nextTopology(s: TopologyState, e: TopologyEvent): { state: TopologyState; changed: boolean } {
  if (e.kind === 'suspect') return { state: { ...s, resolving: true, lastReason: e.reason }, changed: false };
  const r = e.resolution;
  if (r.kind === 'none') return { state: { ...s, resolving: true, lastReason: r.reason }, changed: false };
  const changed = s.primary === undefined || !same(s.primary, r.primary);
  return { state: { primary: r.primary, resolving: false, generation: s.generation + (changed ? 1 : 0), lastReason: undefined }, changed };
}

/** The starting state: no primary known, resolving. */
export function initialTopology(): TopologyState {
  return { primary: undefined, resolving: true, generation: 0, lastReason: 'not resolved yet' };
}

/** How a cluster's member list changed: nodes to add as read candidates, and nodes gone. */
export interface MemberDiff {
  added: Endpoint[];
  removed: Endpoint[];
}

/**
 * known (the read candidates now) against listed (Patroni's members now). An empty list is no
 * news (Patroni answering with no member at all says nothing about the nodes): nothing changes.
 */
export function diffMembers(known: readonly Endpoint[], listed: readonly Endpoint[]): MemberDiff {
  if (listed.length === 0) return { added: [], removed: [] };
  const has = (list: readonly Endpoint[], e: Endpoint): boolean => list.some((x) => same(x, e));
  const added = listed.filter((e, i) => !has(known, e) && !has(listed.slice(0, i), e));
  return { added, removed: known.filter((e) => !has(listed, e)) };
}
