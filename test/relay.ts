/**
 * A TCP relay in front of a real service (PostgreSQL, Redis), so that a test can cut the link as
 * a network failure would, without stopping the service other tests use, and mend it again.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Relay {
  /** The port to connect to instead of the service's. */
  port: number;
  /** Resets every connection through the relay, and refuses new ones. */
  cut(): Promise<void>;
  /** Takes connections again, on the same port. */
  mend(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpRelay(host: string, targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const listen = async (port: number): Promise<Server> => {
    const server = createServer((client) => {
      const upstream = connect(targetPort, host);
      track(client);
      track(upstream);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return server;
  };
  let server: Server | undefined = await listen(0);
  const { port } = server.address() as { port: number };
  const cut = async () => {
    const closing = server && new Promise((resolve) => server?.close(resolve));
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    await closing;
  };
  return {
    port,
    cut,
    async mend() {
      server ??= await listen(port);
    },
    close: cut,
  };
}
