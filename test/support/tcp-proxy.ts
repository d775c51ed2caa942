/**
 * A TCP proxy in front of a server (the test MariaDB), so a test can take the server away without touching it:
 * - `close()` refuses new connections and cuts the open ones, as a database that went down; `open()` listens
 *   again on the same port, as one that came back;
 * - `freeze()` stops forwarding without closing anything, as a server that hangs or a network that drops every
 *   packet (connections stay open, new ones are accepted); `thaw()` delivers what was held back.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  open(): Promise<void>;
  close(): Promise<void>;
  freeze(): void;
  thaw(): void;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (data) => {
      if (frozen) held.push(() => to.destroyed || to.write(data));
      else to.write(data);
    });
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
          sockets.add(socket);
          forward(socket, other);
          socket.on('error', () => other.destroy());
          socket.on('close', () => {
            sockets.delete(socket);
            other.destroy();
          });
        }
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server!.close(() => resolve());
      }),
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const deliver of held.splice(0)) deliver();
    },
  };
}
