// Resource figures sampled once a second while a scenario runs, for the report: the bench
// servers' CPU and memory (this process's when a scenario runs no server: a library scenario),
// the scratch databases' connections and buffer cache hit ratio (pg_stat_activity,
// pg_stat_database), and replica lag in bytes of WAL (pg_stat_replication on each primary a
// scenario registers; 0 while none has a replica).
import pg from 'pg';
import { benchAdminUrl, liveBenchDatabases } from './benchDatabase.ts';
import { runningServers } from './httpLoad.ts';

/** Per-second resource figures; x values are Unix seconds, NaN where a figure was not available. */
export interface ResourceSeries {
  t: number[];
  /** CPU of the bench servers (or this process), % of one core. */
  cpuPercent: number[];
  /** Resident memory of the bench servers (or this process), MiB. */
  rssMb: number[];
  /** Connections to the scratch databases. */
  connections: number[];
  /** Shared-buffer hits ÷ block requests in the second (the last value when no block was read). */
  cacheHitRatio: number[];
  /** Largest replay lag of any streaming replica of a registered primary, bytes of WAL. */
  replicaLagBytes: number[];
  /** What the CPU and memory figures are of. */
  cpuOf: string;
}

const lagPrimaries = new Set<string>();

/** Registers a primary whose replicas' lag the sampler reads (the replicas scenario's clusters). */
export function watchReplicaLag(primaryUrl: string): () => void {
  lagPrimaries.add(primaryUrl);
  return () => void lagPrimaries.delete(primaryUrl);
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Samples every intervalMs until stop() is called; stop() resolves with the series. */
export function startSampler(intervalMs = 1000): { stop: () => Promise<ResourceSeries> } {
  const out: ResourceSeries = { t: [], cpuPercent: [], rssMb: [], connections: [], cacheHitRatio: [], replicaLagBytes: [], cpuOf: 'bench process' };
  let stopped = false;
  const admin = new pg.Client({ connectionString: benchAdminUrl(), application_name: 'pgpress bench sampler' });
  admin.on('error', () => undefined);
  const connected = admin.connect().then(() => true, () => false);
  let last: { wall: number; cpu: number; hit: number; read: number; servers: string } | undefined;
  let lastRatio = Number.NaN;

  const sample = async (): Promise<void> => {
    const servers = runningServers();
    const key = servers.map((s) => s.url).join(' ');
    let cpu = 0;
    let rss = 0;
    try {
      if (servers.length > 0) {
        for (const s of servers) {
          cpu += s.cpuMs();
          rss += s.rssMb();
        }
        out.cpuOf = 'bench servers';
      } else {
        cpu = ownCpuMs();
        rss = process.memoryUsage.rss() / 1048576;
      }
    } catch {
      return; // a server exited between the listing and the read
    }
    let connections = Number.NaN;
    let hit = 0;
    let read = 0;
    if (await connected) {
      const dbs = liveBenchDatabases();
      const r = await admin
        .query<{ n: string; hit: string; read: string }>(
          `SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = ANY($1::text[])) AS n,
                  coalesce(sum(blks_hit), 0) AS hit, coalesce(sum(blks_read), 0) AS read
             FROM pg_stat_database WHERE datname = ANY($1::text[])`,
          [dbs],
        )
        .catch(() => undefined);
      if (r) {
        connections = Number(r.rows[0]!.n);
        hit = Number(r.rows[0]!.hit);
        read = Number(r.rows[0]!.read);
      }
    }
    let lag = 0;
    for (const url of lagPrimaries) lag = Math.max(lag, await replicaLag(url));
    const wall = performance.now();
    // A server that started or stopped changes what the CPU counter sums: no CPU point across it.
    const cpuPercent = last && last.servers === key ? (100 * (cpu - last.cpu)) / (wall - last.wall) : Number.NaN;
    if (last) {
      const dh = hit - last.hit;
      const dr = read - last.read;
      if (dh + dr > 0) lastRatio = dh / (dh + dr);
    }
    last = { wall, cpu, hit, read, servers: key };
    out.t.push(Date.now() / 1000);
    out.cpuPercent.push(round1(cpuPercent));
    out.rssMb.push(round1(rss));
    out.connections.push(connections);
    out.cacheHitRatio.push(Math.round(lastRatio * 10000) / 10000);
    out.replicaLagBytes.push(lag);
  };

  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      await sample().catch(() => undefined);
      await new Promise((ok) => setTimeout(ok, Math.max(0, intervalMs - (performance.now() - t))));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      await sample().catch(() => undefined); // a scenario shorter than a second still gets a point
      await admin.end().catch(() => undefined);
      return out;
    },
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function replicaLag(primaryUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: primaryUrl });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const { rows } = await c.query<{ lag: string | null }>('SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::bigint::text AS lag FROM pg_stat_replication');
    return Number(rows[0]?.lag ?? 0);
  } catch {
    return Number.NaN;
  } finally {
    await c.end().catch(() => undefined);
  }
}
