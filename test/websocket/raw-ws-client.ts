/**
 * A WebSocket client written byte by byte, for tests that need a client no library would be: one
 * that sends a malformed upgrade, unmasked or reserved-bit frames, oversized headers, or never
 * answers a close. Its decoder of the server's frames is its own (not the code under test's).
 */
import { connect, type Socket } from "node:net";
import { readRawFrame, serverFrame, type FrameSpec } from "../client/raw-ws-server.js";

/** A frame the server sent, as this client decoded it. */
export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export interface UpgradeOptions {
  method?: string;
  /** Header lines replacing the defaults of the same name (a null value drops the header). */
  headers?: Record<string, string | null>;
  /** Bytes sent right after the request head, in the same write (a pipelined first frame). */
  after?: Buffer;
  /**
   * Sends the head in two writes, 30 ms apart, so the server reads it in two parts: the gateway
   * leaves such a request to Node's HTTP parser instead of reading it itself.
   */
  split?: boolean;
}

/** A client frame: masked (mask 01 02 03 04) unless `mask: false` is given. */
export function clientFrame(spec: FrameSpec = {}): Buffer {
  return serverFrame({ mask: true, ...spec });
}

/** A close frame's payload: the code (2 bytes) and the reason. */
export function closeBody(code: number, reason: string | Buffer = ""): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(code, 0);
  return Buffer.concat([out, typeof reason === "string" ? Buffer.from(reason) : reason]);
}

/** The close code and reason of a close frame's payload (1005: none). */
export function readCloseBody(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString("utf8") };
}

export class RawClient {
  /** The server's response head (status line and headers). */
  head = "";
  private buffered: Buffer = Buffer.alloc(0);
  private headDone = false;
  private waiters: Array<() => void> = [];
  private ended = false;
  /** Resolves when the TCP connection has closed (the server ended or cut it). */
  readonly closed: Promise<void>;
  /** The server ended its side (a FIN); this client then ends its own. */
  sawEnd = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on("end", () => {
      this.sawEnd = true;
      this.wake();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:`port`, sends the upgrade request and waits for the answer's head. */
  static async open(port: number, opts: UpgradeOptions = {}): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new RawClient(socket);
    const headers: Record<string, string | null> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...opts.headers,
    };
    const lines = Object.entries(headers)
      .filter((e): e is [string, string] => e[1] !== null)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    const request = Buffer.from(`${opts.method ?? "GET"} / HTTP/1.1\r\n${lines}\r\n`, "latin1");
    const bytes = opts.after ? Buffer.concat([request, opts.after]) : request;
    if (opts.split) {
      socket.write(bytes.subarray(0, 20));
      await new Promise((resolve) => setTimeout(resolve, 30));
      socket.write(bytes.subarray(20));
    } else socket.write(bytes);
    await client.readHead();
    return client;
  }

  /** The answer's status code. */
  get status(): number {
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1] ?? 0);
  }

  /** A header of the answer (the first of that name), or undefined. */
  header(name: string): string | undefined {
    for (const line of this.head.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
    }
    return undefined;
  }

  /** Everything after the head until the server closed (a refusal's body). */
  async body(): Promise<string> {
    await this.closed;
    return this.buffered.toString("utf8");
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame from the server, or null once the connection closed without one. */
  async nextFrame(): Promise<ServerFrame | null> {
    for (;;) {
      const frame = this.tryFrame();
      if (frame) return frame;
      if (this.ended) return null;
      await this.more();
    }
  }

  /** Skips data frames and pongs until the server's close frame; null if none came. */
  async nextClose(): Promise<{ code: number; reason: string } | null> {
    for (;;) {
      const frame = await this.nextFrame();
      if (!frame) return null;
      if (frame.opcode === 8) return readCloseBody(frame.payload);
    }
  }

  private async readHead(): Promise<void> {
    for (;;) {
      const end = this.buffered.indexOf("\r\n\r\n");
      if (end !== -1) {
        this.head = this.buffered.toString("latin1", 0, end);
        this.buffered = this.buffered.subarray(end + 4);
        this.headDone = true;
        return;
      }
      if (this.ended) throw new Error("the server closed before answering the upgrade");
      await this.more();
    }
  }

  private tryFrame(): ServerFrame | null {
    if (!this.headDone) return null;
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
