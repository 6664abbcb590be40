// Sends PostgreSQL's CancelRequest for a connection's running statement (the protocol's own
// out-of-band cancel, which PgBouncer forwards too), so a caller's deadline also stops the server.
import net from 'node:net';
import type pg from 'pg';

const CANCEL_REQUEST_CODE = 80877102;

/** Fire-and-forget cancel of whatever client is running now; never throws, never waits long. */
export function sendCancel(client: pg.PoolClient, timeoutMs = 1_000): void {
  // node-postgres keeps the BackendKeyData on the client but does not type it.
  const c = client as unknown as { processID?: number; secretKey?: number; host?: string; port?: number };
  if (c.processID === undefined || c.secretKey === undefined) return;
  const msg = Buffer.alloc(16);
  msg.writeInt32BE(16, 0);
  msg.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  msg.writeInt32BE(c.processID, 8);
  msg.writeInt32BE(c.secretKey, 12);
  const socket = c.host?.startsWith('/')
    ? net.connect(`${c.host}/.s.PGSQL.${c.port ?? 5432}`)
    : net.connect(c.port ?? 5432, c.host ?? '127.0.0.1');
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('connect', () => socket.end(msg));
}
