// A dedicated, self-healing connection for health probes: every probe is bounded by a timeout,
// and a probe that times out (a stopped or frozen server) discards the connection.
import pg from 'pg';

/** One server's probe connection. */
export class ProbeClient {
  private client: pg.Client | undefined;
  private uses = 0;

  /** reconnectEvery: open a fresh connection every n probes, so a server that still answers on old
   *  connections but accepts no new ones (a stopped postmaster) is noticed too. */
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly reconnectEvery = 10,
  ) {}

  /** Runs one statement within the timeout; throws on failure or timeout. */
  async query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    let timer: NodeJS.Timeout | undefined;
    if (++this.uses % this.reconnectEvery === 0) this.discard();
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`probe timed out after ${this.timeoutMs}ms`), { code: 'ETIMEDOUT' })), this.timeoutMs);
      });
      const c = this.client ?? (await Promise.race([this.open(), timeout]));
      const result = await Promise.race([c.query<R>(text, params), timeout]);
      return result.rows;
    } catch (e) {
      this.discard();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private async open(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.timeoutMs, application_name: 'pgpress-monitor' });
    c.on('error', () => {
      if (this.client === c) this.discard();
    });
    this.client = c;
    await c.connect();
    return c;
  }

  /** Drops the connection without waiting for a server that may not answer. */
  discard(): void {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    c.end().catch(() => undefined);
    (c as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
  }
}
