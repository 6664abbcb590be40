// The Cluster's side of a topology: when its URL names several hosts (or PATRONI_URLS are given),
// the primary lanes open connections through primaryClient.ts, every node becomes a read candidate
// of the replica monitor (which keeps the primary, not being a standby, out of rotation), and
// failed primary calls and the monitor's sightings make the topology resolve again. With Patroni,
// its member list is re-read every second: members that join later become read candidates (named
// node4, node5, …; in rotation after the rejoin period), departed ones stop being.
import type pg from 'pg';
import type { TargetBreaker } from './breaker.ts';
import type { ClusterOptions, ResolvedClusterOptions } from './clusterOptions.ts';
import { primaryClientClass } from './primaryClient.ts';
import { discoverPatroniNodes, Topology } from './topology.ts';
import { diffMembers } from './topologyState.ts';
import { endpointText, parseHostList, type Endpoint } from './topologyUrl.ts';

/** Pause between resolution rounds while no primary is confirmed. */
const RESOLVE_POLL_MS = 100;
/** A call waiting for a new primary stops waiting this long before its deadline, to make its attempt. */
const SETTLE_MARGIN_MS = 250;
/** Patroni's member list is re-read this often (or at the monitor's interval, if longer). */
const MEMBERS_POLL_MS = 1_000;

/** Read candidates to add (a new Patroni member) and to drop (a member gone), by node name. */
export interface MemberChange {
  added: { name: string; url: string }[];
  removed: string[];
}

/** What the Cluster uses of its topology. */
export interface ClusterTopology {
  /** One single-host URL per node (the read candidates). */
  readonly nodeUrls: readonly string[];
  /** The primary lanes' connection class. */
  readonly clientClass: typeof pg.Client;
  primaryUrl(): string;
  /** The replica monitor's hooks: a node seen writable, the primary's probe failing. */
  monitorHooks(names: readonly string[]): { onWritable: (name: string) => void; onPrimaryDown: (error: string) => void };
  /** Calls fn with the new primary's URL on every change after the first resolution. */
  follow(fn: (url: string) => void): void;
  /** With Patroni (and nodes known at start), calls fn whenever its member list changes. */
  watchMembers(fn: (change: MemberChange) => void): void;
  /** Resolves once a primary is confirmed, or after waitMs. */
  ready(waitMs: number): Promise<void>;
  /** attempt, reporting its failures to the topology (25006, a failed primary). */
  watch<T>(attempt: () => Promise<T>): () => Promise<T>;
  /**
   * The primary's breaker as a call until deadline sees it: while the topology resolves, each
   * attempt first waits (up to the deadline) for the new primary, whose breaker is a fresh closed
   * one, instead of failing fast on the open circuit of the node that died.
   */
  gate(breaker: () => Pick<TargetBreaker, 'execute'>, deadline: number): Pick<TargetBreaker, 'execute'>;
  close(): Promise<void>;
}

/** The topology of options' cluster, or undefined for one fixed primary URL. */
export function clusterTopology(options: ClusterOptions, o: ResolvedClusterOptions): ClusterTopology | undefined {
  const patroniUrls = options.patroniUrls ?? [];
  const hosts = parseHostList(options.url);
  if (hosts.endpoints.length < 2 && patroniUrls.length === 0) return undefined;
  const endpoints: readonly Endpoint[] = options.nodes && options.nodes.length > 0 ? options.nodes : hosts.endpoints;
  const topology = new Topology({ endpoints, urlFor: hosts.urlFor, patroniUrls }, { probeTimeoutMs: o.replicas.probeTimeoutMs, pollMs: RESOLVE_POLL_MS });
  void topology.start();
  // Only nodes known up front are read candidates; with Patroni and one host in the URL that is that host.
  const nodeUrls = endpoints.length > 1 ? endpoints.map(hosts.urlFor) : [];
  // The read candidates by name (node1… in the URL's order, then in the order members joined).
  const candidates = new Map<string, Endpoint>(nodeUrls.length > 0 ? endpoints.map((e, i) => [`node${i + 1}`, e]) : []);
  let nextNode = candidates.size + 1;
  let membersTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const pollMembers = async (fn: (change: MemberChange) => void): Promise<void> => {
    try {
      const listed = await discoverPatroniNodes(patroniUrls, o.replicas.probeTimeoutMs);
      if (closed) return;
      const diff = diffMembers([...candidates.values()], listed);
      const change: MemberChange = { added: [], removed: [] };
      for (const e of diff.removed) {
        const name = [...candidates].find(([, c]) => endpointText(c) === endpointText(e))![0];
        candidates.delete(name);
        change.removed.push(name);
      }
      for (const e of diff.added) {
        const name = `node${nextNode++}`;
        candidates.set(name, e);
        change.added.push({ name, url: hosts.urlFor(e) });
      }
      if (change.added.length + change.removed.length > 0) fn(change);
    } catch {
      // Patroni unreachable says nothing about membership: the candidates stay as they are.
    } finally {
      if (!closed) {
        membersTimer = setTimeout(() => void pollMembers(fn), Math.max(MEMBERS_POLL_MS, o.replicas.monitorIntervalMs));
        membersTimer.unref();
      }
    }
  };
  return {
    nodeUrls,
    clientClass: primaryClientClass(topology, o.lanes.default.acquireTimeoutMs),
    primaryUrl: () => topology.primaryUrl(),
    monitorHooks: (names) => ({
      onWritable: (name) => {
        const e = candidates.get(name) ?? endpoints[names.indexOf(name)];
        if (e) topology.noteWritable(e);
      },
      onPrimaryDown: (error) => void topology.suspect(`the monitor's probe of the primary failed: ${error}`),
    }),
    follow: (fn) => {
      // The breaker and the monitor start on the first node (before anything is resolved).
      let following = topology.primaryUrl();
      topology.onChange((p) => {
        const url = hosts.urlFor(p);
        if (url === following) return;
        following = url;
        fn(url);
      });
    },
    watchMembers: (fn) => {
      if (patroniUrls.length === 0 || candidates.size === 0 || membersTimer !== undefined) return;
      membersTimer = setTimeout(() => void pollMembers(fn), Math.max(MEMBERS_POLL_MS, o.replicas.monitorIntervalMs));
      membersTimer.unref();
    },
    ready: async (waitMs) => {
      await topology.waitForPrimary(waitMs).catch(() => undefined);
    },
    watch: (attempt) => () => attempt().catch((e: unknown) => {
      topology.noteFailure(e);
      throw e;
    }),
    gate: (breaker, deadline) => ({
      execute: <T>(fn: () => Promise<T>): Promise<T> => {
        if (topology.primary) return breaker().execute(fn);
        // No primary confirmed: wait for one, leaving time for the attempt; past that, try anyway (it fails on its own terms).
        const waitMs = Math.max(0, deadline - Date.now() - SETTLE_MARGIN_MS);
        return topology.waitForPrimary(waitMs).then(() => breaker().execute(fn), () => breaker().execute(fn));
      },
    }),
    close: () => {
      closed = true;
      clearTimeout(membersTimer);
      return topology.close();
    },
  };
}
