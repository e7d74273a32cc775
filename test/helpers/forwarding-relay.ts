/**
 * A TCP relay on 127.0.0.1 that adds `X-Forwarded-For` to each WebSocket upgrade request it passes
 * on. A gateway that does not trust the relay as a proxy (neither Gatehouse, C03, nor OpenClaw does
 * by default) then treats a client on this host as remote: it must pair like a device elsewhere.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ForwardingRelay {
  /** `ws://127.0.0.1:<relay port>`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The address the relay connects from: a loopback address of its own, so a gateway can trust it as
 * a proxy (OpenClaw's gateway.trustedProxies) without trusting every client on 127.0.0.1.
 */
export const RELAY_ADDRESS = "127.0.0.2";

/** Relays to `targetPort` on 127.0.0.1, claiming every client comes from `forwardedFor`. */
export async function startForwardingRelay(
  targetPort: number,
  forwardedFor = "203.0.113.7",
): Promise<ForwardingRelay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      client.pause();
      const firstLineEnd = head.indexOf("\r\n");
      const rewritten = Buffer.concat([
        head.subarray(0, firstLineEnd + 2),
        Buffer.from(`X-Forwarded-For: ${forwardedFor}\r\n`),
        head.subarray(firstLineEnd + 2),
      ]);
      const upstream = connect({ port: targetPort, host: "127.0.0.1", localAddress: RELAY_ADDRESS }, () => {
        upstream.write(rewritten);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      sockets.add(upstream);
      upstream.on("close", () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
    };
    client.on("data", onData);
    client.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
