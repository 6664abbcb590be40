// The background monitor: every interval it reads the primary's WAL position and each replica's
// replay position, turns them into a lag in milliseconds, and updates rotation (replicaSet.ts).
import { isLsn, parseLsn } from './lsn.ts';
import { ProbeClient } from './probeClient.ts';
import { applyProbe, newReplicaStatus, type ReplicaStatus, type RotationOptions } from './replicaSet.ts';

/** How often and how patiently to probe. */
export interface MonitorOptions extends RotationOptions {
  intervalMs: number;
  probeTimeoutMs: number;
  /** A candidate answered pg_is_in_recovery() = false (with a topology: maybe a new primary). */
  onWritable?: ((name: string) => void) | undefined;
  /** The primary's probe failed. */
  onPrimaryDown?: ((error: string) => void) | undefined;
}

/** The primary as the monitor sees it. */
export interface PrimaryStatus {
  reachable: boolean | undefined;
  currentLsn: bigint | undefined;
  lastError: string | undefined;
}

const PRIMARY_LSN = 'SELECT pg_current_wal_lsn()::text AS lsn';
const REPLICA_LSN = 'SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn';

/**
 * Lag in ms = time since the primary first reported a position beyond the replica's replay
 * position (0 when caught up). Samples of the primary's position are kept for that.
 */
export class ReplicaMonitor {
  readonly primary: PrimaryStatus = { reachable: undefined, currentLsn: undefined, lastError: undefined };
  readonly replicas: ReplicaStatus[];
  private readonly samples: { at: number; lsn: bigint }[] = [];
  private primaryProbe: ProbeClient;
  private readonly replicaProbes: ProbeClient[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The highest commit position this process saw (may be newer than the last sample). */
  private committed: bigint | undefined;
  /** boundToken() callers waiting for the next round's sample of the primary. */
  private roundWaiters: (() => void)[] = [];
  /** Successful samples of the primary's position so far. */
  private primarySamples = 0;

  constructor(
    primaryUrl: string,
    replicas: readonly { name: string; url: string }[],
    private readonly opts: MonitorOptions,
  ) {
    this.primaryProbe = new ProbeClient(primaryUrl, opts.probeTimeoutMs);
    this.replicaProbes = replicas.map((r) => new ProbeClient(r.url, opts.probeTimeoutMs));
    this.replicas = replicas.map((r) => newReplicaStatus(r.name));
  }

  /** Starts probing (first probe at once); resolves after the first round. */
  async start(): Promise<void> {
    await this.tick();
  }

  /** One round of probes; then schedules the next. */
  private tick(): Promise<void> {
    return this.round().finally(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.tick(), this.opts.intervalMs);
      this.timer.unref();
    });
  }

  // One round at a time: callers arriving during a round share it (concurrent rounds would
  // race on the probe connections and could mark a healthy replica down).
  private round(): Promise<void> {
    return (this.running ??= this.probeAll().finally(() => {
      this.running = undefined;
    }));
  }

  /** Probes now, or joins the round under way (tests, health and `doctor` use it for a fresh picture). */
  async refresh(): Promise<void> {
    await this.round();
  }

  /** Probes the primary at url from now on (the topology named a new one). */
  setPrimary(url: string): void {
    this.primaryProbe.discard();
    this.primaryProbe = new ProbeClient(url, this.opts.probeTimeoutMs);
  }

  /** Starts probing a replica that joined later (a new Patroni member): in rotation after the rejoin period. */
  addReplica(name: string, url: string): ReplicaStatus {
    const status = newReplicaStatus(name, true);
    // Both arrays change together and only between rounds' synchronous starts: a round in flight keeps its own pairs.
    this.replicas.push(status);
    this.replicaProbes.push(new ProbeClient(url, this.opts.probeTimeoutMs));
    return status;
  }

  /** Stops probing a replica that left (no longer a Patroni member); false when it was not known. */
  removeReplica(name: string): boolean {
    const i = this.replicas.findIndex((r) => r.name === name);
    if (i < 0) return false;
    this.replicas[i]!.inRotation = false;
    this.replicas.splice(i, 1);
    this.replicaProbes.splice(i, 1)[0]!.discard();
    return true;
  }

  /** Records the WAL position of a commit this process saw (the primary has reached it). */
  noteCommit(lsn: string): void {
    if (!isLsn(lsn)) return;
    const n = parseLsn(lsn);
    if (this.committed === undefined || n > this.committed) this.committed = n;
  }

  /**
   * token, or the primary's WAL position when token lies beyond it: a token no commit ever reached
   * (forged, or from another timeline) would make every read poll replicas, then use the primary.
   * A token beyond the last sample may be a commit made since, so it is judged against the next
   * round's sample, which the monitor takes anyway (no extra round trip); waits at most waitMs and
   * leaves the token as it is when no newer sample came.
   */
  async boundToken(token: bigint, waitMs: number): Promise<bigint> {
    const known = this.knownPrimaryLsn();
    if (known !== undefined && token <= known) return token;
    if (this.stopped || waitMs <= 0) return token;
    const samplesBefore = this.primarySamples;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.roundWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
    const after = this.knownPrimaryLsn();
    return this.primarySamples !== samplesBefore && after !== undefined && token > after ? after : token;
  }

  private knownPrimaryLsn(): bigint | undefined {
    const probed = this.primary.currentLsn;
    if (probed === undefined) return this.committed;
    return this.committed !== undefined && this.committed > probed ? this.committed : probed;
  }

  private async probeAll(): Promise<void> {
    // Taken before the primary's sample: only callers waiting since before it are answered by it.
    const waiters = this.roundWaiters.splice(0);
    try {
      await this.probeRound();
    } finally {
      for (const w of waiters) w();
    }
  }

  private async probeRound(): Promise<void> {
    try {
      const [row] = await this.primaryProbe.query<{ lsn: string }>(PRIMARY_LSN);
      const lsn = parseLsn(row!.lsn);
      Object.assign(this.primary, { reachable: true, currentLsn: lsn, lastError: undefined });
      this.primarySamples++;
      const last = this.samples[this.samples.length - 1];
      if (!last || last.lsn !== lsn) this.samples.push({ at: Date.now(), lsn });
    } catch (e) {
      Object.assign(this.primary, { reachable: false, lastError: (e as Error).message });
      this.opts.onPrimaryDown?.((e as Error).message);
    }
    await Promise.all(this.replicas.map((r, i) => this.probeReplica(r, this.replicaProbes[i]!)));
    this.trimSamples();
  }

  private async probeReplica(r: ReplicaStatus, probe: ProbeClient): Promise<void> {
    const now = Date.now();
    try {
      const [row] = await probe.query<{ standby: boolean; lsn: string | null }>(REPLICA_LSN);
      if (row?.standby === false) this.opts.onWritable?.(r.name);
      if (!row?.standby || row.lsn === null) throw new Error('not a streaming standby (pg_is_in_recovery() is false or nothing replayed)');
      const replay = parseLsn(row.lsn);
      applyProbe(r, { ok: true, replayLsn: replay, lagMs: this.lagFor(replay, now) }, this.opts, now);
    } catch (e) {
      applyProbe(r, { ok: false, error: (e as Error).message }, this.opts, now);
    }
  }

  /** Milliseconds since the primary first stood beyond replay (0 if caught up with the last sample). */
  lagFor(replay: bigint, now: number = Date.now()): number {
    const first = this.samples.find((s) => s.lsn > replay);
    return first ? now - first.at : 0;
  }

  /** Records a replay position seen by a read (fresher than the last probe). */
  noteReplay(r: ReplicaStatus, replay: bigint): void {
    if (r.replayLsn === undefined || replay > r.replayLsn) r.replayLsn = replay;
  }

  // Keep samples no replica still needs, plus enough history to measure lag past the bound.
  private trimSamples(): void {
    const keepFrom = Date.now() - this.opts.maxLagMs * 4 - this.opts.intervalMs * 4;
    const oldestReplay = this.replicas.reduce<bigint | undefined>((m, r) => (r.replayLsn !== undefined && (m === undefined || r.replayLsn < m) ? r.replayLsn : m), undefined);
    while (this.samples.length > 2) {
      const s = this.samples[0]!;
      const second = this.samples[1]!;
      // Dropping s is safe when no replica is behind it... or it is simply too old to matter.
      if (s.at < keepFrom || (oldestReplay !== undefined && second.lsn <= oldestReplay)) this.samples.shift();
      else break;
    }
  }

  /** Stops probing and closes probe connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.roundWaiters.splice(0)) w();
    await this.running?.catch(() => undefined);
    this.primaryProbe.discard();
    for (const p of this.replicaProbes) p.discard();
  }
}
