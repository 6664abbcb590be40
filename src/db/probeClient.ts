// A dedicated, self-healing connection for health probes: every probe is bounded by a timeout, and
// a probe that times out or loses its connection discards that connection — never one another
// probe is using — so concurrent probe rounds cannot fail each other.
import net from 'node:net';
import pg from 'pg';

/** One connection; destroy() closes its socket (ours, handed to pg through its public `stream` option). */
interface ProbeConnection {
  client: pg.Client;
  destroy(): void;
  /** Resolves when the last queued statement has settled: probes run one at a time on it. */
  tail: Promise<unknown>;
}

/** One server's probe connection. */
export class ProbeClient {
  private conn: ProbeConnection | undefined;
  private uses = 0;
  private inFlight = 0;

  /** reconnectEvery: open a fresh connection every n probes, so a server that still answers on old
   *  connections but accepts no new ones (a stopped postmaster) is noticed too. */
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly reconnectEvery = 10,
  ) {}

  /** Runs one statement within the timeout; throws on failure or timeout. */
  async query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    // Rotate only between probes: ending the connection under another round's probe would fail it
    // and take a healthy server out of rotation.
    if (++this.uses >= this.reconnectEvery && this.inFlight === 0) {
      this.uses = 0;
      if (this.conn) this.drop(this.conn);
    }
    const conn = (this.conn ??= this.open());
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`probe timed out after ${this.timeoutMs}ms`), { code: 'ETIMEDOUT' })), this.timeoutMs);
      });
      // One statement at a time per connection (pg deprecates overlapping client.query calls).
      const run = conn.tail.then(() => conn.client.query<R>(text, params));
      conn.tail = run.catch(() => undefined);
      const result = await Promise.race([run, timeout]);
      return result.rows;
    } catch (e) {
      // The server answered with an error: the connection itself is fine and stays.
      if (!(e instanceof pg.DatabaseError)) this.drop(conn);
      throw e;
    } finally {
      this.inFlight--;
      clearTimeout(timer);
    }
  }

  private open(): ProbeConnection {
    let socket: net.Socket | undefined;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.timeoutMs,
      application_name: 'pgpress-monitor',
      stream: () => (socket = new net.Socket()),
    });
    // The first probe on it waits for the connect; a failed connect fails every probe queued behind it.
    const ready = client.connect();
    ready.catch(() => undefined); // a rotation may drop it before any probe awaits it
    const conn: ProbeConnection = { client, destroy: () => socket?.destroy(), tail: ready };
    client.on('error', () => this.drop(conn));
    return conn;
  }

  // Ends conn without waiting for a server that may not answer; the current one only if it is conn.
  private drop(conn: ProbeConnection): void {
    if (this.conn === conn) this.conn = undefined;
    conn.client.end().catch(() => undefined);
    conn.destroy();
  }

  /** Drops the connection without waiting for a server that may not answer. */
  discard(): void {
    if (this.conn) this.drop(this.conn);
  }
}
