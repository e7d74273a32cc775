/**
 * A WebSocket server written byte by byte, for tests that need a server `ws` would never be: one
 * that answers the upgrade wrongly, masks its frames, sets reserved bits, breaks the close
 * handshake. Its frame decoder is its own (not the client's), so it checks the client's framing.
 */
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";

/** A frame the client sent, as the server decoded it. */
export interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  mask: Buffer;
  payload: Buffer;
}

/** How to build one server frame; the defaults make a valid, final, unmasked text frame. */
export interface FrameSpec {
  opcode?: number;
  fin?: boolean;
  rsv?: number;
  /** Masks the frame (servers must not). */
  mask?: boolean;
  /** Forces the 16- or 64-bit length form, whatever the payload's size. */
  lengthForm?: 7 | 16 | 64;
  payload?: Buffer | string;
}

/** One server frame, exactly as `spec` says. */
export function serverFrame(spec: FrameSpec = {}): Buffer {
  const payload =
    typeof spec.payload === "string" ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const form = spec.lengthForm ?? (payload.length < 126 ? 7 : payload.length < 0x10000 ? 16 : 64);
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode ?? 1);
  const maskBit = spec.mask ? 0x80 : 0;
  let head: Buffer;
  if (form === 7) {
    head = Buffer.from([b0, maskBit | payload.length]);
  } else if (form === 16) {
    head = Buffer.alloc(4);
    head[0] = b0;
    head[1] = maskBit | 126;
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!spec.mask) return Buffer.concat([head, payload]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

/** A close frame's payload: the code (2 bytes) and the reason. */
export function closeBody(code: number, reason = ""): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(code, 0);
  return Buffer.concat([out, Buffer.from(reason)]);
}

/** The server's side of one connection. */
export class RawPeer {
  /** Everything the client sent before its request head ended. */
  requestHead = "";
  private buffered: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
    socket.on("error", () => undefined);
  }

  /** Waits for the request head; returns its header fields (names in lower case). */
  async readRequest(): Promise<Map<string, string>> {
    for (;;) {
      const end = this.buffered.indexOf("\r\n\r\n");
      if (end !== -1) {
        this.requestHead = this.buffered.toString("latin1", 0, end);
        this.buffered = this.buffered.subarray(end + 4);
        const fields = new Map<string, string>();
        for (const line of this.requestHead.split("\r\n").slice(1)) {
          const colon = line.indexOf(":");
          fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
        return fields;
      }
      await this.more();
    }
  }

  /** Reads the request and answers 101 with a correct accept, plus `extra` header lines. */
  async accept(extra: string[] = []): Promise<Map<string, string>> {
    const fields = await this.readRequest();
    const accept = createHash("sha1")
      .update(`${fields.get("sec-websocket-key")}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    this.socket.write(
      [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Accept: ${accept}`,
        ...extra,
        "",
        "",
      ].join("\r\n"),
    );
    return fields;
  }

  /** The next frame the client sends, or null if it closed the connection first. */
  async nextFrame(): Promise<ClientFrame | null> {
    for (;;) {
      const frame = this.tryFrame();
      if (frame) return frame;
      if (this.ended) return null;
      await this.more();
    }
  }

  /** Bytes the client sent that no read has taken (nothing after a refused upgrade, say). */
  get unread(): number {
    return this.buffered.length;
  }

  /** Sends a text frame holding `value` as JSON. */
  sendJson(value: unknown): void {
    this.socket.write(serverFrame({ payload: JSON.stringify(value) }));
  }

  /** The next text frame's JSON, skipping control frames. */
  async nextJson(): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = await this.nextFrame();
      if (!frame) throw new Error("client closed before sending a message");
      if (frame.opcode === 1) return JSON.parse(frame.payload.toString("utf8")) as Record<string, unknown>;
    }
  }

  private tryFrame(): ClientFrame | null {
    const read = readRawFrame(this.buffered);
    if (!read) return null;
    this.buffered = read.rest;
    return read.frame;
  }

  private more(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A server on 127.0.0.1 that hands each connection to `script`. */
export class RawWsServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly peers: RawPeer[],
  ) {}

  /** Listens on a free port. */
  static async start(script: (peer: RawPeer) => Promise<void> | void): Promise<RawWsServer> {
    const peers: RawPeer[] = [];
    const server = createServer((socket) => {
      const peer = new RawPeer(socket);
      peers.push(peer);
      void Promise.resolve(script(peer)).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return new RawWsServer(server, `ws://127.0.0.1:${port}`, peers);
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * One whole frame from the front of `b` as it is on the wire (the payload unmasked when masked),
 * and the bytes after it; null until the frame is complete. Both raw test peers read with it.
 */
export function readRawFrame(b: Buffer): { frame: ClientFrame; rest: Buffer } | null {
  if (b.length < 2) return null;
  let len = b[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = b.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(b.readBigUInt64BE(2));
    at = 10;
  }
  const masked = (b[1]! & 0x80) !== 0;
  const mask = masked ? b.subarray(at, at + 4) : Buffer.alloc(4);
  if (masked) at += 4;
  if (b.length < at + len) return null;
  const payload = Buffer.from(b.subarray(at, at + len).map((x, i) => x ^ mask[i % 4]!));
  return {
    frame: {
      fin: (b[0]! & 0x80) !== 0,
      rsv: (b[0]! >> 4) & 0x7,
      opcode: b[0]! & 0x0f,
      masked,
      mask: Buffer.from(mask),
      payload,
    },
    rest: b.subarray(at + len),
  };
}
