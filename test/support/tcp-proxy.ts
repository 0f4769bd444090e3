// A TCP proxy a test controls, for network faults between the app and a server (Postgres):
//   forward   — the default: bytes flow both ways;
//   blackHole — every connection, open or new, is accepted but nothing is forwarded or answered
//               (a partition: peers see silence, not an error; bytes wait in the socket buffers);
//   restore   — forward again: held connections resume where they stopped, as after a healed
//               partition, and new connections reach the target;
//   resetAll  — every open connection is reset (RST to both sides), as when a server or a
//               middlebox restarts; the proxy keeps forwarding new connections.
//
//   const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5432 });
//   openDatabase({ databaseUrl: proxy.rewrite(url), … });
//   proxy.blackHole(); … proxy.restore(); … proxy.resetAll(); await proxy.close();
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The local port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** "forward" or "black-hole". */
  readonly mode: "forward" | "black-hole";
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** The same URL with its host and port replaced by the proxy's (e.g. a postgresql:// URL). */
  rewrite(url: string): string;
  blackHole(): void;
  restore(): void;
  resetAll(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: "forward" | "black-hole" = "forward";
  const pairs = new Set<Pair>();

  const end = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  /** Moves bytes from one socket to the other while forwarding, with backpressure. */
  const forward = (from: Socket, to: Socket) => {
    from.on("data", (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => {
      if (mode === "forward") from.resume();
    });
  };

  const connectUpstream = (pair: Pair) => {
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on("error", () => end(pair));
    upstream.on("close", () => end(pair));
    forward(pair.client, upstream);
    forward(upstream, pair.client);
    pair.client.resume();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on("error", () => end(pair));
    client.on("close", () => end(pair));
    // black-holed: accepted, held paused, connected upstream only once restored
    if (mode === "forward") connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get mode() {
      return mode;
    },
    get connections() {
      return pairs.size;
    },
    rewrite(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    blackHole() {
      mode = "black-hole";
      for (const pair of pairs) {
        pair.client.pause();
        pair.upstream?.pause();
      }
    },
    restore() {
      mode = "forward";
      for (const pair of pairs) {
        if (pair.upstream === undefined) connectUpstream(pair);
        else {
          pair.client.resume();
          pair.upstream.resume();
        }
      }
    },
    resetAll() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        for (const socket of [pair.client, pair.upstream]) {
          if (socket !== undefined && !socket.destroyed) socket.resetAndDestroy();
        }
      }
    },
    async close() {
      for (const pair of [...pairs]) end(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
