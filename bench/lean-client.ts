/**
 * The handshake benches' client: RFC 6455 over a plain TCP socket, with nothing a handshake does
 * not need. It sends what any WebSocket client sends (an upgrade with a fresh random key, frames
 * masked with fresh random masks, a close handshake), checks what it receives (101 with the
 * matching Sec-WebSocket-Accept; unmasked, unfragmented frames with no reserved bits), and fails
 * loudly on anything else. It runs on the same two cores as the gateway: `ws`'s client spent
 * about 0.33 ms of CPU per handshake (Node's HTTP client, stream plumbing, errors built while
 * closing) where this one spends about 0.15 ms, and that CPU was taken from the gateway being
 * measured. `BENCH_CLIENT=ws` measures with `ws`'s client instead.
 */
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { connect, type Socket } from "node:net";

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** Close code 1000 (normal closure). */
const NORMAL_CLOSE = Buffer.from([0x03, 0xe8]);
/** Largest frame this client accepts from the gateway (hello-ok is about 1.3 KB). */
const MAX_FRAME = 1 << 20;

/** Masks come from a pool of random bytes, refilled when spent (as `ws` does). */
const maskPool = Buffer.alloc(8192);
let maskOffset = maskPool.length;

function nextMask(): Buffer {
  if (maskOffset === maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  const mask = maskPool.subarray(maskOffset, maskOffset + 4);
  maskOffset += 4;
  return mask;
}

/** A masked client frame (FIN set) carrying `payload`. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = nextMask();
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

interface Target {
  host: string;
  port: number;
  hostHeader: string;
  path: string;
}

const targets = new Map<string, Target>();

function target(url: string): Target {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    if (u.protocol !== "ws:") throw new Error(`lean client: only ws:// URLs (${url})`);
    const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    t = { host, port: Number(u.port || 80), hostHeader: u.host, path: `${u.pathname}${u.search}` };
    targets.set(url, t);
  }
  return t;
}

/**
 * One full handshake (TCP connect, upgrade, challenge, connect, answer, close handshake); resolves
 * with the time from the connect call to the connect answer in ms, rejects when it is a refusal.
 */
export function leanTimedHandshake(url: string, connectParams: (nonce: string) => unknown): Promise<number> {
  const t = target(url);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const key = randomBytes(16).toString("base64");
    const accept = createHash("sha1")
      .update(key + ACCEPT_GUID)
      .digest("base64");
    const socket: Socket = connect({ host: t.host, port: t.port, noDelay: true });
    let pending: Buffer | null = null;
    let upgraded = false;
    let settled = false;
    let closeSent = false;
    const fail = (err: Error) => {
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const sendClose = (payload: Buffer) => {
      if (closeSent) return;
      closeSent = true;
      socket.write(clientFrame(OP_CLOSE, payload));
    };
    const onText = (text: string) => {
      const frame = JSON.parse(text) as {
        type: string;
        event?: string;
        ok?: boolean;
        payload?: { nonce: string };
      };
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const req = { type: "req", id: "1", method: "connect", params: connectParams(frame.payload!.nonce) };
        socket.write(clientFrame(OP_TEXT, Buffer.from(JSON.stringify(req))));
      } else if (frame.type === "res" && !settled) {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        settled = true;
        if (frame.ok) resolve(elapsed);
        else reject(new Error(`handshake refused: ${text}`));
        sendClose(NORMAL_CLOSE);
      }
    };
    socket.write(
      `GET ${t.path} HTTP/1.1\r\nHost: ${t.hostHeader}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    );
    socket.on("data", (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          pending = buf;
          return;
        }
        const head = buf.toString("latin1", 0, end);
        if (
          !/^HTTP\/1\.1 101 /.test(head) ||
          !head.toLowerCase().includes(`\r\nsec-websocket-accept: ${accept.toLowerCase()}`)
        ) {
          fail(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      while (buf.length >= 2) {
        const b0 = buf[0]!;
        const b1 = buf[1]!;
        if ((b0 & 0x80) === 0 || (b0 & 0x70) !== 0 || (b1 & 0x80) !== 0) {
          fail(new Error("gateway sent a fragmented, extended or masked frame"));
          return;
        }
        let len = b1 & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          offset = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          const long = buf.readBigUInt64BE(2);
          if (long > BigInt(MAX_FRAME)) {
            fail(new Error("gateway sent an oversized frame"));
            return;
          }
          len = Number(long);
          offset = 10;
        }
        if (buf.length < offset + len) break;
        const payload = buf.subarray(offset, offset + len);
        buf = buf.subarray(offset + len);
        const opcode = b0 & 0x0f;
        if (opcode === OP_TEXT) onText(payload.toString("utf8"));
        else if (opcode === OP_CLOSE) {
          // The gateway closed (after a refusal) or answered our close: echo, then end our side.
          sendClose(payload.subarray(0, 2));
          socket.end();
        } else if (opcode === OP_PING) socket.write(clientFrame(OP_PONG, payload));
        else if (opcode !== OP_PONG) {
          fail(new Error(`gateway sent opcode ${opcode}`));
          return;
        }
      }
      if (buf.length > 0) pending = Buffer.from(buf);
    });
    socket.on("error", fail);
    socket.on("close", () => {
      if (!settled) fail(new Error("connection closed before the connect answer"));
    });
  });
}
