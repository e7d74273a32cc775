/**
 * One WebSocket to the gateway: the challenge/connect handshake, then request/response matching
 * and event delivery. It never reconnects; the client decides whether to open another.
 */
import type { ConnectParams, HelloOk } from "../protocol/connect.js";
import { checkEventFrame, checkHelloOk, checkResponseFrame } from "../protocol/frame-checks.js";
import type { EventFrame } from "../protocol/frames.js";
import { isRecord } from "../protocol/json.js";
import { asClientError, errorFromShape, GatewayClientError } from "./errors.js";
import { TlsPinError } from "./tls-pin.js";
import { ClientWebSocket } from "./websocket.js";
import { WebSocketError } from "../websocket/errors.js";

/**
 * How a connection ended: the WebSocket close code (1000 normal, 1008 policy, 1012 restart, 4001
 * credentials changed) and reason, as the client's `close` event reports it.
 *
 * @example
 * ```ts
 * import type { CloseInfo } from "gatehouse-gateway/client";
 *
 * const describe = (c: CloseInfo) => (c.code === 4001 ? "credentials changed: pair again" : c.reason);
 * console.log(describe({ code: 4001, reason: "device token revoked" })); // credentials changed: pair again
 * ```
 */
export interface CloseInfo {
  code: number;
  reason: string;
}

export interface ConnectChallengeInfo {
  nonce: string;
  ts: number | undefined;
}

export interface ConnectionOptions {
  url: URL;
  /** Extra headers on the upgrade request. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** wss:// only: the certificate's SHA-256 (normalized); null verifies against the system CAs. */
  tlsFingerprint?: string | null;
  connectTimeoutMs: number;
  nextId: () => string;
  buildParams: (challenge: ConnectChallengeInfo) => ConnectParams | Promise<ConnectParams>;
  /** After a rejected connect the server closes with the meaningful code; wait this long for it. */
  rejectionCloseGraceMs?: number;
}

/** Receives what happens after hello; calls are held back until {@link GatewayConnection.attach}. */
export interface SessionHooks {
  onEvent(frame: EventFrame): void;
  onClose(info: CloseInfo): void;
}

interface PendingRequest {
  method: string;
  resolve: (payload: unknown) => void;
  reject: (err: GatewayClientError) => void;
  timer: NodeJS.Timeout;
}

interface HandshakeState {
  resolve: (hello: HelloOk) => void;
  reject: (err: GatewayClientError) => void;
  challenged: boolean;
  connectId?: string;
  /** The server said no; we are waiting for its close frame to learn the close code. */
  rejection?: GatewayClientError;
  /** We gave up locally (timeout, bad challenge, client closed). */
  failure?: GatewayClientError;
  timer?: NodeJS.Timeout;
}

/** Closing handshakes that get no answer are cut off after this long. */
const CLOSE_GRACE_MS = 1000;

/** Larger messages fail the connection with 1009 (the limit `ws` applied by default). */
const MAX_PAYLOAD = 100 * 1024 * 1024;

/** A single gateway session; create a new one per (re)connect. */
export class GatewayConnection {
  private ws: ClientWebSocket | undefined;
  private phase: "idle" | "handshake" | "open" | "closed" = "idle";
  private hs: HandshakeState | undefined;
  private socketError: Error | undefined;
  private localClose: CloseInfo | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private hooks: SessionHooks | undefined;
  private readonly backlog: Array<(hooks: SessionHooks) => void> = [];
  private readonly closeWaiters: Array<() => void> = [];

  constructor(private readonly opts: ConnectionOptions) {}

  /** Opens the socket and completes the handshake; resolves with the validated hello-ok. */
  open(): Promise<HelloOk> {
    if (this.phase !== "idle") return Promise.reject(new Error("GatewayConnection.open() called twice"));
    this.phase = "handshake";
    return new Promise<HelloOk>((resolve, reject) => {
      const hs: HandshakeState = { resolve, reject, challenged: false };
      this.hs = hs;
      hs.timer = setTimeout(() => this.onConnectTimeout(), this.opts.connectTimeoutMs);
      try {
        // For wss:// the certificate is checked before the upgrade request is written.
        this.ws = new ClientWebSocket(
          {
            url: this.opts.url,
            headers: this.opts.headers,
            tlsFingerprint: this.opts.tlsFingerprint ?? null,
            tlsTimeoutMs: this.opts.connectTimeoutMs,
            maxPayload: MAX_PAYLOAD,
            closeTimeoutMs: CLOSE_GRACE_MS,
          },
          {
            onOpen: () => undefined,
            onMessage: (data) => this.onMessage(data),
            onError: (err) => {
              this.socketError ??= err;
            },
            onClose: (code, reason) => this.onSocketClose(code, reason),
          },
        );
      } catch (cause) {
        clearTimeout(hs.timer);
        this.phase = "closed";
        this.hs = undefined;
        reject(
          new GatewayClientError(
            "CONNECT_FAILED",
            `cannot connect to gateway at ${this.opts.url.host}: ${cause instanceof Error ? cause.message : String(cause)}`,
            { cause },
          ),
        );
        return;
      }
    });
  }

  /** Starts delivering session events and the final close, including any that arrived meanwhile. */
  attach(hooks: SessionHooks): void {
    this.hooks = hooks;
    for (const fn of this.backlog.splice(0)) fn(hooks);
  }

  /** Sends a request and resolves with its response payload. */
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const ws = this.ws;
    if (this.phase !== "open" || !ws || ws.readyState !== "open") {
      return Promise.reject(
        new GatewayClientError("CONNECTION_CLOSED", `cannot send ${method}: not connected`),
      );
    }
    const id = this.opts.nextId();
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        // Lets the server stop work nobody waits for; old servers ignore it.
        this.sendQuietly({ type: "cancel", id });
        reject(new GatewayClientError("REQUEST_TIMEOUT", `${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      const frame = params === undefined ? { type: "req", id, method } : { type: "req", id, method, params };
      ws.send(JSON.stringify(frame), (err) => {
        if (!err || !this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(
          new GatewayClientError("CONNECTION_CLOSED", `cannot send ${method}: connection closed`, {
            cause: err,
          }),
        );
      });
    });
  }

  /** Closes the socket (aborting a handshake in progress); resolves once it is closed. */
  close(code = 1000, reason = ""): Promise<void> {
    if (this.phase === "closed") return Promise.resolve();
    if (this.phase === "idle") {
      this.phase = "closed";
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (this.phase === "handshake") {
      this.abortHandshake(
        new GatewayClientError("CLIENT_CLOSED", "client closed before the handshake finished"),
        { code, reason },
        false,
      );
    } else {
      this.closeSocket(code, reason);
    }
    return done;
  }

  private onConnectTimeout(): void {
    const hs = this.hs;
    if (!hs || hs.rejection) return;
    const ms = this.opts.connectTimeoutMs;
    if (!hs.challenged) {
      this.abortHandshake(
        new GatewayClientError("CHALLENGE_TIMEOUT", `no connect.challenge from the gateway within ${ms} ms`),
        { code: 1008, reason: "connect challenge timeout" },
      );
    } else {
      this.abortHandshake(
        new GatewayClientError("CONNECT_FAILED", `the gateway did not answer connect within ${ms} ms`),
        { code: 1008, reason: "connect failed" },
      );
    }
  }

  /** Fails the handshake with our own error once the socket is down. */
  private abortHandshake(err: GatewayClientError, close: CloseInfo, recordClose = true): void {
    const hs = this.hs;
    if (!hs) return;
    if (!hs.failure && !hs.rejection) {
      hs.failure = err;
      if (recordClose) {
        err.closeCode ??= close.code;
        err.closeReason ??= close.reason;
      }
    }
    this.closeSocket(close.code, close.reason);
  }

  private closeSocket(code: number, reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.localClose ??= { code, reason };
    // An unanswered close is cut off by the transport after CLOSE_GRACE_MS.
    ws.close(code, reason);
  }

  private sendQuietly(frame: object): void {
    const ws = this.ws;
    if (ws?.readyState !== "open") return;
    ws.send(JSON.stringify(frame), () => {
      // best effort
    });
  }

  private onMessage(data: string | Buffer): void {
    if (typeof data !== "string") return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(frame)) return;
    if (this.phase === "handshake") this.onHandshakeFrame(frame);
    else if (this.phase === "open") this.onSessionFrame(frame);
  }

  private onHandshakeFrame(frame: Record<string, unknown>): void {
    const hs = this.hs;
    if (!hs || hs.failure || hs.rejection) return;
    if (frame.type === "event" && frame.event === "connect.challenge" && !hs.challenged) {
      hs.challenged = true;
      const payload = isRecord(frame.payload) ? frame.payload : {};
      const nonce = payload.nonce;
      if (typeof nonce !== "string" || nonce.trim().length === 0) {
        const reason = "connect challenge missing nonce";
        this.abortHandshake(new GatewayClientError("INVALID_RESPONSE", reason), { code: 1008, reason });
        return;
      }
      void this.sendConnect(hs, { nonce, ts: typeof payload.ts === "number" ? payload.ts : undefined });
      return;
    }
    if (frame.type !== "res" || hs.connectId === undefined || frame.id !== hs.connectId) return;
    const res = checkResponseFrame(frame);
    if (!res.ok) {
      this.abortHandshake(
        new GatewayClientError("INVALID_RESPONSE", `invalid connect response (${res.errors.join("; ")})`),
        { code: 1008, reason: "connect failed" },
      );
      return;
    }
    if (res.value.ok) {
      const hello = checkHelloOk(res.value.payload);
      if (!hello.ok) {
        this.abortHandshake(
          new GatewayClientError("INVALID_RESPONSE", `invalid hello-ok (${hello.errors.join("; ")})`),
          { code: 1008, reason: "connect failed" },
        );
        return;
      }
      clearTimeout(hs.timer);
      this.hs = undefined;
      this.phase = "open";
      hs.resolve(hello.value);
      return;
    }
    hs.rejection = res.value.error
      ? errorFromShape("HANDSHAKE_REJECTED", res.value.error)
      : new GatewayClientError("HANDSHAKE_REJECTED", "the gateway rejected connect");
    clearTimeout(hs.timer);
    hs.timer = setTimeout(
      () => this.closeSocket(1000, ""),
      this.opts.rejectionCloseGraceMs ?? CLOSE_GRACE_MS,
    );
  }

  private async sendConnect(hs: HandshakeState, challenge: ConnectChallengeInfo): Promise<void> {
    let params: ConnectParams;
    try {
      params = await this.opts.buildParams(challenge);
    } catch (err) {
      this.abortHandshake(asClientError(err), { code: 1000, reason: "" }, false);
      return;
    }
    if (this.hs !== hs || hs.failure) return;
    hs.connectId = this.opts.nextId();
    this.sendQuietly({ type: "req", id: hs.connectId, method: "connect", params });
  }

  private onSessionFrame(frame: Record<string, unknown>): void {
    if (frame.type === "res" && typeof frame.id === "string") {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      const res = checkResponseFrame(frame);
      if (!res.ok) {
        p.reject(
          new GatewayClientError(
            "INVALID_RESPONSE",
            `invalid response to ${p.method} (${res.errors.join("; ")})`,
          ),
        );
      } else if (res.value.ok) {
        p.resolve(res.value.payload);
      } else {
        p.reject(
          res.value.error
            ? errorFromShape("REQUEST_FAILED", res.value.error)
            : new GatewayClientError("REQUEST_FAILED", `${p.method} failed`),
        );
      }
      return;
    }
    if (frame.type === "event") {
      const ev = checkEventFrame(frame);
      if (ev.ok) this.deliver((hooks) => hooks.onEvent(ev.value));
    }
  }

  private onSocketClose(code: number, reason: string): void {
    const previous = this.phase;
    this.phase = "closed";
    const local = this.localClose;
    if (previous === "handshake") {
      const hs = this.hs;
      this.hs = undefined;
      if (hs) {
        clearTimeout(hs.timer);
        hs.reject(this.handshakeCloseError(hs, local, code, reason));
      }
    } else if (previous === "open") {
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(
          local
            ? new GatewayClientError("CLIENT_CLOSED", `${p.method} aborted: client closed`)
            : new GatewayClientError(
                "CONNECTION_CLOSED",
                `${p.method} aborted: connection closed (${code})`,
                {
                  closeCode: code,
                  closeReason: reason,
                },
              ),
        );
      }
      const info = local ?? { code, reason };
      this.deliver((hooks) => hooks.onClose(info));
    }
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  private handshakeCloseError(
    hs: HandshakeState,
    local: CloseInfo | undefined,
    code: number,
    reason: string,
  ): GatewayClientError {
    if (hs.failure) return hs.failure;
    if (hs.rejection) {
      if (!local) {
        hs.rejection.closeCode = code;
        hs.rejection.closeReason = reason;
      }
      return hs.rejection;
    }
    const host = this.opts.url.host;
    if (this.socketError instanceof TlsPinError) return tlsError(this.socketError, host, code, reason);
    if (this.socketError instanceof WebSocketError) {
      const before = this.socketError.code.startsWith("UPGRADE_");
      return new GatewayClientError(
        "CONNECT_FAILED",
        before
          ? `cannot connect to gateway at ${host}: ${this.socketError.message}`
          : `gateway at ${host} broke the WebSocket protocol during the handshake: ${this.socketError.message}`,
        { cause: this.socketError, closeCode: code, closeReason: reason },
      );
    }
    if (this.socketError && !hs.challenged) {
      const e = this.socketError as NodeJS.ErrnoException;
      return new GatewayClientError(
        "CONNECT_FAILED",
        `cannot connect to gateway at ${host}: ${e.code ?? e.message}`,
        {
          cause: this.socketError,
          closeCode: code,
          closeReason: reason,
        },
      );
    }
    return new GatewayClientError(
      "CONNECT_FAILED",
      `gateway at ${host} closed the connection during the handshake (${code}${reason ? `: ${reason}` : ""})`,
      { closeCode: code, closeReason: reason },
    );
  }

  private deliver(fn: (hooks: SessionHooks) => void): void {
    if (this.hooks) fn(this.hooks);
    else this.backlog.push(fn);
  }
}

/** A refused certificate, said so that a person can act: compare, then pin (or re-pin). */
function tlsError(err: TlsPinError, host: string, code: number, reason: string): GatewayClientError {
  const details = {
    presentedFingerprint: err.presented,
    ...(err.expected ? { expectedFingerprint: err.expected } : {}),
    ...(err.authorizationError ? { authorizationError: err.authorizationError } : {}),
  };
  if (err.kind === "mismatch") {
    return new GatewayClientError(
      "TLS_FINGERPRINT_MISMATCH",
      `refusing ${host}: its TLS certificate (sha256 ${err.presented}) is not the pinned one (${err.expected}); ` +
        "nothing was sent. Someone may be intercepting the connection, or the gateway's certificate changed",
      { cause: err, details, closeCode: code, closeReason: reason },
    );
  }
  return new GatewayClientError(
    "TLS_UNTRUSTED",
    `refusing ${host}: its TLS certificate is not trusted (${err.authorizationError ?? "unknown"}) and no ` +
      `fingerprint is pinned for it; it presented sha256 ${err.presented}. Nothing was sent`,
    { cause: err, details, closeCode: code, closeReason: reason },
  );
}
