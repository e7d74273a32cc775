/**
 * The server's side of a WebSocket (RFC 6455) on a socket Node's HTTP server handed over at its
 * `upgrade` event: the upgrade's answer, client frames read into messages (masked, at most
 * `maxPayload` bytes per message, judged on the headers), ping answered with pong, text sent, and
 * the close handshake, after which the TCP connection is ended (or cut when the peer does not
 * finish it in time). No extensions, no binary sends: the gateway protocol uses neither.
 *
 * One object per socket and no closure: the socket's listeners are module functions that find
 * their WebSocket through a symbol, and the owner is told of messages and the close through one
 * handler object. A held connection costs only what it keeps (bench/README.md, "Per held
 * connection").
 */
import type { Socket } from "node:net";
import type { WebSocketError } from "./errors.js";
import {
  closePayload,
  encodeFrame,
  encodeServerText,
  FrameReader,
  isValidCloseCode,
  NO_STATUS,
  OPCODE,
  type FrameReaderLimits,
} from "./frames.js";
import {
  checkUpgradeRequest,
  switchingProtocols,
  upgradeRefusal,
  type UpgradeRequest,
} from "./upgrade-request.js";

/** What the owner of a server WebSocket hears. */
export interface ServerWebSocketHandler {
  /** A whole message: text as a string (valid UTF-8), binary as a Buffer. */
  onMessage(data: string | Buffer): void;
  /** The TCP connection closed (after the close handshake, a failure or a cut); the last call. */
  onSocketClosed(): void;
}

export interface ServerWebSocketOptions {
  /** The largest message accepted at first (bytes); larger ones close with 1009. */
  maxPayload: number;
  /** After a close frame is sent or received, the socket is cut if still open this much later. */
  closeTimeoutMs?: number;
}

/** `ws`'s default: how long a peer has to finish the close handshake. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

/**
 * Bounds on the objects one message may pin, `ws`'s server defaults: a message in 16,384
 * fragments, or a frame in 262,144 socket reads, is refused (1009) whatever its size in bytes.
 */
const SERVER_LIMITS: FrameReaderLimits = Object.freeze({
  maxFragments: 16 * 1024,
  maxBufferedChunks: 256 * 1024,
});

const kWebSocket = Symbol("serverWebSocket");
type WebSocketCarrier = Socket & { [kWebSocket]: ServerWebSocket };

/**
 * Completes an upgrade on `socket`: a valid request is answered 101 and becomes an open WebSocket
 * (`head`, what the client sent after its request, is read first); any other is refused with the
 * status `ws` gave it (400, 405) and null is returned. Call it with the socket corked to send the
 * 101 and a first message in one write.
 */
export function acceptWebSocket(
  req: UpgradeRequest,
  socket: Socket,
  head: Buffer,
  options: ServerWebSocketOptions,
): ServerWebSocket | null {
  // The client has gone already (a FIN, an error): there is no one to answer.
  if (!socket.readable || !socket.writable) {
    socket.destroy();
    return null;
  }
  const check = checkUpgradeRequest(req);
  if (!check.ok) {
    socket.once("finish", socket.destroy);
    socket.end(upgradeRefusal(check));
    return null;
  }
  socket.write(switchingProtocols(check.accept, check.protocol), "latin1");
  return new ServerWebSocket(socket, head, options);
}

const OPEN = 0;
/** A close frame was sent or received, or the connection failed: no more messages either way. */
const CLOSING = 1;
const CLOSED = 2;

/** An open server WebSocket; made by {@link acceptWebSocket}. */
export class ServerWebSocket {
  /** Hears messages and the close; messages that arrive before it is set are dropped. */
  handler: ServerWebSocketHandler | null = null;
  private state = OPEN;
  private closeSent = false;
  /** False once a close frame arrived, the peer's stream ended or a frame broke the protocol. */
  private reading = true;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly reader: FrameReader;
  private readonly closeTimeoutMs: number;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    options: ServerWebSocketOptions,
  ) {
    this.reader = new FrameReader(options.maxPayload, "client", SERVER_LIMITS);
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    (socket as WebSocketCarrier)[kWebSocket] = this;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    // Put back before the data listener makes the socket flow: unshifted into a flowing socket,
    // it would be emitted at once, before the owner has set its handler. This way it comes with
    // the rest, on a later tick.
    if (head.length > 0) socket.unshift(head);
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
  }

  /** True until a close frame is sent or received (or the connection failed or closed). */
  get isOpen(): boolean {
    return this.state === OPEN;
  }

  /** Bytes written and not yet taken by the kernel: how far behind a slow reader is. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** The largest message accepted from now on (bytes). */
  get maxPayload(): number {
    return this.reader.maxPayload;
  }

  set maxPayload(bytes: number) {
    this.reader.maxPayload = bytes;
  }

  /** Sends one text message; nothing once closing. */
  send(text: string): void {
    if (this.state !== OPEN || !this.socket.writable) return;
    this.socket.write(encodeServerText(text));
  }

  /**
   * Starts the close handshake (idempotent): sends `code` and `reason` (cut to 123 bytes at a
   * character boundary); the TCP connection ends when the client's close arrives, or is cut after
   * the close timeout. Throws a TypeError on a code no endpoint may send.
   */
  close(code: number = 1000, reason = ""): void {
    if (code !== NO_STATUS && !isValidCloseCode(code)) throw new TypeError(`invalid close code ${code}`);
    if (this.closeSent || this.state === CLOSED) return;
    this.sendClose(code, reason);
    if (!this.reading) endSocket(this.socket);
  }

  /**
   * Sends one last text message, then starts the close handshake, both in one write: a refusal and
   * its close reach the client in one segment, for one system call and one wake-up of the client.
   */
  sendAndClose(text: string, code: number, reason = ""): void {
    this.socket.cork();
    try {
      this.send(text);
      this.close(code, reason);
    } finally {
      this.socket.uncork();
    }
  }

  /** Cuts the connection at once, without a close handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  /** @internal bytes from the socket. */
  read(chunk: Buffer): void {
    if (!this.reading) return;
    let inbound;
    try {
      inbound = this.reader.push(chunk);
    } catch (err) {
      this.fail(err as WebSocketError);
      return;
    }
    for (const message of inbound) {
      switch (message.type) {
        case "text":
        case "binary":
          // After the owner's close, what the client still sends is not read (RFC 6455 §1.4).
          if (this.state === OPEN) this.handler?.onMessage(message.data);
          break;
        case "ping":
          if (!this.closeSent) this.socket.write(encodeFrame(OPCODE.pong, message.data, null));
          break;
        case "pong":
          break;
        case "close":
          this.onCloseFrame(message.code, message.reason);
          return;
      }
      if (!this.reading) return;
    }
  }

  /** The client's close: answered with its code and reason (as `ws` did), then the TCP end. */
  private onCloseFrame(code: number, reason: string): void {
    this.reading = false;
    if (!this.closeSent) this.sendClose(code, reason);
    endSocket(this.socket);
  }

  /** A frame broke the protocol: close with its code and what was wrong, and read no more. */
  private fail(err: WebSocketError): void {
    this.reading = false;
    if (!this.closeSent) this.sendClose(err.closeCode, err.message);
    endSocket(this.socket);
  }

  private sendClose(code: number, reason: string): void {
    this.closeSent = true;
    if (this.state === OPEN) this.state = CLOSING;
    if (this.socket.writable) this.socket.write(encodeFrame(OPCODE.close, closePayload(code, reason), null));
    this.closeTimer ??= setTimeout(destroySocket, this.closeTimeoutMs, this.socket);
  }

  /** @internal the client ended its stream (a FIN), with or without a close frame. */
  peerEnded(): void {
    this.reading = false;
    if (this.state === OPEN) this.state = CLOSING;
    // Node's HTTP server allows half-open sockets: ending ours is up to us.
    endSocket(this.socket);
  }

  /** @internal the TCP connection closed. */
  socketClosed(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.reading = false;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.handler?.onSocketClosed();
  }
}

function onSocketData(this: Socket, chunk: Buffer): void {
  (this as WebSocketCarrier)[kWebSocket].read(chunk);
}
function onSocketEnd(this: Socket): void {
  (this as WebSocketCarrier)[kWebSocket].peerEnded();
}
function onSocketClose(this: Socket): void {
  (this as WebSocketCarrier)[kWebSocket].socketClosed();
}
/** A reset or a write to a gone peer: the socket is cut, and its close event tells the owner. */
function onSocketError(this: Socket): void {
  this.destroy();
}
/**
 * Ends our side once. A second `end()` builds an error (ERR_STREAM_ALREADY_FINISHED, stack trace
 * and all) even when nobody hears it: `ws` paid two of those per closed socket.
 */
function endSocket(socket: Socket): void {
  if (!socket.writableEnded) socket.end();
}
function destroySocket(socket: Socket): void {
  socket.destroy();
}
