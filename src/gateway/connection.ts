/**
 * One WebSocket connection: challenge, handshake timer, the connect exchange, then method dispatch
 * and events. Decisions come from `handshake.ts` and the policy; this file only moves frames.
 */
import type { WireEventName } from "../protocol/events.js";
import { randomUUID } from "node:crypto";
import type { Locality } from "../policy/locality.js";
import type { ProxyFacts } from "../policy/trusted-proxy.js";
import { methodRequirement, type CustomMethodRequirements } from "../policy/method-scopes.js";
import { decideMethodCall } from "../policy/work.js";
import { CLOSE_CODES, GatewayError } from "../protocol/errors.js";
import type { RequestFrame } from "../protocol/frames.js";
import { validateRequestFrame } from "../protocol/validate.js";
import { StoreError } from "../store/errors.js";
import {
  decideConnect,
  proveConnect,
  type ConnectOutcome,
  type ProvedConnect,
  type RuntimeTokenVerifier,
  type Session,
} from "./handshake.js";
import { helloOkFrame, type HelloConstants } from "./hello-ok.js";
import type { GatewayLogger } from "./log.js";
import { MAX_BUFFERED_BYTES, MAX_PAYLOAD_BYTES } from "./limits.js";
import type { ConnectionHandle, ConnectionSummary, GatewayInfo, MethodTable } from "./methods.js";
import type { DeviceManager } from "../devices/manager.js";
import type { PairingService } from "./pairing.js";
import type { GatewayAuth } from "./shared-auth.js";
import type { SignatureLanes } from "./signature-lane.js";
import type { ServerWebSocket, ServerWebSocketHandler } from "../websocket/server-socket.js";

/** What every connection shares with the server that owns it. */
export interface ConnectionHost {
  auth(): GatewayAuth;
  pairing: PairingService;
  devices: DeviceManager;
  autoApproveLocal: boolean;
  runtimeTokens?: RuntimeTokenVerifier;
  /** Where each connect's signature is checked: on the event loop or off it. */
  signatures: SignatureLanes;
  methods: MethodTable;
  /** What every hello-ok of this gateway says alike ({@link helloConstants}), serialized once. */
  hello: HelloConstants;
  /** Role and scope of the embedder's own methods; the policy decides them like built-in ones. */
  customMethods?: CustomMethodRequirements;
  info: GatewayInfo;
  logger: GatewayLogger;
  handshakeTimeoutMs: number;
  now(): number;
  /** Called once the connection is admitted, and again when it closes. */
  onOpen(conn: Connection): void;
  onClose(conn: Connection): void;
  /** Called when the socket has closed, admitted or not: the connection is gone. */
  onGone(conn: Connection): void;
}

type State = "challenged" | "open" | "closed";

/**
 * Most frames a connection holds while its connect's signature is checked off the event loop
 * (each at most the pre-auth payload limit); one more closes it. A client that waits for hello-ok
 * sends none.
 */
const MAX_HELD_FRAMES = 8;

/**
 * A live client connection. What only the handshake needs (the challenge nonce, the locality with
 * its rule trace, the proxy facts) is dropped once the client is admitted: an admitted connection
 * keeps only what its session and its logs use.
 */
export class Connection implements ServerWebSocketHandler {
  readonly connId = randomUUID();
  session: Session | null = null;
  connectedAtMs = 0;
  private state: State = "challenged";
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Until admitted: the challenge nonce, the upgrade's locality and its proxy facts; while the
   * connect's signature is checked off the event loop, the frames that arrived meanwhile.
   */
  private handshake: {
    nonce: string;
    locality: Locality;
    proxy: ProxyFacts | null;
    held?: (RequestFrame | null)[];
  } | null;
  /** The attributed client address (behind a trusted proxy), else null. */
  private readonly clientIp: string | null;
  /** Direct loopback, not a browser page: what `onHost` tells methods. */
  private onHost = false;

  constructor(
    private readonly ws: ServerWebSocket,
    locality: Locality,
    readonly peerAddress: string,
    private readonly host: ConnectionHost,
    /** Trusted-proxy mode: the proxy facts of the upgrade request (null in other modes). */
    proxy: ProxyFacts | null = null,
  ) {
    this.handshake = { nonce: randomUUID(), locality, proxy };
    this.clientIp = locality.clientIp;
  }

  /** Sends the challenge and arms the handshake timer. */
  start(): void {
    // The connection itself hears the socket: a closure per socket would be held as long as the
    // socket is, tens of thousands of times over on a busy gateway. Protocol errors (oversized
    // frame, bad UTF-8) are closed by the socket with their code; the close comes here.
    this.ws.handler = this;
    this.host.signatures.challenged?.();
    this.timer = setTimeout(() => {
      if (this.state !== "challenged") return;
      this.host.logger.log("warn", "connect timeout", { conn: this.connId, peer: this.peerAddress });
      this.close(CLOSE_CODES.normal, "");
    }, this.host.handshakeTimeoutMs);
    this.sendRaw({
      type: "event",
      event: "connect.challenge",
      payload: { nonce: this.handshake!.nonce, ts: this.host.now() },
    });
  }

  /** Summary for `status` and registries. */
  summary(): ConnectionSummary | null {
    if (!this.session) return null;
    return {
      connId: this.connId,
      role: this.session.role,
      clientId: this.session.client.id,
      clientMode: this.session.client.mode,
      deviceId: this.session.deviceId,
      clientIp: this.clientIp,
      connectedAtMs: this.connectedAtMs,
    };
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** The handle services and handlers see; only valid once admitted. */
  handle(): ConnectionHandle {
    const session = this.session!;
    return {
      connId: this.connId,
      role: session.role,
      deviceId: session.deviceId,
      scopes: session.scopes,
      client: session.client,
      commands: session.commands,
      sendEvent: (event, payload) => this.sendEvent(event, payload),
    };
  }

  /** Sends an event with this connection's next sequence number; dropped if the peer is too slow. */
  sendEvent(event: WireEventName, payload?: unknown): void {
    if (this.state !== "open") return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
    this.sendRaw({ type: "event", event, payload, seq: this.seq++ });
  }

  /** Closes the socket (idempotent). */
  close(code: number, reason: string): void {
    this.end(code, reason, null);
  }

  /** Closes, after one last text message when `lastText` is one (in the same write). */
  private end(code: number, reason: string, lastText: string | null): void {
    if (this.state === "closed") return;
    this.clearTimer();
    const wasOpen = this.state === "open";
    if (!wasOpen) this.host.signatures.settled?.();
    this.state = "closed";
    if (wasOpen) this.host.onClose(this);
    if (lastText === null) this.ws.close(code, reason);
    else this.ws.sendAndClose(lastText, code, reason);
  }

  /** Closes without a handshake when the peer does not answer the close. */
  terminate(): void {
    this.ws.terminate();
  }

  /** The socket closed: tells the host (an admitted session ended, the connection is gone). */
  onSocketClosed(): void {
    this.clearTimer();
    this.handshake = null;
    if (this.state === "open") this.host.onClose(this);
    else if (this.state === "challenged") this.host.signatures.settled?.();
    this.state = "closed";
    this.host.onGone(this);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A message from the client: text as a string, binary as a Buffer. */
  onMessage(data: string | Buffer): void {
    if (this.state === "closed") return;
    const frame = parseRequest(data);
    if (this.state === "challenged") {
      const held = this.handshake?.held;
      if (held) {
        // The connect is still being decided: later frames wait for its answer, in order, as
        // they would behind a connect decided at once.
        if (held.length >= MAX_HELD_FRAMES) this.close(CLOSE_CODES.policy, "too many frames before hello-ok");
        else held.push(frame);
        return;
      }
      this.onHandshakeFrame(frame);
      return;
    }
    this.onRequest(frame);
  }

  /** A frame after admission. */
  private onRequest(frame: RequestFrame | null): void {
    if (!frame) {
      this.close(CLOSE_CODES.policy, "invalid request frame");
      return;
    }
    void this.dispatch(frame);
  }

  private onHandshakeFrame(frame: RequestFrame | null): void {
    const handshake = this.handshake;
    if (!handshake) return;
    if (!frame) {
      this.reject(new GatewayError("INVALID_FRAME"), null);
      return;
    }
    if (frame.method !== "connect") {
      this.reject(new GatewayError("HANDSHAKE_NOT_CONNECT"), frame.id);
      return;
    }
    const auth = this.host.auth();
    if ((auth.mode === "trusted-proxy") !== (handshake.proxy !== null)) {
      // The auth mode changed between the upgrade and this frame: the facts gathered at the
      // upgrade do not fit it, so the client reconnects and is judged under the new mode.
      this.close(CLOSE_CODES.tryAgainLater, "gateway auth mode changed; reconnect");
      return;
    }
    const input = {
      params: frame.params,
      nonce: handshake.nonce,
      locality: handshake.locality,
      auth,
      nowMs: this.host.now(),
      proxy: handshake.proxy,
    };
    let proved;
    try {
      proved = proveConnect(input, this.host.signatures.forConnect());
    } catch (err) {
      this.connectFailed(frame.id, err);
      return;
    }
    if (!(proved instanceof Promise)) {
      this.onProved(frame.id, proved, input.nowMs);
      return;
    }
    handshake.held = [];
    proved.then(
      (p) => {
        // Closed meanwhile (by the peer, the handshake timer or a stop): nothing is read,
        // decided or written for it.
        if (this.handshake === handshake && this.state === "challenged")
          this.onProved(frame.id, p, this.host.now());
      },
      (err: unknown) => {
        if (this.handshake === handshake && this.state === "challenged") this.connectFailed(frame.id, err);
      },
    );
  }

  /** The connect proved: decided at `nowMs`, applied and answered in this turn of the event loop. */
  private onProved(requestId: string, proved: ProvedConnect, nowMs: number): void {
    const handshake = this.handshake!;
    let outcome: ConnectOutcome;
    try {
      outcome = decideConnect(proved, nowMs, {
        pairing: this.host.pairing,
        autoApproveLocal: this.host.autoApproveLocal,
        runtimeTokens: this.host.runtimeTokens,
      });
    } catch (err) {
      this.connectFailed(requestId, err);
      return;
    }
    const client = outcome.ok ? outcome.session.client : outcome.client;
    const fields = {
      conn: this.connId,
      peer: this.clientIp ?? this.peerAddress,
      client: client ? `${client.id}/${client.mode}` : undefined,
      device: outcome.ok ? outcome.session.deviceId : undefined,
      rule: outcome.decision?.trace.at(-1),
    };
    if (!outcome.ok) {
      this.host.logger.log("info", "connect refused", { ...fields, code: outcome.error.code });
      this.reject(outcome.error, requestId);
      return;
    }
    const { session } = outcome;
    this.clearTimer();
    this.onHost = handshake.locality.directLocal && !handshake.locality.browserOrigin;
    this.handshake = null;
    this.session = session;
    this.host.signatures.settled?.();
    this.state = "open";
    this.connectedAtMs = this.host.now();
    this.ws.maxPayload = MAX_PAYLOAD_BYTES;
    this.host.onOpen(this);
    // The answer first: the client waits for it, the log line does not.
    this.sendText(
      helloOkFrame(
        {
          requestId,
          version: this.host.info.version,
          connId: this.connId,
          uptimeMs: this.host.now() - this.host.info.startedAtMs,
          session,
        },
        this.host.hello,
      ),
    );
    // The cleartext token went out once; it is not kept in memory.
    delete session.deviceToken;
    this.host.logger.log("info", "connect admitted", {
      ...fields,
      role: session.role,
      scopes: session.scopes,
      auth: session.authMethod,
    });
    // Frames that arrived while the signature was checked, now that there is a session for them.
    for (const held of handshake.held ?? []) {
      if (this.state !== "open") break;
      this.onRequest(held);
    }
  }

  /** A failure the client did not cause: a store that cannot be read or written refuses, never admits. */
  private connectFailed(requestId: string, err: unknown): void {
    this.host.logger.log("error", "connect failed", {
      conn: this.connId,
      error: err instanceof Error ? err.message : String(err),
    });
    this.reject(internalError(err, true), requestId, CLOSE_CODES.tryAgainLater);
  }

  private async dispatch(frame: RequestFrame): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (frame.method === "connect") {
      this.respondError(frame.id, new GatewayError("DUPLICATE_CONNECT"));
      return;
    }
    const handler = Object.hasOwn(this.host.methods, frame.method)
      ? this.host.methods[frame.method]
      : undefined;
    if (!handler) {
      // Which methods clients expect that this gateway lacks (OpenClaw's clients call many).
      this.host.logger.log("info", "unknown method", {
        conn: this.connId,
        client: `${session.client.id}/${session.client.mode}`,
        method: frame.method.slice(0, 128),
      });
      this.respondError(
        frame.id,
        new GatewayError("UNKNOWN_METHOD", {
          message: `unknown method: ${frame.method}`,
          details: { method: frame.method },
        }),
      );
      return;
    }
    const call = decideMethodCall(session, methodRequirement(frame.method, this.host.customMethods));
    if (!call.allow) {
      this.respondError(
        frame.id,
        call.refusal === "role"
          ? new GatewayError("ROLE_NOT_ALLOWED", {
              message: `method ${frame.method} requires role ${call.requiredRole}`,
              details: { requiredRole: call.requiredRole, role: session.role },
            })
          : new GatewayError("MISSING_SCOPE", {
              message: `missing scope: ${call.missingScope}`,
              details: { missingScope: call.missingScope, requiredScopes: [call.missingScope] },
            }),
      );
      return;
    }
    try {
      const payload = await handler(
        {
          conn: this.handle(),
          connId: this.connId,
          role: session.role,
          scopes: session.scopes,
          client: session.client,
          deviceId: session.deviceId,
          authMethod: session.authMethod,
          onHost: this.onHost,
          runtimeJobId: session.runtimeJobId,
          proxyUser: session.proxyUser,
          gateway: this.host.info,
          pairing: this.host.pairing,
          devices: this.host.devices,
        },
        frame.params,
      );
      this.respond(frame.id, true, payload);
    } catch (err) {
      if (err instanceof GatewayError) {
        this.respondError(frame.id, err);
        return;
      }
      this.host.logger.log("error", "method failed", {
        conn: this.connId,
        method: frame.method,
        error: err instanceof Error ? err.message : String(err),
      });
      this.respondError(frame.id, internalError(err, false));
    }
  }

  /** Sends the error as a response when there is a request id, then closes as the table says. */
  private reject(error: GatewayError, requestId: string | null, closeCode?: number): void {
    // The error answer and the close leave in one write, the answer first.
    const answer = requestId === null ? null : JSON.stringify(errorResponse(requestId, error));
    this.end(closeCode ?? error.closeCode ?? CLOSE_CODES.policy, error.closeReason, answer);
  }

  private respondError(id: string, error: GatewayError): void {
    this.sendRaw(errorResponse(id, error));
  }

  private respond(id: string, ok: true, payload: unknown): void {
    this.sendRaw({ type: "res", id, ok, payload });
  }

  private sendRaw(frame: unknown): void {
    this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): void {
    if (!this.ws.isOpen) return;
    this.ws.send(text);
  }
}

/** The response frame that refuses request `id` with `error`. */
function errorResponse(id: string, error: GatewayError) {
  return { type: "res", id, ok: false, error: error.toErrorShape() } as const;
}

/**
 * The answer to a failure the client did not cause. A store that cannot be written (disk full, a
 * read-only file, a lock held too long) says so, that nothing was changed, and whether to retry;
 * anything else is the generic internal error.
 */
function internalError(err: unknown, retryable: boolean): GatewayError {
  if (err instanceof StoreError) {
    return new GatewayError("INTERNAL_ERROR", {
      message: `state store unavailable (${err.code}); nothing was changed`,
      retryable: retryable || err.code === "STORE_WRITE_FAILED" || err.code === "STORE_LOCKED",
      details: { reason: "store-unavailable", storeCode: err.code },
    });
  }
  return new GatewayError("INTERNAL_ERROR", retryable ? { retryable: true } : {});
}

/** Text message → valid request frame, or null for binary, non-JSON or non-request input. */
function parseRequest(data: string | Buffer): RequestFrame | null {
  if (typeof data !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  const checked = validateRequestFrame(value);
  return checked.ok ? checked.value : null;
}
