import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/**
 * A server that can stop listening and listen again on the same port: how a cluster's API
 * becomes unreachable (clients get ECONNREFUSED, open streams are cut) and then comes back.
 */
export class ReopenableServer {
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private listening = false;

  constructor(
    readonly server: Server,
    readonly host: string,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get boundPort(): number {
    return this.port;
  }

  get isListening(): boolean {
    return this.listening;
  }

  async listen(port = this.port): Promise<number> {
    if (this.listening) return this.port;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.listening = true;
    return this.port;
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }
}
