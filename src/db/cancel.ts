// Sends PostgreSQL's CancelRequest for a connection's running statement (the protocol's own
// out-of-band cancel, which PgBouncer forwards too), so a caller's deadline also stops the server;
// whether the server answered it tells a slow statement from a frozen server.
import net from 'node:net';
import type pg from 'pg';
import { backendKey } from './backendKey.ts';

const CANCEL_REQUEST_CODE = 80877102;

/**
 * Sends a cancel for whatever client is running now; never throws. Resolves true once the server
 * has taken the request (it closes the cancel connection), false when it did not within timeoutMs
 * or refused it: an unresponsive target.
 */
export function sendCancel(client: pg.PoolClient, timeoutMs = 1_000): Promise<boolean> {
  const c = backendKey(client);
  if (c === undefined) return Promise.resolve(true);
  const msg = Buffer.alloc(16);
  msg.writeInt32BE(16, 0);
  msg.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  msg.writeInt32BE(c.processID, 8);
  msg.writeInt32BE(c.secretKey, 12);
  return new Promise((resolve) => {
    const socket = c.host?.startsWith('/')
      ? net.connect(`${c.host}/.s.PGSQL.${c.port ?? 5432}`)
      : net.connect(c.port ?? 5432, c.host ?? '127.0.0.1');
    let answered = false;
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('connect', () => socket.end(msg));
    // PostgreSQL closes the connection once it has handled the request.
    socket.on('end', () => (answered = true));
    socket.on('close', () => resolve(answered));
  });
}
