/**
 * Gatehouse as a library: {@link createGateway} starts the same gateway `gatehouse gateway run`
 * starts (config, owner identity, store, TLS, runtime, methods), with your own RPC methods beside
 * the built-in ones, typed events and a clean {@link Gateway.close}. Clients live in
 * `gatehouse-gateway/client`, wire constants in `gatehouse-gateway/protocol`.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { ConfigError } from "./config/errors.js";
import { validateConfigOverlay } from "./config/overlay.js";
import type { GatewayFileConfig } from "./config/validate.js";
import type { GatewayLogger as InternalLogger, LogFields, LogLevel } from "./gateway/log.js";
import { silentLogger } from "./gateway/log.js";
import type { ConnectionHandle, MethodHandler } from "./gateway/methods.js";
import { IdentityError } from "./identity/errors.js";
import type { PairResolvedEvent, PendingRequest } from "./protocol/devices.js";
import { GatewayError } from "./protocol/errors.js";
import type { OperatorScope } from "./protocol/scopes.js";
import type { CustomMethodEntries } from "./runtime/custom-methods.js";
import { startConfiguredGateway, type ConfiguredGateway } from "./runtime/gateway-from-config.js";
import { GatewayStartError } from "./runtime/start-errors.js";
import { StoreError } from "./store/errors.js";

export { GatewayStartError, type GatewayStartErrorCode } from "./runtime/start-errors.js";

/**
 * The gateway's configuration: the shape of `gatehouse.json` (OpenClaw's key names under
 * `gateway`). It is validated like the file and laid over the file in the state dir key by key;
 * it is never written to disk.
 *
 * @example
 * ```ts
 * import type { GatewayConfig } from "gatehouse-gateway";
 *
 * const config: GatewayConfig = {
 *   gateway: { port: 0, auth: { mode: "token", token: "a-long-random-secret" }, pairing: { autoApproveLocal: false } },
 * };
 * // port 0 asks the OS for a free port
 * console.log(config.gateway?.port); // 0
 * ```
 */
export interface GatewayConfig {
  gateway?: GatewayFileConfig;
}

/**
 * Where the gateway writes its log: one call per event with explicit fields (never a secret).
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway, type GatewayLogger } from "gatehouse-gateway";
 *
 * const lines: string[] = [];
 * const logger: GatewayLogger = { log: (level, event) => lines.push(`${level} ${event}`) };
 * const gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0 } },
 *   logger,
 * });
 * await gateway.close();
 * console.log(lines.includes("info gateway ready")); // true
 * ```
 */
export interface GatewayLogger {
  /** One event; `fields` are plain values. */
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

/**
 * Who called a custom method: the admitted session the request arrived on.
 *
 * @example
 * ```ts
 * import type { MethodCaller } from "gatehouse-gateway";
 *
 * function describe(caller: MethodCaller): string {
 *   return `${caller.client.id} as ${caller.role} with ${caller.scopes.join(" ") || "no scopes"}`;
 * }
 * console.log(
 *   describe({ connId: "c1", role: "operator", scopes: ["operator.read"], deviceId: null,
 *     client: { id: "cli", mode: "cli", version: "1.0.0", platform: "linux" } }),
 * );
 * ```
 */
export interface MethodCaller {
  /** This connection's id (also in the gateway's log lines). */
  readonly connId: string;
  readonly role: "operator" | "node";
  /** The scopes the session was admitted with. */
  readonly scopes: readonly string[];
  /** The device the session signed as; null for a device-less client. */
  readonly deviceId: string | null;
  readonly client: {
    readonly id: string;
    readonly mode: string;
    readonly version: string;
    readonly platform: string;
  };
}

/**
 * A custom RPC method: the role and scope a caller must hold, and its handler. The gateway checks
 * both with the same policy as its built-in methods before the handler runs; a caller without them
 * gets `MISSING_SCOPE` or `ROLE_NOT_ALLOWED` and the handler never sees the request. Throw a
 * {@link MethodError} to answer with an error; anything else thrown becomes `INTERNAL_ERROR`
 * (its message stays in the gateway's log).
 *
 * @example
 * ```ts
 * import { MethodError, type CustomMethod } from "gatehouse-gateway";
 *
 * const greet: CustomMethod = {
 *   role: "operator",
 *   scope: "operator.read",
 *   handler(params, caller) {
 *     const name = (params as { name?: unknown } | undefined)?.name;
 *     if (typeof name !== "string") throw new MethodError("INVALID_PARAMS", "name: a string is required");
 *     return { greeting: `hello ${name}`, from: caller.deviceId };
 *   },
 * };
 * console.log(greet.scope); // operator.read
 * ```
 */
export interface CustomMethod {
  /** The role a caller's session must have. */
  role: "operator" | "node";
  /**
   * The operator scope a caller must hold (`operator.admin` covers all, `operator.write` covers
   * `operator.read`); null lets any session of the role call it. A node method's scope is null.
   */
  scope: OperatorScope | null;
  /** Runs only for callers that passed the check; its result is the response payload. */
  handler(params: unknown, caller: MethodCaller): unknown;
}

/**
 * Method-level error codes a custom method may answer with ({@link MethodError}); the connection
 * stays open.
 *
 * @example
 * ```ts
 * import { MethodError, type MethodErrorCode } from "gatehouse-gateway";
 *
 * const code: MethodErrorCode = "FORBIDDEN_ACTION";
 * console.log(new MethodError(code, "only the account owner may do this").code); // FORBIDDEN_ACTION
 * ```
 */
export type MethodErrorCode = "INVALID_PARAMS" | "FORBIDDEN_ACTION" | "INTERNAL_ERROR";

/**
 * The error a custom method throws to refuse a request: `INVALID_PARAMS` (wire code
 * `INVALID_REQUEST`), `FORBIDDEN_ACTION` (`FORBIDDEN`) or `INTERNAL_ERROR` (`UNAVAILABLE`). The
 * message and `details` go to the caller as they are, so never put a secret in them.
 *
 * @example
 * ```ts
 * import { MethodError } from "gatehouse-gateway";
 *
 * const err = new MethodError("INVALID_PARAMS", "count: must be a positive integer", { field: "count" });
 * console.log(err.code, err.message); // INVALID_PARAMS count: must be a positive integer
 * ```
 */
export class MethodError extends GatewayError {
  declare readonly code: MethodErrorCode;

  constructor(code: MethodErrorCode, message?: string, details?: Record<string, unknown>) {
    super(code, { ...(message !== undefined && { message }), ...(details && { details }) });
    this.name = "MethodError";
  }
}

/**
 * An admitted session, as the `session.open` and `session.close` events report it.
 *
 * @example
 * ```ts
 * import type { SessionInfo } from "gatehouse-gateway";
 *
 * const seen = new Map<string, SessionInfo>();
 * const onOpen = (s: SessionInfo) => seen.set(s.connId, s);
 * onOpen({ connId: "c1", role: "operator", scopes: [], deviceId: null, clientId: "cli", clientMode: "cli" });
 * console.log(seen.size); // 1
 * ```
 */
export interface SessionInfo {
  readonly connId: string;
  readonly role: "operator" | "node";
  readonly scopes: readonly string[];
  readonly deviceId: string | null;
  readonly clientId: string;
  readonly clientMode: string;
}

/**
 * A device asked to pair (or for more than it holds) and waits for approval (`pairing.requested`).
 * Approve it with `device.pair.approve {requestId}` from a client holding `operator.pairing`, or
 * with `gatehouse devices approve <requestId>`.
 *
 * @example
 * ```ts
 * import type { PairingRequest } from "gatehouse-gateway";
 *
 * const request: PairingRequest = {
 *   requestId: "r1", deviceId: "ab12", roles: ["operator"], scopes: ["operator.read"],
 *   reason: "not-paired", clientId: "cli", remoteIp: "127.0.0.1", browserOrigin: null, ts: Date.now(),
 * };
 * console.log(`gatehouse devices approve ${request.requestId}`);
 * ```
 */
export interface PairingRequest {
  readonly requestId: string;
  readonly deviceId: string;
  readonly roles: readonly ("operator" | "node")[];
  /** Everything asked for so far (one request covers the union). */
  readonly scopes: readonly string[];
  /** `not-paired`, `role-upgrade`, `scope-upgrade`, `metadata-upgrade` or `key-changed`. */
  readonly reason: string;
  readonly clientId: string | null;
  readonly remoteIp: string | null;
  /** The Origin of the browser page that asked (`https://host[:port]`); null for a client that is no browser. */
  readonly browserOrigin: string | null;
  /** When this ask was first made (ms since the epoch). */
  readonly ts: number;
}

/**
 * A pending request was approved or rejected (`pairing.resolved`).
 *
 * @example
 * ```ts
 * import type { PairingResolution } from "gatehouse-gateway";
 *
 * const r: PairingResolution = { requestId: "r1", deviceId: "ab12", decision: "approved", ts: Date.now() };
 * console.log(r.decision === "approved" ? "paired" : "refused"); // paired
 * ```
 */
export interface PairingResolution {
  readonly requestId: string;
  readonly deviceId: string;
  readonly decision: "approved" | "rejected";
  readonly ts: number;
}

/**
 * The events a {@link Gateway} emits, by name, with their payloads.
 *
 * @example
 * ```ts
 * import type { GatewayEvents } from "gatehouse-gateway";
 *
 * const onRequested = (r: GatewayEvents["pairing.requested"]) => console.log("pending", r.requestId);
 * onRequested({ requestId: "r1", deviceId: "ab12", roles: ["operator"], scopes: [], reason: "not-paired",
 *   clientId: null, remoteIp: null, browserOrigin: null, ts: 0 });
 * ```
 */
export interface GatewayEvents {
  /** A client was admitted. */
  "session.open": SessionInfo;
  /** An admitted client's connection ended. */
  "session.close": SessionInfo;
  /** A device waits for pairing approval. */
  "pairing.requested": PairingRequest;
  /** A pending pairing request was approved or rejected. */
  "pairing.resolved": PairingResolution;
}

/**
 * The closed set of event names a {@link Gateway} emits.
 *
 * @example
 * ```ts
 * import { GATEWAY_EVENT_NAMES, type GatewayEventName } from "gatehouse-gateway";
 *
 * const name: GatewayEventName = "session.open";
 * console.log(GATEWAY_EVENT_NAMES.includes(name)); // true
 * ```
 */
export type GatewayEventName = keyof GatewayEvents;

/**
 * Every event name a {@link Gateway} emits.
 *
 * @example
 * ```ts
 * import { GATEWAY_EVENT_NAMES } from "gatehouse-gateway";
 *
 * console.log(GATEWAY_EVENT_NAMES.join(", ")); // session.open, session.close, pairing.requested, pairing.resolved
 * ```
 */
export const GATEWAY_EVENT_NAMES: readonly GatewayEventName[] = Object.freeze([
  "session.open",
  "session.close",
  "pairing.requested",
  "pairing.resolved",
]);

/**
 * What {@link createGateway} needs: a state dir, and optionally config, custom methods, a logger
 * and environment variables.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import type { GatewayOptions } from "gatehouse-gateway";
 *
 * const options: GatewayOptions = {
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0 } },
 *   methods: { "myapp.ping": { role: "operator", scope: null, handler: () => "pong" } },
 * };
 * console.log(Object.keys(options.methods ?? {})); // [ 'myapp.ping' ]
 * ```
 */
export interface GatewayOptions {
  /**
   * The gateway's state dir (created if missing): `gatehouse.json`, the owner identity in
   * `identity/`, the SQLite store in `state/`. One gateway per state dir at a time.
   */
  stateDir: string;
  /** Laid over `<stateDir>/gatehouse.json`; default: the file alone (port 18789, loopback, token auth). */
  config?: GatewayConfig;
  /**
   * Your RPC methods by name (dot-separated, e.g. `myapp.echo`). A name of a built-in method, or
   * in a built-in namespace (`device.`, `sessions.`, ...), is refused with `METHOD_REFUSED`.
   */
  methods?: Readonly<Record<string, CustomMethod>>;
  /** Default: nothing is logged. */
  logger?: GatewayLogger;
  /**
   * Environment variables to read, as the CLI does (`GATEHOUSE_PORT`, `GATEHOUSE_GATEWAY_TOKEN`,
   * ...); they win over `config`. Default: none are read.
   */
  env?: NodeJS.ProcessEnv;
}

/**
 * A running gateway, returned by {@link createGateway}: where it listens, its typed events, and
 * {@link Gateway.close}.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway, type Gateway } from "gatehouse-gateway";
 *
 * const gateway: Gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0 } },
 * });
 * gateway.on("session.open", (s) => console.log("admitted", s.clientId, s.scopes));
 * console.log(gateway.url); // ws://127.0.0.1:<port>
 * await gateway.close();
 * ```
 */
export interface Gateway {
  /** The URL clients on this host dial (`ws://127.0.0.1:<port>`, `wss://` with TLS). */
  readonly url: string;
  /** Every address listened on. */
  readonly urls: readonly string[];
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** The absolute state dir. */
  readonly stateDir: string;
  /** The owner device (`<stateDir>/identity/device.json`): paired with both roles and every scope. */
  readonly ownerDeviceId: string;
  /** SHA-256 of the TLS certificate for clients to pin; null when serving plain `ws://`. */
  readonly tlsFingerprint: string | null;
  /** True once {@link Gateway.close} was called. */
  readonly closed: boolean;
  /** Listens to an event; listeners run after the gateway finished the step, never inside it. */
  on<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this;
  /** Listens to the next occurrence of an event only. */
  once<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this;
  /** Removes a listener. */
  off<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this;
  /**
   * Tells clients the gateway is stopping, closes them, stops sessions and cron, stops listening,
   * closes the store and releases the state dir. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>;
}

type Listener = (payload: unknown) => void;

class EmbeddedGateway implements Gateway {
  readonly stateDir: string;
  readonly ownerDeviceId: string;
  readonly tlsFingerprint: string | null;
  readonly url: string;
  readonly urls: readonly string[];
  readonly port: number;
  readonly #events = new EventEmitter();
  readonly #started: ConfiguredGateway;
  #closing: Promise<void> | null = null;

  constructor(started: ConfiguredGateway) {
    this.#started = started;
    const { server } = started.app;
    this.stateDir = started.config.stateDir;
    this.ownerDeviceId = started.ownerDeviceId;
    this.tlsFingerprint = started.tlsFingerprint;
    this.url = server.localUrl();
    this.urls = Object.freeze(server.urls());
    this.port = server.port;
    server.on("session-open", (conn) => this.#deliver("session.open", sessionInfo(conn)));
    server.on("session-close", (conn) => this.#deliver("session.close", sessionInfo(conn)));
    server.on("broadcast", (event, payload) => {
      if (event === "device.pair.requested") this.#deliver("pairing.requested", pairingRequest(payload));
      if (event === "device.pair.resolved") this.#deliver("pairing.resolved", pairingResolution(payload));
    });
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  on<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this {
    this.#events.on(event, listener as Listener);
    return this;
  }

  once<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this {
    this.#events.once(event, listener as Listener);
    return this;
  }

  off<E extends GatewayEventName>(event: E, listener: (payload: GatewayEvents[E]) => void): this {
    this.#events.off(event, listener as Listener);
    return this;
  }

  close(): Promise<void> {
    this.#closing ??= this.#started.close({ reason: "gateway closing" });
    return this.#closing;
  }

  // Deferred, so a listener never runs inside a store transaction or the connect path.
  #deliver<E extends GatewayEventName>(event: E, payload: GatewayEvents[E]): void {
    setImmediate(() => this.#events.emit(event, payload));
  }
}

/**
 * Starts a gateway over `stateDir` and resolves once it listens. It is the gateway
 * `gatehouse gateway run` starts: the same config validation, first-start token and owner identity,
 * state-dir lock, store, TLS, runtime and built-in methods, plus `methods`, checked by the same
 * policy. `gatehouse` commands with `--state-dir <stateDir>` work against it. Rejects with a
 * {@link GatewayStartError} (`code` says why) and leaves nothing held.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway } from "gatehouse-gateway";
 * import { GatewayClient } from "gatehouse-gateway/client";
 *
 * const gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0, auth: { token: "a-long-random-secret" } } },
 *   methods: {
 *     "myapp.echo": { role: "operator", scope: "operator.write", handler: (params) => ({ echo: params }) },
 *   },
 * });
 * // A device-less backend client keeps the scopes it declares when it knows the shared token.
 * const client = new GatewayClient({
 *   url: gateway.url,
 *   auth: { token: "a-long-random-secret" },
 *   client: { id: "gateway-client", mode: "backend" },
 *   scopes: ["operator.write"],
 * });
 * await client.connect();
 * console.log(await client.request("myapp.echo", { hi: 1 })); // { echo: { hi: 1 } }
 * await client.close();
 * await gateway.close();
 * ```
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  if (typeof options?.stateDir !== "string" || options.stateDir === "") {
    throw new TypeError(
      "createGateway: stateDir must be a non-empty string (a directory for the gateway's state)",
    );
  }
  try {
    const started = await startConfiguredGateway({
      stateDir: options.stateDir,
      env: options.env ?? {},
      overlay: validateConfigOverlay(options.config),
      customMethods: customMethodEntries(options.methods ?? {}),
      logger: (options.logger as InternalLogger | undefined) ?? silentLogger,
    });
    return new EmbeddedGateway(started);
  } catch (err) {
    throw asStartError(err);
  }
}

function customMethodEntries(methods: Readonly<Record<string, CustomMethod>>): CustomMethodEntries {
  const out: Record<string, CustomMethodEntries[string]> = {};
  for (const [name, method] of Object.entries(methods)) {
    const { handler } = method;
    const adapted: MethodHandler = (ctx, params) =>
      typeof handler === "function" ? handler.call(method, params, methodCaller(ctx.conn)) : undefined;
    out[name] = {
      requirement: { role: method.role, scope: method.scope },
      handler: typeof handler === "function" ? adapted : null,
    };
  }
  return out;
}

function methodCaller(conn: ConnectionHandle): MethodCaller {
  const { id, mode, version, platform } = conn.client;
  return Object.freeze({
    connId: conn.connId,
    role: conn.role,
    scopes: Object.freeze([...conn.scopes]),
    deviceId: conn.deviceId,
    client: Object.freeze({ id, mode, version, platform }),
  });
}

function sessionInfo(conn: ConnectionHandle): SessionInfo {
  return Object.freeze({
    connId: conn.connId,
    role: conn.role,
    scopes: Object.freeze([...conn.scopes]),
    deviceId: conn.deviceId,
    clientId: conn.client.id,
    clientMode: conn.client.mode,
  });
}

function pairingRequest(payload: unknown): PairingRequest {
  const p = payload as PendingRequest;
  return Object.freeze({
    requestId: p.requestId,
    deviceId: p.deviceId,
    roles: Object.freeze([...p.roles]),
    scopes: Object.freeze([...p.scopes]),
    reason: p.reason,
    clientId: p.clientId ?? null,
    remoteIp: p.remoteIp ?? null,
    browserOrigin: p.browserOrigin ?? null,
    ts: p.ts,
  });
}

function pairingResolution(payload: unknown): PairingResolution {
  const p = payload as PairResolvedEvent;
  return Object.freeze({ requestId: p.requestId, deviceId: p.deviceId, decision: p.decision, ts: p.ts });
}

/** Lower layers' typed errors, in the library's one error class. */
function asStartError(err: unknown): unknown {
  if (err instanceof ConfigError) {
    return new GatewayStartError(err.code, err.message, { subject: err.key ?? err.path, cause: err });
  }
  if (err instanceof StoreError || err instanceof IdentityError) {
    return new GatewayStartError(err.code, err.message, { subject: err.path, cause: err });
  }
  return err;
}
