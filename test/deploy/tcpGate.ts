// A TCP forwarder to PostgreSQL that the test can shut: while shut, it resets every open connection
// and refuses new ones (the database "goes away" for one client without stopping the shared server).
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A gate on 127.0.0.1 in front of host:port. */
export interface TcpGate {
  port: number;
  /** Resets open connections and refuses new ones. */
  shut(): void;
  /** Forwards new connections again. */
  open(): void;
  close(): Promise<void>;
}

/** Starts a gate (open) forwarding to host:port. */
export async function startTcpGate(host: string, port: number): Promise<TcpGate> {
  let isOpen = true;
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (!isOpen) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(port, host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as { port: number }).port,
    shut() {
      isOpen = false;
      for (const s of sockets) s.resetAndDestroy();
    },
    open() {
      isOpen = true;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
