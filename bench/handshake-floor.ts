/**
 * The floor under the paired-handshake rows: a server that does only what no gateway can skip for a
 * paired device's connect — accept, answer the upgrade, send a challenge, read the connect frame,
 * check its device proof with the gateway's own check (on the event loop), answer with a
 * hello-ok of the gateway's size, and finish the close handshake. No store, no device token, no
 * policy, no audit, no log. `paired-handshake.bench.ts` measures it with the same client, sizes and
 * machine as the gateway, so the gateway's figures have a like-for-like floor beside them, as the
 * start-up rows have bare `node -e 0`.
 *
 * Usage: `node dist/bench/handshake-floor.js`; prints the `ws://` URL it listens on, then serves
 * until killed.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { verifyDeviceProof } from "../src/gateway/device-proof.js";
import type { GatewayRole } from "../src/protocol/client-info.js";
import type { ConnectParams, DeviceProof } from "../src/protocol/connect.js";
import { acceptFor } from "../src/websocket/accept.js";
import { closePayload, encodeFrame, encodeServerText, FrameReader, OPCODE } from "../src/websocket/frames.js";

/** The size of the gateway's hello-ok to the paired bench's device, bytes of JSON (1,244 on the wire). */
export const HELLO_OK_BYTES = 1240;

/** The most an upgrade request may take before its blank line (the bench client's is 154 bytes). */
const MAX_UPGRADE_BYTES = 8192;

/** What the floor reads of a connect frame: its id and the params the device proof covers. */
interface ConnectFrame {
  id: string;
  params: ConnectParams & { device: DeviceProof; role: GatewayRole };
}

/** An answer of exactly `bytes` bytes: the id, and padding where the gateway has its payload. */
function answer(id: string, ok: boolean, bytes: number): Buffer {
  if (!ok)
    return encodeServerText(JSON.stringify({ type: "res", id, ok: false, error: { code: "REFUSED" } }));
  const bare = JSON.stringify({
    type: "res",
    id,
    ok: true,
    payload: { type: "hello-ok", protocol: 4, pad: "" },
  });
  const pad = Math.max(0, bytes - Buffer.byteLength(bare));
  return encodeServerText(bare.replace('"pad":""', `"pad":"${"x".repeat(pad)}"`));
}

/** Serves one connection: upgrade, challenge, one connect, close. Anything unexpected cuts it. */
function serve(socket: Socket, answerBytes: number): void {
  let head = "";
  let nonce = "";
  const reader = new FrameReader(64 * 1024, "client");
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    try {
      if (nonce === "") {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) {
          if (head.length > MAX_UPGRADE_BYTES) throw new Error("upgrade request too large");
          return;
        }
        const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1];
        if (!key) throw new Error("no Sec-WebSocket-Key");
        nonce = randomUUID();
        const challenge = { type: "event", event: "connect.challenge", payload: { nonce, ts: Date.now() } };
        // One write for both, as the gateway sends them.
        socket.cork();
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        );
        socket.write(encodeServerText(JSON.stringify(challenge)));
        socket.uncork();
        return;
      }
      for (const message of reader.push(chunk)) {
        if (message.type === "close") {
          socket.end(encodeFrame(OPCODE.close, closePayload(message.code, ""), null));
          return;
        }
        if (message.type !== "text") throw new Error(`unexpected ${message.type} frame`);
        const frame = JSON.parse(message.data) as ConnectFrame;
        socket.write(answer(frame.id, verified(frame, nonce), answerBytes));
      }
    } catch {
      socket.destroy();
    }
  });
}

/**
 * The connect's device proof over this connection's nonce, by the gateway's own check (id from the
 * key, signature age, nonce, v3 payload, Ed25519 verify on the event loop, parsed keys cached).
 */
function verified(frame: ConnectFrame, nonce: string): boolean {
  const { params } = frame;
  return verifyDeviceProof(params.device, params, params.role, nonce, Date.now()).ok;
}

/** Starts the floor on 127.0.0.1 (`port` 0: any free port); resolves with the server and its URL. */
export function startHandshakeFloor(
  port = 0,
  answerBytes = HELLO_OK_BYTES,
): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => serve(socket, answerBytes));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({ server, url: `ws://127.0.0.1:${bound}` });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await startHandshakeFloor();
  process.stdout.write(`${url}\n`);
}
