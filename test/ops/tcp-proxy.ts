// A loopback TCP proxy in front of PostgreSQL that can hold new connections (the database cut off
// for newcomers) while the ones already open go on.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** New connections are accepted but get no answer until release(): connects and pools time out. */
  holdNewConnections(): void;
  /** Passes the held connections (those still waiting) and every new one through again. */
  release(): void;
  /**
   * The connections open now stop passing data both ways and stay open (a hung network path);
   * new connections pass as usual.
   */
  freezeOpen(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(upstreamHost: string, upstreamPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pipes: Array<{ client: Socket; upstream: Socket }> = [];
  const held: Socket[] = [];
  let holding = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A peer that goes away shows up as a reset on the other end; the peers report it themselves.
    socket.on("error", () => socket.destroy());
  };
  const forward = (client: Socket) => {
    if (client.destroyed) return;
    const upstream = connect(upstreamPort, upstreamHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    pipes.push({ client, upstream });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (holding) {
      client.pause();
      held.push(client);
      return;
    }
    forward(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("the proxy has no port");
  return {
    port: address.port,
    holdNewConnections: () => {
      holding = true;
    },
    freezeOpen: () => {
      for (const { client, upstream } of pipes.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    release: () => {
      holding = false;
      for (const client of held.splice(0)) forward(client);
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
