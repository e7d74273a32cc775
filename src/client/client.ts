/**
 * GatewayClient: one logical connection to a gateway that survives socket drops. It keeps the
 * device token the gateway issues, recovers once from a stale one, and stops retrying when only a
 * human can fix the problem (wrong secret, pending pairing).
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { ConnectAuth, HelloOk } from "../protocol/connect.js";
import type { EventFrame } from "../protocol/frames.js";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import type { DeviceIdentity } from "../identity/index.js";
import { normalizeFingerprint } from "../protocol/setup-code.js";
import {
  backoffDelay,
  resolveReconnectOptions,
  type ReconnectOptions,
  type ResolvedReconnectOptions,
} from "./backoff.js";
import {
  buildConnectParams,
  resolveClientInfo,
  type ClientInfo,
  type ClientInfoInput,
} from "./connect-params.js";
import { GatewayConnection, type CloseInfo } from "./connection.js";
import { asClientError, GatewayClientError } from "./errors.js";
import { shouldPauseReconnect } from "./pause.js";
import { MemoryDeviceTokenStore, type DeviceTokenStore } from "./token-store.js";
import { checkGatewayUrl } from "./url-safety.js";
import { freshRandom } from "../util/random-pool.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { EventEmitter } = process.getBuiltinModule("node:events");

/**
 * Credentials a {@link GatewayClient} presents at connect: the shared secret (token or password)
 * for first contact or device-less clients, a device token, a setup code, or a runtime token.
 *
 * @example
 * ```ts
 * import type { GatewayClientAuth } from "gatehouse-gateway/client";
 *
 * const firstContact: GatewayClientAuth = { token: "a-long-random-secret" };
 * const withSetupCode: GatewayClientAuth = { bootstrapToken: "ABCD-EFGH-JK" };
 * console.log(Object.keys(firstContact), Object.keys(withSetupCode)); // [ 'token' ] [ 'bootstrapToken' ]
 * ```
 */
export interface GatewayClientAuth {
  /** Shared secret (`gateway.auth.token`). */
  token?: string;
  /** Shared password (`gateway.auth.password`); never signed. */
  password?: string;
  /** Explicit device token; overrides the stored one and is never deleted by the client. */
  deviceToken?: string;
  /** One-time setup-code token. */
  bootstrapToken?: string;
  /** Runtime token the gateway minted for a job it started (see `connectFromEnv`); never signed. */
  agentRuntimeIdentityToken?: string;
}

/**
 * Options of a {@link GatewayClient}: where to connect, with which credentials and identity, as
 * which role and scopes, and how to retry.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import {
 *   FileDeviceTokenStore,
 *   GatewayClient,
 *   loadOrCreateDeviceIdentity,
 *   type GatewayClientOptions,
 * } from "gatehouse-gateway/client";
 *
 * const dir = mkdtempSync(join(tmpdir(), "device-"));
 * const options: GatewayClientOptions = {
 *   url: "ws://127.0.0.1:18789",
 *   auth: { token: "a-long-random-secret" },
 *   identity: loadOrCreateDeviceIdentity(dir),
 *   deviceTokenStore: new FileDeviceTokenStore(join(dir, "device-auth.json")),
 *   scopes: ["operator.read"],
 *   reconnect: { initialDelayMs: 500, maxDelayMs: 10_000 },
 * };
 * const client = new GatewayClient(options); // validates the options; connects only on connect()
 * console.log(client.state); // idle
 * ```
 */
export interface GatewayClientOptions {
  /** `ws://` (loopback only unless `allowInsecure`) or `wss://`. */
  url: string;
  auth?: GatewayClientAuth;
  /** Signs the connect; without it the connect is device-less. */
  identity?: DeviceIdentity;
  /** Where issued device tokens are kept; defaults to memory. */
  deviceTokenStore?: DeviceTokenStore;
  client?: ClientInfoInput;
  /** Defaults to `operator`. */
  role?: GatewayRole;
  /** Requested scopes, in the order they are signed; defaults to none. */
  scopes?: readonly string[];
  /** Commands a node host offers (`commands` in connect params); not signed. */
  commands?: readonly string[];
  /** Extra HTTP headers on the WebSocket upgrade request (e.g. for a proxy). */
  headers?: Readonly<Record<string, string>>;
  minProtocol?: number;
  maxProtocol?: number;
  /** Socket open + challenge + hello-ok; default 15000. */
  connectTimeoutMs?: number;
  /** Default per-request timeout; default 30000. */
  requestTimeoutMs?: number;
  /** Reconnect after an established session drops; off by default. */
  reconnect?: false | ReconnectOptions;
  /** Permits `ws://` to non-loopback hosts (credentials then travel in the clear). */
  allowInsecure?: boolean;
  /**
   * `wss://` only: the SHA-256 fingerprint of the gateway's certificate (hex; colons and case are
   * ignored). The certificate must match it exactly (self-signed is fine); anything else is refused
   * before any byte of the WebSocket exchange is sent. Without it the system CAs decide.
   */
  tlsFingerprint?: string;
}

/**
 * Per-request options of {@link GatewayClient.request}.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "gatehouse-gateway/client";
 *
 * const quick: RequestOptions = { timeoutMs: 2_000 };
 * console.log(quick.timeoutMs); // 2000
 * ```
 */
export interface RequestOptions {
  timeoutMs?: number;
}

/**
 * A server event delivered after hello (the client's `event` event): its name, payload and
 * sequence number.
 *
 * @example
 * ```ts
 * import type { GatewayEvent } from "gatehouse-gateway/client";
 *
 * function onEvent(e: GatewayEvent): void {
 *   if (e.event === "device.pair.requested") console.log("approve", (e.payload as { requestId: string }).requestId);
 * }
 * onEvent({ event: "device.pair.requested", payload: { requestId: "r1" }, seq: 0 }); // approve r1
 * ```
 */
export interface GatewayEvent {
  event: string;
  payload: unknown;
  seq: number | undefined;
  stateVersion?: EventFrame["stateVersion"];
}

/**
 * What the client's `reconnecting` event reports: which attempt comes next, after how long.
 *
 * @example
 * ```ts
 * import type { ReconnectingInfo } from "gatehouse-gateway/client";
 *
 * const log = (r: ReconnectingInfo) => console.log(`attempt ${r.attempt} in ${r.delayMs} ms`);
 * log({ attempt: 1, delayMs: 500 }); // attempt 1 in 500 ms
 * ```
 */
export interface ReconnectingInfo {
  attempt: number;
  delayMs: number;
}

/**
 * Where a {@link GatewayClient} is in its lifecycle: `idle` before connect, `open` with a session,
 * `reconnecting` between sockets, `paused` when only a person can fix the refusal, `closed` for good.
 *
 * @example
 * ```ts
 * import { GatewayClient, type GatewayClientState } from "gatehouse-gateway/client";
 *
 * const client = new GatewayClient({ url: "ws://127.0.0.1:18789" });
 * const state: GatewayClientState = client.state;
 * console.log(state); // idle
 * await client.close();
 * console.log(client.state); // closed
 * ```
 */
export type GatewayClientState = "idle" | "connecting" | "open" | "reconnecting" | "paused" | "closed";

/**
 * The events a {@link GatewayClient} emits, with their arguments: `event` (server events), `hello`,
 * `close`, `reconnecting`, `paused` and `error`.
 *
 * @example
 * ```ts
 * import { GatewayClient, type GatewayClientEvents } from "gatehouse-gateway/client";
 *
 * const client = new GatewayClient({ url: "ws://127.0.0.1:18789" });
 * const onClose = (...[info]: GatewayClientEvents["close"]) => console.log("closed", info.code);
 * client.on("close", onClose);
 * client.on("paused", (err) => console.log("needs a person:", err.message));
 * console.log(client.listenerCount("close")); // 1
 * ```
 */
export interface GatewayClientEvents {
  event: [GatewayEvent];
  hello: [HelloOk];
  close: [CloseInfo];
  reconnecting: [ReconnectingInfo];
  /** Reconnecting stopped because the gateway's answer needs a human; call connect() to resume. */
  paused: [GatewayClientError];
  /** Same as `paused`, emitted only when an `error` listener exists so it can never crash the process. */
  error: [GatewayClientError];
}

interface Session {
  conn: GatewayConnection;
  hello: HelloOk;
}

/** Attempt-scoped record of which stored device token was presented, if any. */
interface AttemptRecord {
  cachedToken?: string;
}

/**
 * Connects, signs, keeps device tokens, sends requests and reconnects to an OpenClaw-protocol
 * gateway. One instance is one logical connection: it keeps the device token the gateway issues,
 * recovers once from a stale one, and stops retrying when only a person can fix the refusal (a
 * wrong secret, a pending pairing — the error carries the `requestId` to approve).
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway } from "gatehouse-gateway";
 * import { GatewayClient, loadOrCreateDeviceIdentity } from "gatehouse-gateway/client";
 *
 * const gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0, auth: { token: "a-long-random-secret" } } },
 * });
 * const client = new GatewayClient({
 *   url: gateway.url,
 *   auth: { token: "a-long-random-secret" },
 *   identity: loadOrCreateDeviceIdentity(mkdtempSync(join(tmpdir(), "device-"))),
 *   scopes: ["operator.read"],
 * });
 * const hello = await client.connect(); // a new device on loopback is paired silently
 * console.log(hello.auth.scopes); // [ 'operator.read' ]
 * console.log((await client.request<{ ok: boolean }>("health")).ok); // true
 * await client.close();
 * await gateway.close();
 * ```
 */
export class GatewayClient extends EventEmitter<GatewayClientEvents> {
  readonly #url: URL;
  // Private (#) so util.inspect / console.log of a client never prints credentials or keys.
  readonly #auth: GatewayClientAuth;
  readonly #identity: DeviceIdentity | undefined;
  readonly #store: DeviceTokenStore;
  readonly #clientInfo: ClientInfo;
  readonly #role: GatewayRole;
  readonly #scopes: readonly string[];
  readonly #commands: readonly string[] | undefined;
  readonly #headers: Readonly<Record<string, string>> | undefined;
  readonly #tlsFingerprint: string | null;
  readonly #minProtocol: number;
  readonly #maxProtocol: number;
  readonly #connectTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #reconnect: ResolvedReconnectOptions | undefined;
  readonly #idPrefix = freshRandom(4).toString("hex");
  #idCounter = 0;

  #state: GatewayClientState = "idle";
  #closedByUser = false;
  #active: GatewayConnection | undefined;
  #session: Session | undefined;
  #connecting: Promise<HelloOk> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectAttempt = 0;

  /** Validates options and the URL; throws before any network I/O. */
  constructor(options: GatewayClientOptions) {
    super();
    this.#url = checkGatewayUrl(options.url, options.allowInsecure === true);
    this.#auth = pickAuth(options.auth);
    this.#identity = options.identity;
    this.#store = options.deviceTokenStore ?? new MemoryDeviceTokenStore();
    this.#clientInfo = resolveClientInfo(options.client);
    this.#role = options.role ?? "operator";
    this.#scopes = [...(options.scopes ?? [])];
    this.#commands = options.commands ? [...options.commands] : undefined;
    this.#headers = options.headers ? { ...options.headers } : undefined;
    this.#tlsFingerprint = checkFingerprint(options.tlsFingerprint, this.#url);
    this.#minProtocol = options.minProtocol ?? PROTOCOL_VERSION;
    this.#maxProtocol = options.maxProtocol ?? PROTOCOL_VERSION;
    this.#connectTimeoutMs = positive(options.connectTimeoutMs, 15_000, "connectTimeoutMs");
    this.#requestTimeoutMs = positive(options.requestTimeoutMs, 30_000, "requestTimeoutMs");
    this.#reconnect = options.reconnect ? resolveReconnectOptions(options.reconnect) : undefined;
  }

  /** Where the client is in its lifecycle. */
  get state(): GatewayClientState {
    return this.#state;
  }

  /** The hello-ok of the current session, if connected. */
  get hello(): HelloOk | undefined {
    return this.#session?.hello;
  }

  /** Connects (or joins a connect in progress); resolves with the gateway's hello-ok. */
  connect(): Promise<HelloOk> {
    if (this.#closedByUser) return Promise.reject(clientClosed());
    if (this.#session) return Promise.resolve(this.#session.hello);
    if (this.#connecting) return this.#connecting;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const inReconnect = this.#state === "reconnecting";
    this.#state = "connecting";
    this.#connecting = this.#runConnect(inReconnect);
    return this.#connecting;
  }

  /** Sends `method` and resolves with the response payload. */
  async request<T = unknown>(method: string, params?: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.#closedByUser) throw clientClosed();
    const session = this.#session;
    if (!session) {
      throw new GatewayClientError(
        "CONNECTION_CLOSED",
        `cannot send ${method}: not connected (call connect() first)`,
      );
    }
    const timeoutMs = positive(options.timeoutMs, this.#requestTimeoutMs, "timeoutMs");
    return (await session.conn.request(method, params, timeoutMs)) as T;
  }

  /** Closes with 1000 and stops reconnecting for good; resolves once the socket is closed. */
  async close(): Promise<void> {
    this.#closedByUser = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const active = this.#active;
    if (active) await active.close(1000, "");
    if (this.#connecting) await this.#connecting.catch(() => undefined);
    this.#state = "closed";
  }

  async #runConnect(inReconnect: boolean): Promise<HelloOk> {
    try {
      const session = await this.#establish();
      this.#connecting = undefined;
      this.#session = session;
      this.#state = "open";
      this.#reconnectAttempt = 0;
      this.emit("hello", session.hello);
      session.conn.attach({
        onEvent: (frame) => this.#onEvent(frame),
        onClose: (info) => this.#onSessionClose(session, info),
      });
      return session.hello;
    } catch (err) {
      this.#connecting = undefined;
      const error = asClientError(err);
      if (this.#closedByUser) {
        this.#state = "closed";
        throw error.code === "CLIENT_CLOSED" ? error : clientClosed(error);
      }
      if (inReconnect && this.#reconnect) {
        if (shouldPauseReconnect(error)) this.#pause(error);
        else this.#scheduleReconnect(error.retryAfterMs ?? 0);
      } else {
        this.#state = "idle";
      }
      throw error;
    }
  }

  /** One handshake, plus the single retry without the cached token after AUTH_DEVICE_TOKEN_MISMATCH. */
  async #establish(): Promise<Session> {
    const first: AttemptRecord = {};
    try {
      return await this.#handshake(first, false);
    } catch (err) {
      const error = asClientError(err);
      if (error.detailCode !== "AUTH_DEVICE_TOKEN_MISMATCH" || first.cachedToken === undefined) throw error;
      await this.#dropCachedToken(first.cachedToken);
      if (this.#closedByUser) throw clientClosed(error);
      return await this.#handshake({}, true);
    }
  }

  async #handshake(record: AttemptRecord, skipCachedToken: boolean): Promise<Session> {
    const conn = new GatewayConnection({
      url: this.#url,
      headers: this.#headers,
      tlsFingerprint: this.#tlsFingerprint,
      connectTimeoutMs: this.#connectTimeoutMs,
      nextId: () => this.#nextId(),
      buildParams: async ({ nonce }) => {
        const auth: ConnectAuth = { ...this.#auth };
        const identity = this.#identity;
        if (identity && auth.deviceToken === undefined && !skipCachedToken) {
          const stored = await storeCall(() => this.#store.get(identity.deviceId, this.#role));
          if (stored?.token) {
            auth.deviceToken = stored.token;
            record.cachedToken = stored.token;
          }
        }
        return buildConnectParams({
          client: this.#clientInfo,
          role: this.#role,
          scopes: this.#scopes,
          commands: this.#commands,
          minProtocol: this.#minProtocol,
          maxProtocol: this.#maxProtocol,
          auth,
          identity,
          nonce,
          signedAtMs: Date.now(),
        });
      },
    });
    this.#active = conn;
    try {
      const hello = await conn.open();
      if (this.#closedByUser) throw clientClosed();
      await this.#storeIssuedTokens(hello);
      // A setup code is single-use: once admitted, reconnects use the device token instead.
      if (this.#auth.bootstrapToken !== undefined && hello.auth.deviceToken !== undefined) {
        delete this.#auth.bootstrapToken;
      }
      if (this.#closedByUser) throw clientClosed();
      return { conn, hello };
    } catch (err) {
      await conn.close(1000, "");
      if (this.#active === conn) this.#active = undefined;
      throw err;
    }
  }

  async #storeIssuedTokens(hello: HelloOk): Promise<void> {
    const identity = this.#identity;
    if (!identity) return;
    const now = Date.now();
    const { auth } = hello;
    const issued = [
      ...(auth.deviceToken
        ? [
            {
              deviceToken: auth.deviceToken,
              role: auth.role,
              scopes: auth.scopes,
              issuedAtMs: auth.issuedAtMs ?? now,
            },
          ]
        : []),
      ...(auth.deviceTokens ?? []),
    ];
    for (const t of issued) {
      // What the token covers, as far as this client can know. Gatehouse sends the token's scopes
      // in hello-ok; OpenClaw sends the session's, a subset. Approvals only widen a device's
      // token (an upgrade is merged into it), so keep the union with what it was seen to cover;
      // a token the gateway refuses is dropped (#establish), and a fresh one starts over.
      const before = await storeCall(() => this.#store.get(identity.deviceId, t.role));
      const scopes = before ? [...new Set([...before.scopes, ...t.scopes])].sort() : [...t.scopes];
      await storeCall(() =>
        this.#store.set(identity.deviceId, t.role, {
          token: t.deviceToken,
          role: t.role,
          scopes,
          issuedAtMs: t.issuedAtMs,
          updatedAtMs: now,
        }),
      );
    }
  }

  /** Deletes the stored token only if it is still the one the gateway refused. */
  async #dropCachedToken(token: string): Promise<void> {
    const identity = this.#identity;
    if (!identity) return;
    const current = await storeCall(() => this.#store.get(identity.deviceId, this.#role));
    if (current?.token === token) await storeCall(() => this.#store.delete(identity.deviceId, this.#role));
  }

  #onEvent(frame: EventFrame): void {
    const event: GatewayEvent = { event: frame.event, payload: frame.payload, seq: frame.seq };
    if (frame.stateVersion !== undefined) event.stateVersion = frame.stateVersion;
    this.emit("event", event);
  }

  #onSessionClose(session: Session, info: CloseInfo): void {
    if (this.#session === session) this.#session = undefined;
    if (this.#active === session.conn) this.#active = undefined;
    this.emit("close", info);
    if (this.#closedByUser) {
      this.#state = "closed";
    } else if (this.#reconnect) {
      this.#scheduleReconnect(0);
    } else {
      this.#state = "idle";
    }
  }

  #scheduleReconnect(minDelayMs: number): void {
    const options = this.#reconnect;
    if (!options || this.#closedByUser) return;
    this.#reconnectAttempt += 1;
    const attempt = this.#reconnectAttempt;
    const delayMs = Math.max(minDelayMs, backoffDelay(attempt, options));
    this.#state = "reconnecting";
    this.emit("reconnecting", { attempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.connect().catch(() => undefined);
    }, delayMs);
  }

  #pause(error: GatewayClientError): void {
    this.#state = "paused";
    this.#reconnectAttempt = 0;
    this.emit("paused", error);
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  #nextId(): string {
    this.#idCounter += 1;
    return `${this.#idPrefix}-${this.#idCounter}`;
  }
}

function pickAuth(auth: GatewayClientAuth | undefined): GatewayClientAuth {
  const out: GatewayClientAuth = {};
  if (auth?.token) out.token = auth.token;
  if (auth?.password) out.password = auth.password;
  if (auth?.deviceToken) out.deviceToken = auth.deviceToken;
  if (auth?.bootstrapToken) out.bootstrapToken = auth.bootstrapToken;
  if (auth?.agentRuntimeIdentityToken) out.agentRuntimeIdentityToken = auth.agentRuntimeIdentityToken;
  return out;
}

function checkFingerprint(value: string | undefined, url: URL): string | null {
  if (value === undefined || value === "") return null;
  const fp = normalizeFingerprint(value);
  if (!fp) {
    throw new GatewayClientError(
      "INVALID_OPTIONS",
      "tlsFingerprint must be a SHA-256 fingerprint: 64 hex digits (colons allowed)",
    );
  }
  if (url.protocol !== "wss:") {
    throw new GatewayClientError(
      "INVALID_OPTIONS",
      `tlsFingerprint pins a TLS certificate, but ${url.protocol}// has none; use a wss:// URL`,
    );
  }
  return fp;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new GatewayClientError("INVALID_OPTIONS", `${name} must be a positive number of milliseconds`);
  }
  return value;
}

function clientClosed(cause?: unknown): GatewayClientError {
  return new GatewayClientError(
    "CLIENT_CLOSED",
    "the client was closed",
    cause === undefined ? {} : { cause },
  );
}

async function storeCall<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asClientError(err, "TOKEN_STORE_FAILED");
  }
}
