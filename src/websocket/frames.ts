/**
 * RFC 6455 framing for both sides, as data: frames a client sends (always masked) or a server sends
 * (never masked), and a reader that turns the peer's bytes into whole messages, refusing what the
 * RFC forbids. Pure: no sockets, no randomness (the caller supplies each mask).
 */
import { WebSocketError } from "./errors.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { isUtf8 } = process.getBuiltinModule("node:buffer");

/** Frame opcodes (RFC 6455 §5.2). */
export const OPCODE = Object.freeze({
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
});

/** "No status received": a close frame without a code; never sent on the wire as a code. */
export const NO_STATUS = 1005;

/** A whole message or control frame from the server. */
export type Inbound =
  | { type: "text"; data: string }
  | { type: "binary"; data: Buffer }
  | { type: "ping"; data: Buffer }
  | { type: "pong"; data: Buffer }
  | { type: "close"; code: number; reason: string };

/** Close codes a peer may put on the wire (RFC 6455 §7.4.1–7.4.2; 1004–1006 and 1015 are reserved). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/**
 * One frame with FIN set and the 7-, 16- or 64-bit length as needed: a client's, masked with
 * `mask` (4 bytes), or a server's, unmasked (`mask` null).
 */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer | null): Buffer {
  const len = payload.length;
  const head = headerLength(len, mask !== null);
  const out = Buffer.allocUnsafe(head + len);
  writeHeader(out, opcode, len, mask !== null);
  if (mask === null) {
    payload.copy(out, head);
    return out;
  }
  mask.copy(out, head - 4, 0, 4);
  for (let i = 0; i < len; i++) out[head + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * A server's text frame, unmasked: the text is encoded straight into the frame (one buffer, where
 * `encodeFrame` would take a second for the text's bytes).
 */
export function encodeServerText(text: string): Buffer {
  const len = Buffer.byteLength(text, "utf8");
  const head = headerLength(len, false);
  const out = Buffer.allocUnsafe(head + len);
  writeHeader(out, OPCODE.text, len, false);
  out.write(text, head, "utf8");
  return out;
}

function headerLength(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

function writeHeader(out: Buffer, opcode: number, len: number, masked: boolean): void {
  const maskBit = masked ? 0x80 : 0;
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = maskBit | len;
  } else if (len < 0x10000) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
}

/** A close frame's payload: the code and a reason cut to the 123 bytes a control frame leaves. */
export function closePayload(code: number, reason: string): Buffer {
  if (code === NO_STATUS) return Buffer.alloc(0);
  let text = Buffer.from(reason, "utf8");
  if (text.length > 123) {
    // Cut at a character boundary: continuation bytes are 10xxxxxx.
    let end = 123;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

/** Who sends the frames a reader reads: a server's must not be masked, a client's must be. */
export type FrameSender = "server" | "client";

/** Bounds on what a reader holds besides the payload bytes themselves (0: none). */
export interface FrameReaderLimits {
  /** Fragments of one message (empty ones count): each is a buffer object held until the end. */
  maxFragments: number;
  /** Socket reads held while a frame is incomplete: each is a buffer object, however small. */
  maxBufferedChunks: number;
}

/**
 * Reads the peer's byte stream into messages: reassembles fragments, lets control frames
 * interleave, and throws a {@link WebSocketError} on the first violation (after which the
 * connection must be failed). Nothing is read after a close frame. A message's size is judged on
 * its frames' headers, before their payloads are buffered, and counts every fragment.
 */
export class FrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Opcode of the fragmented message in progress, or 0 for none. */
  private fragmentOpcode = 0;
  private readonly fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentCount = 0;
  private closed = false;

  /**
   * @param maxPayload the largest message accepted (bytes); it may be changed between reads
   * (the gateway raises it once a client is admitted)
   * @param from whose frames these are: the server's (the default; the client reads them) or a
   * client's (the gateway reads them: masked, and unmasked here)
   */
  constructor(
    public maxPayload: number,
    private readonly from: FrameSender = "server",
    private readonly limits: FrameReaderLimits = NO_LIMITS,
  ) {}

  /** Feeds bytes from the socket; returns what they complete, in order. */
  push(chunk: Buffer): Inbound[] {
    const out: Inbound[] = [];
    if (this.closed) return out;
    const maxChunks = this.limits.maxBufferedChunks;
    if (maxChunks > 0 && this.chunks.length >= maxChunks) {
      throw new WebSocketError("MESSAGE_TOO_BIG", `a frame arrived in more than ${maxChunks} reads`);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      const frame = this.nextFrame();
      if (frame === null) return out;
      const inbound = this.complete(frame.opcode, frame.fin, frame.payload);
      if (inbound === null) continue;
      out.push(inbound);
      if (inbound.type === "close") {
        this.closed = true;
        this.chunks.length = 0;
        this.buffered = 0;
        return out;
      }
    }
  }

  /** The next whole frame, or null when more bytes are needed. */
  private nextFrame(): { opcode: number; fin: boolean; payload: Buffer } | null {
    if (this.buffered < 2) return null;
    const first = this.peek(2);
    const b0 = first[0]!;
    const b1 = first[1]!;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) throw protocol("a frame has reserved bits set, but no extension was negotiated");
    const masked = (b1 & 0x80) !== 0;
    if (this.from === "server" && masked) throw protocol("the server masked a frame (servers must not)");
    if (this.from === "client" && !masked) throw protocol("a client frame is not masked (clients must mask)");
    this.checkOpcode(opcode, fin);
    const len7 = b1 & 0x7f;
    const headLen = (len7 === 126 ? 4 : len7 === 127 ? 10 : 2) + (masked ? 4 : 0);
    if (this.buffered < headLen) return null;
    let len = len7;
    if (len7 === 126) {
      len = this.peek(4).readUInt16BE(2);
    } else if (len7 === 127) {
      const head = this.peek(10);
      const high = head.readUInt32BE(2);
      if (high >= 0x8000_0000) throw protocol("a 64-bit frame length has its most significant bit set");
      len = high * 0x1_0000_0000 + head.readUInt32BE(6);
    }
    if (opcode >= 0x8 && len > 125) throw protocol(`a control frame carries ${len} bytes (at most 125)`);
    if (opcode < 0x8 && this.fragmentBytes + len > this.maxPayload) {
      throw new WebSocketError(
        "MESSAGE_TOO_BIG",
        `a message of more than ${this.maxPayload} bytes (the ${this.from === "server" ? "client" : "server"}'s limit) arrived`,
      );
    }
    if (this.buffered < headLen + len) return null;
    const head = this.consume(headLen);
    const payload = this.consume(len);
    if (masked) unmask(payload, head, headLen - 4);
    return { opcode, fin, payload };
  }

  private checkOpcode(opcode: number, fin: boolean): void {
    if (opcode >= 0x8) {
      if (opcode !== OPCODE.close && opcode !== OPCODE.ping && opcode !== OPCODE.pong) {
        throw protocol(`invalid opcode ${opcode}`);
      }
      if (!fin) throw protocol("a control frame is fragmented");
      return;
    }
    if (opcode === OPCODE.continuation) {
      if (this.fragmentOpcode === 0)
        throw protocol("a continuation frame arrived with no message to continue");
      return;
    }
    if (opcode !== OPCODE.text && opcode !== OPCODE.binary) throw protocol(`invalid opcode ${opcode}`);
    if (this.fragmentOpcode !== 0) throw protocol("a new message began before the fragmented one ended");
  }

  /** Turns a frame into what it completes, or null while a fragmented message is still open. */
  private complete(opcode: number, fin: boolean, payload: Buffer): Inbound | null {
    switch (opcode) {
      case OPCODE.close:
        return readClose(payload);
      case OPCODE.ping:
        return { type: "ping", data: payload };
      case OPCODE.pong:
        return { type: "pong", data: payload };
    }
    if (!fin) {
      if (this.fragmentOpcode === 0) this.fragmentOpcode = opcode;
      const maxFragments = this.limits.maxFragments;
      if (maxFragments > 0 && ++this.fragmentCount > maxFragments) {
        throw new WebSocketError(
          "MESSAGE_TOO_BIG",
          `a message arrived in more than ${maxFragments} fragments`,
        );
      }
      this.fragments.push(payload);
      this.fragmentBytes += payload.length;
      return null;
    }
    let whole = payload;
    let type = opcode;
    if (this.fragmentOpcode !== 0) {
      this.fragments.push(payload);
      whole = Buffer.concat(this.fragments, this.fragmentBytes + payload.length);
      type = this.fragmentOpcode;
      this.fragments.length = 0;
      this.fragmentBytes = 0;
      this.fragmentCount = 0;
      this.fragmentOpcode = 0;
    }
    if (type === OPCODE.binary) return { type: "binary", data: whole };
    if (!isUtf8(whole)) throw new WebSocketError("INVALID_UTF8", "a text message is not valid UTF-8");
    return { type: "text", data: whole.toString("utf8") };
  }

  /**
   * The first `n` (at most 14: a header) buffered bytes, without consuming them. Only the chunks
   * holding them are copied: a header split across reads, ahead of a long payload still arriving,
   * would otherwise copy every buffered byte again on each read.
   */
  private peek(n: number): Buffer {
    const head = this.chunks[0]!;
    if (head.length >= n) return head;
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const chunk of this.chunks) {
      at += chunk.copy(out, at, 0, Math.min(chunk.length, n - at));
      if (at === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const head = this.chunks[0];
    if (head !== undefined && head.length === n) {
      this.chunks.shift();
      return head;
    }
    if (head !== undefined && head.length > n) {
      this.chunks[0] = head.subarray(n);
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length, n - at);
      chunk.copy(out, at, 0, take);
      at += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}

const NO_LIMITS: FrameReaderLimits = Object.freeze({ maxFragments: 0, maxBufferedChunks: 0 });

/** Unmasks `payload` in place with the 4-byte key at `key[at]` (RFC 6455 §5.3). */
function unmask(payload: Buffer, key: Buffer, at: number): void {
  const m0 = key[at]!;
  const m1 = key[at + 1]!;
  const m2 = key[at + 2]!;
  const m3 = key[at + 3]!;
  const len = payload.length;
  const whole = len & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    payload[i] = payload[i]! ^ m0;
    payload[i + 1] = payload[i + 1]! ^ m1;
    payload[i + 2] = payload[i + 2]! ^ m2;
    payload[i + 3] = payload[i + 3]! ^ m3;
  }
  if (i < len) payload[i] = payload[i]! ^ m0;
  if (i + 1 < len) payload[i + 1] = payload[i + 1]! ^ m1;
  if (i + 2 < len) payload[i + 2] = payload[i + 2]! ^ m2;
}

function readClose(payload: Buffer): Inbound {
  if (payload.length === 0) return { type: "close", code: NO_STATUS, reason: "" };
  if (payload.length === 1) throw protocol("a close frame carries a 1-byte payload (a code takes 2)");
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) throw protocol(`invalid close code ${code}`);
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) throw new WebSocketError("INVALID_UTF8", "a close reason is not valid UTF-8");
  return { type: "close", code, reason: reason.toString("utf8") };
}

function protocol(message: string): WebSocketError {
  return new WebSocketError("PROTOCOL_ERROR", message);
}
