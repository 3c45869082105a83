/**
 * A loopback TCP relay in front of a real kube-apiserver, so a test can make the API unreachable
 * (connections refused, open ones cut) and reachable again on the same address, without restarting
 * the server. TLS passes through untouched: the serving certificate is for 127.0.0.1 either way.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ReachabilityProxy {
  port: number;
  reachable: boolean;
  setReachable(reachable: boolean): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startReachabilityProxy(targetPort: number): Promise<ReachabilityProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await listen(server, 0);
  const port = (server.address() as { port: number }).port;

  const stopListening = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const proxy: ReachabilityProxy = {
    port,
    reachable: true,
    async setReachable(reachable) {
      if (reachable === proxy.reachable) return;
      if (reachable) await listen(server, port);
      else await stopListening();
      proxy.reachable = reachable;
    },
    close: stopListening,
  };
  return proxy;
}
