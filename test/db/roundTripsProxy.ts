// A TCP proxy in front of PostgreSQL that counts round trips: a "turn" is a flight of bytes from
// the client that follows an answer from the server (or opens the connection), however many TCP
// segments it took. It can also drop the server's answer to the client's next flight (the
// message reached the server, its answer is lost): a write in doubt, on demand.
import net from 'node:net';
import { after } from 'node:test';

/** A counting proxy; url() re-targets a PostgreSQL URL at it. */
export interface TurnProxy {
  port: number;
  /** Client flights since the last reset(). */
  turns: number;
  /** Protocol messages the clients sent since the last reset(), by type byte (P Parse, B Bind, D Describe, E Execute, S Sync, Q Query …). */
  messages: Record<string, number>;
  reset(): void;
  /** The next client flight is forwarded, then every connection is cut before the server's answer reaches the client. */
  cutAfterNextFlight(): void;
  url(pgUrl: string): string;
  close(): Promise<void>;
}

/** Starts a proxy to 127.0.0.1:targetPort; closed after the file. */
export async function turnProxy(targetPort: number): Promise<TurnProxy> {
  const sockets = new Set<net.Socket>();
  let cutArmed = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let serverSpoke = true; // the first flight opens the connection
    let cutting = false;
    const countMessages = messageCounter();
    client.on('data', (b) => {
      countMessages(b, p.messages);
      if (serverSpoke) p.turns++;
      serverSpoke = false;
      if (cutArmed) {
        cutArmed = false;
        cutting = true;
      }
      upstream.write(b);
    });
    upstream.on('data', (b) => {
      serverSpoke = true;
      if (cutting) {
        // The server answered (the message ran); the client never hears it.
        client.destroy();
        setTimeout(() => upstream.destroy(), 200);
        return;
      }
      client.write(b);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', () => { if (!cutting) end(); });
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const p: TurnProxy = {
    port,
    turns: 0,
    messages: {},
    reset: () => {
      p.turns = 0;
      p.messages = {};
    },
    cutAfterNextFlight: () => void (cutArmed = true),
    url: (pgUrl) => {
      const u = new URL(pgUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  after(() => p.close());
  return p;
}

/** Counts a client's protocol messages by type across TCP segments: the first (start-up) message has no type byte. */
function messageCounter(): (chunk: Buffer, into: Record<string, number>) => void {
  let pending = Buffer.alloc(0);
  let started = false;
  return (chunk, into) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const header = started ? 5 : 4;
      if (pending.length < header) return;
      const length = pending.readInt32BE(started ? 1 : 0) + (started ? 1 : 0);
      if (pending.length < length) return;
      if (started) {
        const type = String.fromCharCode(pending[0]!);
        into[type] = (into[type] ?? 0) + 1;
      }
      started = true;
      pending = pending.subarray(length);
    }
  };
}
