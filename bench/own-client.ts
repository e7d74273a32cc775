/**
 * The handshake benches' client: `gatehouse/client`'s own WebSocket transport
 * (`src/client/websocket.ts`, RFC 6455 over `node:net`), driven by hand so each handshake is timed
 * from the TCP connect to the connect answer. It sends what any WebSocket client sends (an upgrade
 * with a fresh random key, masked frames, the close handshake) and checks what it receives. It runs
 * on the same two cores as the gateway: `ws`'s client spent about 0.42 ms of CPU per device-less
 * handshake (Node's HTTP client, stream plumbing, errors built while closing), as much as the
 * gateway it measured. `BENCH_CLIENT=ws` measures with `ws`'s client instead.
 */
import { ClientWebSocket } from "../src/client/websocket.js";

/** How long a TLS handshake may take; the benches dial `ws://`, so it never applies. */
const TLS_TIMEOUT_MS = 10_000;

const urls = new Map<string, URL>();

/**
 * One full handshake (TCP connect, upgrade, challenge, connect, answer, close handshake); resolves
 * with the time from the connect call to the connect answer in ms, rejects when it is a refusal.
 */
export function ownTimedHandshake(url: string, connectParams: (nonce: string) => unknown): Promise<number> {
  let target = urls.get(url);
  if (!target) {
    target = new URL(url);
    urls.set(url, target);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const started = process.hrtime.bigint();
    const socket: ClientWebSocket = new ClientWebSocket(
      { url: target, tlsTimeoutMs: TLS_TIMEOUT_MS },
      {
        onOpen() {},
        onMessage(data) {
          const text = typeof data === "string" ? data : data.toString("utf8");
          const frame = JSON.parse(text) as {
            type: string;
            event?: string;
            ok?: boolean;
            payload?: { nonce: string };
          };
          if (frame.type === "event" && frame.event === "connect.challenge") {
            const req = {
              type: "req",
              id: "1",
              method: "connect",
              params: connectParams(frame.payload!.nonce),
            };
            socket.send(JSON.stringify(req));
          } else if (frame.type === "res" && !settled) {
            const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
            settled = true;
            if (frame.ok) resolve(elapsed);
            else reject(new Error(`handshake refused: ${text}`));
            socket.close(1000);
          }
        },
        onError(err) {
          if (settled) return;
          settled = true;
          reject(err);
        },
        onClose(code, reason) {
          if (settled) return;
          settled = true;
          reject(new Error(`connection closed (${code} ${reason}) before the connect answer`));
        },
      },
    );
  });
}
