// The connection class of the primary lanes when the cluster has several nodes: each new
// connection goes to the node the topology confirmed as primary (waiting, bounded, while it
// resolves) and checks pg_is_in_recovery() before any statement of the caller is sent, so no
// write ever reaches a standby through a fresh connection; a standby found there makes the topology
// resolve again and fails the connect as 'nothing sent' (retried by the connection rule).
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import type { Topology } from './topology.ts';
import { endpointText } from './topologyUrl.ts';

const RECOVERY = 'SELECT pg_is_in_recovery() AS standby';

/** A pg.Client class (for pg.Pool's `Client` option) bound to topology; waitMs bounds the wait for a primary. */
export function primaryClientClass(topology: Topology, waitMs: number): typeof pg.Client {
  class PrimaryClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
      const done = this.connectToPrimary();
      if (!callback) return done;
      const cb = callback as (err: Error | null, c?: pg.Client) => void;
      done.then((c) => cb(null, c), (e: Error) => cb(e));
    }

    private async connectToPrimary(): Promise<pg.Client> {
      const primary = await topology.waitForPrimary(waitMs);
      // host and port are pg.Client's public connection fields, read when the socket connects.
      this.host = primary.host;
      this.port = primary.port;
      await super.connect();
      let standby: boolean | undefined;
      try {
        standby = (await super.query<{ standby: boolean }>(RECOVERY)).rows[0]?.standby;
      } catch (e) {
        await this.end().catch(() => undefined);
        throw e;
      }
      if (standby !== false) {
        void topology.suspect(`${endpointText(primary)} is in recovery`);
        await this.end().catch(() => undefined);
        throw new PgpressError('PGP_DB_UNAVAILABLE', `${endpointText(primary)} is no longer the primary (it is in recovery); finding the new one. Nothing was sent.`, { pg: { sqlstate: '08001' } });
      }
      return this;
    }
  }
  return PrimaryClient;
}
