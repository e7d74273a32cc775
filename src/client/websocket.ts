/**
 * The client's WebSocket transport: RFC 6455 over `node:net` (and `node:tls`, loaded only for
 * `wss://`, with the certificate checked before the upgrade is written). It replaces `ws` on the
 * client side, whose top level loads Node's HTTP, HTTPS, TLS and zlib stacks — most of what a
 * sub-agent's call-back spent before sending a byte. Text and binary messages, fragments, ping →
 * pong and the close handshake; no extensions, no subprotocols (the gateway protocol uses neither).
 */
import type { Socket } from "node:net";
import { connectVerifiedTls } from "./tls-pin.js";
import { WebSocketError } from "../websocket/errors.js";
import { closePayload, encodeFrame, FrameReader, OPCODE, type Inbound } from "../websocket/frames.js";
import { checkUpgradeResponse, MAX_RESPONSE_HEAD, upgradeRequest } from "./ws-upgrade.js";
import { freshRandom } from "../util/random-pool.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { connect: netConnect } = process.getBuiltinModule("node:net");

/** What a transport is doing: upgrading, open, closing (a close frame sent or received), closed. */
export type ReadyState = "connecting" | "open" | "closing" | "closed";

export interface ClientWebSocketOptions {
  /** `ws://` or `wss://`. */
  url: URL;
  /** Extra headers on the upgrade request; the handshake's own headers cannot be replaced. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** `wss://` only: the certificate's SHA-256 (normalized); null verifies against the system CAs. */
  tlsFingerprint?: string | null | undefined;
  /** How long the TLS handshake may take. */
  tlsTimeoutMs: number;
  /** Largest message accepted (bytes); larger ones close with 1009. */
  maxPayload?: number;
  /** After a close frame is sent or received, the socket is cut if still open this much later. */
  closeTimeoutMs?: number;
}

/** What the transport reports; `onClose` comes exactly once, last. */
export interface ClientWebSocketHandlers {
  onOpen(): void;
  /** A text message as a string, a binary one as a Buffer. */
  onMessage(data: string | Buffer): void;
  /** Why the connection failed; `onClose` follows. */
  onError(err: Error): void;
  /** The peer's close code and reason; 1006 with no close frame; the code sent on a protocol failure. */
  onClose(code: number, reason: string): void;
}

const DEFAULTS = { maxPayload: 100 * 1024 * 1024, closeTimeoutMs: 1000 };

const nextMask = (): Buffer => freshRandom(4);

/** One client WebSocket; it connects when constructed and never reconnects. */
export class ClientWebSocket {
  private state: ReadyState = "connecting";
  private readonly socket: Socket;
  private readonly key = freshRandom(16).toString("base64");
  private readonly request: string;
  private head: Buffer | null = Buffer.alloc(0);
  private readonly reader: FrameReader;
  private readonly closeTimeoutMs: number;
  private closeSent = false;
  private received: { code: number; reason: string } | undefined;
  private failure: WebSocketError | undefined;
  private errored = false;
  private closeTimer: NodeJS.Timeout | undefined;

  /** Starts connecting; throws a TypeError at once on header names or values that are not HTTP. */
  constructor(
    opts: ClientWebSocketOptions,
    private readonly handlers: ClientWebSocketHandlers,
  ) {
    const { url } = opts;
    this.request = upgradeRequest(url, this.key, opts.headers);
    this.reader = new FrameReader(opts.maxPayload ?? DEFAULTS.maxPayload);
    this.closeTimeoutMs = opts.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs;
    const secure = url.protocol === "wss:";
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    if (secure) {
      this.socket = connectVerifiedTls(host, port, opts.tlsFingerprint ?? null, opts.tlsTimeoutMs, (err) => {
        if (err) this.onSocketError(err);
        else this.onConnected();
      });
    } else {
      this.socket = netConnect({ host, port });
      this.socket.once("connect", () => this.onConnected());
    }
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err) => this.onSocketError(err));
    this.socket.on("close", () => this.onSocketClose());
  }

  /** Where the connection is. */
  get readyState(): ReadyState {
    return this.state;
  }

  /** Sends one text message; `done` gets an error if it could not be written. */
  send(text: string, done?: (err?: Error) => void): void {
    if (this.state !== "open") {
      if (done) process.nextTick(done, new Error(`WebSocket is ${this.state}`));
      return;
    }
    this.socket.write(encodeFrame(OPCODE.text, Buffer.from(text, "utf8"), nextMask()), (err) =>
      done?.(err ?? undefined),
    );
  }

  /** Starts the closing handshake (or aborts the upgrade); `onClose` reports the end. */
  close(code = 1000, reason = ""): void {
    if (this.state === "connecting") {
      this.terminate();
      return;
    }
    if (this.state !== "open") return;
    this.sendClose(code, reason);
    this.state = "closing";
  }

  /** Cuts the connection at once, without a closing handshake. */
  terminate(): void {
    if (this.state === "closed") return;
    if (this.state === "connecting") this.head = null;
    this.state = "closing";
    this.socket.destroy();
  }

  private onConnected(): void {
    if (this.state !== "connecting") return;
    this.socket.setNoDelay(true);
    this.socket.write(this.request, "latin1");
  }

  private onData(chunk: Buffer): void {
    if (this.head !== null) {
      this.readHead(chunk);
      return;
    }
    if (this.failure || this.state === "closed") return;
    let inbound: Inbound[];
    try {
      inbound = this.reader.push(chunk);
    } catch (err) {
      this.fail(err as WebSocketError);
      return;
    }
    for (const message of inbound) {
      this.onInbound(message);
      if (this.readyState === "closed" || this.failure) return;
    }
  }

  /** Collects the upgrade response; on its blank line checks it and opens. */
  private readHead(chunk: Buffer): void {
    if (this.state !== "connecting") return;
    const head = Buffer.concat([this.head!, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end === -1) {
      if (head.length > MAX_RESPONSE_HEAD) {
        this.fail(
          new WebSocketError("UPGRADE_INVALID", "the server's upgrade answer has an oversized header"),
        );
      } else {
        this.head = head;
      }
      return;
    }
    this.head = null;
    try {
      checkUpgradeResponse(head.toString("latin1", 0, end), this.key);
    } catch (err) {
      this.fail(err as WebSocketError);
      return;
    }
    this.state = "open";
    this.handlers.onOpen();
    const rest = head.subarray(end + 4);
    if (rest.length > 0 && this.readyState === "open") this.onData(rest);
  }

  private onInbound(message: Inbound): void {
    switch (message.type) {
      case "text":
      case "binary":
        this.handlers.onMessage(message.data);
        return;
      case "ping":
        if (!this.closeSent) this.writeFrame(OPCODE.pong, message.data);
        return;
      case "pong":
        return;
      case "close":
        this.received = { code: message.code, reason: message.reason };
        // Echo the code (RFC 6455 §5.5.1), then half-close: the server closes the TCP connection.
        if (!this.closeSent) this.sendClose(message.code, "");
        this.state = "closing";
        this.socket.end();
    }
  }

  /** Fails the connection: says why, sends the matching close code if a WebSocket exists, cuts. */
  private fail(err: WebSocketError): void {
    this.failure = err;
    this.head = null;
    this.reportError(err);
    if (this.state === "open" && !this.closeSent) {
      this.sendClose(err.closeCode, err.message);
      this.state = "closing";
      this.socket.end();
    } else {
      this.state = "closing";
      this.socket.destroy();
    }
  }

  private sendClose(code: number, reason: string): void {
    this.closeSent = true;
    this.writeFrame(OPCODE.close, closePayload(code, reason));
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    if (this.socket.writable) this.socket.write(encodeFrame(opcode, payload, nextMask()));
  }

  private onSocketError(err: Error): void {
    this.reportError(err);
    this.socket.destroy();
  }

  private reportError(err: Error): void {
    if (this.errored) return;
    this.errored = true;
    this.handlers.onError(err);
  }

  private onSocketClose(): void {
    if (this.state === "closed") return;
    if (this.head !== null && !this.errored) {
      this.reportError(
        new WebSocketError(
          "UPGRADE_INVALID",
          "the server closed the connection before answering the upgrade",
        ),
      );
    }
    this.state = "closed";
    this.head = null;
    clearTimeout(this.closeTimer);
    const failure = this.failure;
    if (failure) this.handlers.onClose(failure.closeCode, failure.message);
    else if (this.received) this.handlers.onClose(this.received.code, this.received.reason);
    else this.handlers.onClose(1006, "");
  }
}
