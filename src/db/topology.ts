// Finds the writable node of a PostgreSQL cluster and follows it: from the hosts of a libpq
// multi-host URL (each probed with pg_is_in_recovery()) or from Patroni's REST API (the leader of
// GET /cluster, confirmed writable the same way). A write that met 25006, a failed connection to
// the primary or a change the replica monitor saw makes it resolve again, polling until a node is
// confirmed; callers opening a primary connection meanwhile wait (bounded) for the answer.
import { PgpressError, sqlstateOf } from '../errors/index.ts';
import { unwrapAttempt } from './attempt.ts';
import { ProbeClient } from './probeClient.ts';
import { isTargetFailure } from './retryPolicy.ts';
import { choosePrimary, initialTopology, nextTopology, type NodeProbe, type Resolution, type TopologyState } from './topologyState.ts';
import { endpointText, parseHostList, type Endpoint } from './topologyUrl.ts';

/** Where the nodes are and who says which one leads. */
export interface TopologySource {
  endpoints: readonly Endpoint[];
  urlFor(e: Endpoint): string;
  /** Patroni REST endpoints; when given, only Patroni's leader can be the primary. */
  patroniUrls?: readonly string[] | undefined;
}

/** How patiently to probe. */
export interface TopologyOptions {
  /** One probe (SQL or HTTP) gives up after this long. */
  probeTimeoutMs: number;
  /** Pause between resolution rounds while no primary is confirmed. */
  pollMs: number;
}

const RECOVERY = 'SELECT pg_is_in_recovery() AS standby';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A member of Patroni's GET /cluster answer (the fields we read). */
interface PatroniMember {
  name?: string;
  role?: string;
  state?: string;
  host?: string;
  port?: number;
}

/** The cluster's members as the first Patroni endpoint that answers reports them. */
export async function patroniMembers(apiUrls: readonly string[], timeoutMs: number): Promise<PatroniMember[]> {
  const problems: string[] = [];
  for (const api of apiUrls) {
    try {
      const res = await fetch(`${api}/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.json()) as { members?: PatroniMember[] };
      if (res.ok && Array.isArray(body.members)) return body.members;
      problems.push(`${api}: HTTP ${res.status}`);
    } catch (e) {
      problems.push(`${api}: ${(e as Error).message}`);
    }
  }
  throw new PgpressError('PGP_DB_UNAVAILABLE', `No Patroni endpoint answered GET /cluster (${problems.join('; ')}).`, { pg: { sqlstate: '08001' } });
}

const memberEndpoint = (m: PatroniMember): Endpoint | undefined => (m.host && m.port ? { host: m.host, port: Number(m.port) } : undefined);

/** The nodes of a Patroni cluster (PATRONI_URLS), for a Cluster's `nodes` option. */
export async function discoverPatroniNodes(apiUrls: readonly string[], timeoutMs = 2_000): Promise<Endpoint[]> {
  const members = await patroniMembers(apiUrls, timeoutMs);
  return members.map(memberEndpoint).filter((e): e is Endpoint => e !== undefined);
}

/** A Cluster's Patroni options from PATRONI_URLS (none when the list is empty): the endpoints and the members found now. */
export async function patroniClusterOptions(apiUrls: readonly string[]): Promise<{ patroniUrls?: readonly string[]; nodes?: Endpoint[] }> {
  return apiUrls.length > 0 ? { patroniUrls: apiUrls, nodes: await discoverPatroniNodes(apiUrls) } : {};
}

/** The current primary of a cluster, found and followed. */
export class Topology {
  private state: TopologyState = initialTopology();
  private readonly probes: Map<string, ProbeClient>;
  private loop: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private readonly listeners: ((primary: Endpoint) => void)[] = [];
  private closed = false;

  constructor(
    readonly source: TopologySource,
    private readonly opts: TopologyOptions,
  ) {
    this.probes = new Map(source.endpoints.map((e) => [endpointText(e), new ProbeClient(source.urlFor(e), opts.probeTimeoutMs)]));
  }

  /** The confirmed primary, or undefined while none is. */
  get primary(): Endpoint | undefined {
    return this.state.resolving ? undefined : this.state.primary;
  }

  /** Counts primary changes (0 before the first is found). */
  get generation(): number {
    return this.state.generation;
  }

  /** The primary's URL (the last one known, or the first node before any is): for health and probes. */
  primaryUrl(): string {
    return this.source.urlFor(this.state.primary ?? this.source.endpoints[0]!);
  }

  /** Calls fn with the new primary whenever it changes (also the first time one is found). */
  onChange(fn: (primary: Endpoint) => void): void {
    this.listeners.push(fn);
  }

  /** Starts resolving (the first time, or again after a suspect event). */
  start(): Promise<void> {
    return this.suspect('start');
  }

  /** Something suggests the primary moved: resolve again (one resolution at a time). */
  suspect(reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.state = nextTopology(this.state, { kind: 'suspect', reason }).state;
    return (this.loop ??= this.resolveLoop().finally(() => {
      this.loop = undefined;
    }));
  }

  /** Looks at a failed primary call: 25006 (read-only) or a target failure makes the topology suspect. */
  noteFailure(raw: unknown): void {
    const { error } = unwrapAttempt(raw);
    if (sqlstateOf(error) === '25006') void this.suspect('a write met 25006 (read_only_sql_transaction)');
    else if (isTargetFailure(error)) void this.suspect(`the primary failed: ${(error as Error).message}`);
  }

  /** The monitor saw node `url` accept writes: if it is not the primary we know, resolve again. */
  noteWritable(e: Endpoint): void {
    const p = this.state.primary;
    if (p === undefined || p.host !== e.host || p.port !== e.port) void this.suspect(`${endpointText(e)} accepts writes`);
  }

  /** The confirmed primary, waiting up to waitMs for a resolution under way; PGP_DB_UNAVAILABLE (08001, nothing sent) when none comes. */
  async waitForPrimary(waitMs: number): Promise<Endpoint> {
    const until = Date.now() + waitMs;
    for (;;) {
      const p = this.primary;
      if (p) return p;
      const left = until - Date.now();
      if (left <= 0 || this.closed) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.waiters.push(r)),
        new Promise<void>((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
    throw new PgpressError('PGP_DB_UNAVAILABLE', `No primary confirmed within ${waitMs} ms: ${this.state.lastReason ?? 'closed'}. Nothing was sent.`, { pg: { sqlstate: '08001' } });
  }

  private async resolveLoop(): Promise<void> {
    while (!this.closed && this.state.resolving) {
      const resolution = await this.round();
      if (this.closed) break;
      const { state, changed } = nextTopology(this.state, { kind: 'resolved', resolution });
      this.state = state;
      if (changed && state.primary) for (const fn of this.listeners) fn(state.primary);
      if (!state.resolving) {
        for (const w of this.waiters.splice(0)) w();
        break;
      }
      await sleep(this.opts.pollMs);
    }
  }

  /** One round: with Patroni, its leader checked with SQL; without, every node checked. */
  private async round(): Promise<Resolution> {
    if (this.source.patroniUrls && this.source.patroniUrls.length > 0) {
      let leader: Endpoint | undefined;
      try {
        const members = await patroniMembers(this.source.patroniUrls, this.opts.probeTimeoutMs);
        const m = members.find((x) => x.role === 'leader' && x.state === 'running');
        leader = m ? memberEndpoint(m) : undefined;
      } catch (e) {
        return { kind: 'none', reason: (e as Error).message };
      }
      return choosePrimary(leader ? [await this.probe(leader)] : [], { leader });
    }
    return choosePrimary(await Promise.all(this.source.endpoints.map((e) => this.probe(e))));
  }

  private async probe(endpoint: Endpoint): Promise<NodeProbe> {
    const key = endpointText(endpoint);
    let probe = this.probes.get(key);
    if (!probe) this.probes.set(key, (probe = new ProbeClient(this.source.urlFor(endpoint), this.opts.probeTimeoutMs)));
    try {
      const [row] = await probe.query<{ standby: boolean }>(RECOVERY);
      return { endpoint, writable: row?.standby === false };
    } catch (e) {
      return { endpoint, error: (e as Error).message };
    }
  }

  /** Stops resolving and closes the probe connections. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await this.loop?.catch(() => undefined);
    for (const p of this.probes.values()) p.discard();
  }
}

/**
 * The primary's single-host URL for what needs one connection to it now (migrations at start, the
 * scheduler's lock): url itself when it names one host and no Patroni endpoints are given.
 */
export async function resolvePrimaryUrl(url: string, patroniUrls: readonly string[] = [], waitMs = 30_000): Promise<string> {
  const hosts = parseHostList(url);
  if (hosts.endpoints.length < 2 && patroniUrls.length === 0) return url;
  const topology = new Topology({ endpoints: hosts.endpoints, urlFor: hosts.urlFor, patroniUrls }, { probeTimeoutMs: 2_000, pollMs: 200 });
  void topology.start();
  try {
    return hosts.urlFor(await topology.waitForPrimary(waitMs));
  } finally {
    await topology.close();
  }
}

/** How a long-lived single connection finds the primary: afresh on each (re)connect. */
export type PrimaryUrlSource = (waitMs: number) => Promise<string>;

/**
 * A source of the primary's single-host URL for a dedicated connection that must follow failovers
 * (the cache's change feed, the scheduler's lock): url itself when it names one host and no Patroni
 * endpoints are given; otherwise each call resolves the topology anew (probing every node, or
 * asking Patroni), so a reconnect after a failover reaches the promoted node, not the dead one.
 */
export function primaryUrlSource(url: string, patroniUrls: readonly string[] = []): PrimaryUrlSource {
  if (parseHostList(url).endpoints.length < 2 && patroniUrls.length === 0) return () => Promise.resolve(url);
  return (waitMs) => resolvePrimaryUrl(url, patroniUrls, waitMs);
}
