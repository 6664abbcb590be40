// A TCP proxy in front of PostgreSQL that adds a fixed delay to every flight from the client: a
// network round trip as a real network has one (loopback's is tens of µs, where a write's round
// trips are a small share of its time). Bytes keep their order (timers of one delay fire in order).
// Node's timers have 1 ms resolution: `delayMs` is a floor, each round trip takes at least that.
import net from 'node:net';

/** A running delay proxy; url() re-targets a PostgreSQL URL at it. */
export interface DelayProxy {
  url(pgUrl: string): string;
  close(): Promise<void>;
}

/** Starts a proxy to the host and port of pgUrl that delays client → server bytes by delayMs. */
export async function delayProxy(pgUrl: string, delayMs: number): Promise<DelayProxy> {
  const target = new URL(pgUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    client.on('data', (b) => void setTimeout(() => upstream.write(b), delayMs));
    upstream.on('data', (b) => client.write(b));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: (u) => {
      const x = new URL(u);
      x.hostname = '127.0.0.1';
      x.port = String(port);
      return x.toString();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
