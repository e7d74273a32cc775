/**
 * The gateway server: one HTTP listener per bind address on one port, WebSocket upgrades with the
 * policy's Origin/Host verdict applied before HTTP 101, a registry of live connections, ticks and graceful shutdown.
 */
import type { WireEventName } from "../protocol/events.js";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { resolveLocality } from "../policy/locality.js";
import { DeviceManager, type CloseSelector } from "../devices/manager.js";
import { isLoopbackIp } from "../policy/ip.js";
import { eventSubject, receivesBroadcast } from "../policy/events.js";
import { upgradeVerdict, type UpgradeRefusal } from "../policy/upgrade.js";
import type { CustomMethodRequirements } from "../policy/method-scopes.js";
import type { Store } from "../store/db.js";
import { CLOSE_CODES, ERROR_TABLE } from "../protocol/errors.js";
import { GATEHOUSE_VERSION } from "../version.js";
import { Connection, type ConnectionHost } from "./connection.js";
import { helloConstants } from "./hello-ok.js";
import { createHttpHandler, defaultControlUiDir } from "./http.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, MAX_PREAUTH_PAYLOAD_BYTES, TICK_INTERVAL_MS } from "./limits.js";
import { silentLogger, type GatewayLogger } from "./log.js";
import type { RuntimeTokenVerifier, Session } from "./handshake.js";
import type { ConnectionHandle, ConnectionSummary, GatewayInfo, MethodTable } from "./methods.js";
import { ConnectionCaps, type CapLimits } from "./connection-caps.js";
import { ownHostNames } from "./own-names.js";
import { PairingService, type PendingLimits } from "./pairing.js";
import { PresenceNotifier, type PresencePayload } from "./presence.js";
import type { GatewayAuth } from "./shared-auth.js";
import { transportFacts } from "./transport.js";
import { installUpgradeIntake, type UpgradeIntake, type UpgradeRequestFacts } from "./upgrade-intake.js";
import { AssertionVerifier, type AssertionVerifierOptions } from "./proxy-assertion.js";
import { gatherProxyFacts } from "./proxy-facts.js";
import { adaptiveSignatureLanes, type SignatureLanes } from "./signature-lane.js";
import type { Locality } from "../policy/locality.js";
import type { ProxyFacts } from "../policy/trusted-proxy.js";
import { acceptWebSocket, type ServerWebSocketOptions } from "../websocket/server-socket.js";

export interface GatewayServerOptions {
  /** Addresses to listen on, all on the same port (loopback: 127.0.0.1 and ::1). */
  hosts: readonly string[];
  /** 0 picks a free port (tests). */
  port: number;
  /** Called once per connect, by its connect frame: a rotated secret takes effect for the next connect. */
  auth: () => GatewayAuth;
  methods: MethodTable;
  /** Role and scope of the methods in `methods` that are not built in (an embedder's own). */
  customMethods?: CustomMethodRequirements;
  /** The pairing store (opened, migrated, locked by the caller). */
  store: Store;
  /** The gateway host's owner identity, paired as owner in the store. */
  ownerDeviceId: string;
  /** `gateway.pairing.autoApproveLocal`; default true. */
  autoApproveLocal?: boolean;
  pendingLimits?: Partial<PendingLimits>;
  /** Socket caps in total and per client address (defaults 4096 / 256). */
  limits?: Partial<CapLimits>;
  /** Verifies runtime tokens of work the gateway started (sub-agents, cron runs). */
  runtimeTokens?: RuntimeTokenVerifier;
  /**
   * Where connect signatures are checked; default {@link adaptiveSignatureLanes} (on the event
   * loop when the gateway is idle, on libuv's thread pool when other connects are in flight).
   */
  signatures?: SignatureLanes;
  /**
   * A device's authority ended (operator role revoked, or removed): the runtime ends the sessions
   * resting on it and unschedules its cron jobs, which the store has already disabled.
   */
  onAuthorityRevoked?: (deviceId: string, reason: string, disabledJobs: readonly string[]) => void;
  trustedProxies?: readonly string[];
  allowedOrigins?: readonly string[];
  handshakeTimeoutMs?: number;
  tickIntervalMs?: number;
  logger?: GatewayLogger;
  now?: () => number;
  /**
   * Addresses that may be missing on this machine without failing start (e.g. `::1` where IPv6 is
   * off). Defaults to `::1` when it is listed beside another host.
   */
  optionalHosts?: readonly string[];
  /** Folder of the Control UI's static files; default `src/ui/static` of this package; null: no UI. */
  controlUiDir?: string | null;
  /** Serve `wss://` (and `https://`) with this certificate instead of plain `ws://`. */
  tls?: GatewayTls;
  /** Trusted-proxy mode: JWKS caching and clock skew of the assertion check (defaults suit production). */
  proxyAssertions?: AssertionVerifierOptions;
}

/** The gateway's TLS certificate and key (PEM) and the certificate's SHA-256 (hex, lower case). */
export interface GatewayTls {
  cert: string | Buffer;
  key: string | Buffer;
  fingerprint: string;
}

export interface StopOptions {
  reason?: string;
  restartExpectedMs?: number;
  /** How long to wait for clients to finish the close handshake before cutting them off. */
  graceMs?: number;
}

/** Events a gateway emits about its admitted sessions. */
export interface GatewayServerEvents {
  "session-open": [ConnectionHandle];
  "session-close": [ConnectionHandle];
  /** Every event the gateway broadcasts to its clients (before the per-client scope filter). */
  broadcast: [event: WireEventName, payload: unknown];
}

/** A running (or startable) gateway. */
export class GatewayServer extends EventEmitter<GatewayServerEvents> {
  private readonly servers: Server[] = [];
  private readonly intakes: UpgradeIntake[] = [];
  /** Every socket's WebSocket starts with these (the pre-auth payload limit). */
  private readonly wsOptions: ServerWebSocketOptions;
  private readonly connections = new Set<Connection>();
  private readonly caps: ConnectionCaps;
  private readonly host: ConnectionHost;
  private readonly logger: GatewayLogger;
  private readonly now: () => number;
  private listenHosts: string[] = [];
  private boundPort = 0;
  private tick: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly presence: PresenceNotifier;
  private readonly onHttpRequest: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly assertions: AssertionVerifier;
  /** What the last lookup of the auth settings returned; the upgrade goes by it (see onUpgrade). */
  private lastAuth: GatewayAuth | null = null;
  readonly startedAtMs: number;
  readonly pairing: PairingService;
  readonly devices: DeviceManager;

  constructor(private readonly options: GatewayServerOptions) {
    super();
    this.caps = new ConnectionCaps({ maxConnections: 4096, maxConnectionsPerIp: 256, ...options.limits });
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.startedAtMs = this.now();
    this.assertions = new AssertionVerifier(options.proxyAssertions);
    this.wsOptions = { maxPayload: MAX_PREAUTH_PAYLOAD_BYTES };
    const info: GatewayInfo = {
      version: GATEHOUSE_VERSION,
      startedAtMs: this.startedAtMs,
      now: this.now,
      urls: () => this.urls(),
      bind: () => ({ hosts: [...this.listenHosts], port: this.boundPort }),
      authMode: () => options.auth().mode,
      tlsFingerprint: () => options.tls?.fingerprint ?? null,
      connections: () => this.openConnections(),
    };
    this.pairing = new PairingService(
      options.store,
      options.ownerDeviceId,
      { ttlMs: 600_000, total: 256, perIp: 16, ...options.pendingLimits },
      { broadcast: (event, payload) => this.broadcast(event, payload) },
      this.now,
    );
    this.devices = new DeviceManager(
      options.store,
      options.ownerDeviceId,
      {
        broadcast: (event, payload) => this.broadcast(event, payload),
        closeSessions: (select, reason) => this.closeSessions(select, reason),
        isConnected: (deviceId) =>
          [...this.connections].some((c) => c.isOpen && c.session?.deviceId === deviceId),
        authorityRevoked: (deviceId, reason, disabledJobs) =>
          options.onAuthorityRevoked?.(deviceId, reason, disabledJobs),
      },
      this.now,
    );
    this.host = {
      auth: () => this.lookUpAuth(),
      pairing: this.pairing,
      devices: this.devices,
      autoApproveLocal: options.autoApproveLocal ?? true,
      runtimeTokens: options.runtimeTokens,
      signatures: options.signatures ?? adaptiveSignatureLanes(),
      methods: options.methods,
      hello: helloConstants(Object.keys(options.methods)),
      customMethods: options.customMethods,
      info,
      logger: this.logger,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      now: this.now,
      onOpen: (conn) => {
        this.presence.changed();
        this.emit("session-open", conn.handle());
      },
      onClose: (conn) => {
        this.presence.changed();
        this.emit("session-close", conn.handle());
      },
      onGone: (conn) => this.connections.delete(conn),
    };
    this.presence = new PresenceNotifier(
      () => this.openConnections(),
      (payload) => {
        let built: PresencePayload | undefined;
        for (const c of this.connections) {
          const s = c.isOpen ? c.session : null;
          if (s && receivesBroadcast(s, "presence")) c.sendEvent("presence", (built ??= payload()));
        }
      },
      this.now,
    );
    this.onHttpRequest = createHttpHandler({
      version: GATEHOUSE_VERSION,
      stopping: () => this.stopping,
      ownNames: () => this.ownNames(),
      controlUiDir: options.controlUiDir === undefined ? defaultControlUiDir() : options.controlUiDir,
    });
  }

  /** The bound port (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** `ws://host:port` (`wss://` with TLS) for every address listened on. */
  urls(): string[] {
    const scheme = this.options.tls ? "wss" : "ws";
    return this.listenHosts.map((h) => `${scheme}://${h.includes(":") ? `[${h}]` : h}:${this.boundPort}`);
  }

  /** The URL work on this host should dial: loopback when the gateway listens there. */
  localUrl(): string {
    const host = this.listenHosts.find((h) => h === "127.0.0.1" || h === "0.0.0.0")
      ? "127.0.0.1"
      : this.listenHosts.find((h) => h === "::1" || h === "::")
        ? "[::1]"
        : (this.listenHosts[0] ?? "127.0.0.1");
    const scheme = this.options.tls ? "wss" : "ws";
    return `${scheme}://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** `name:port` strings browsers may use for this gateway (Host check, DNS-rebinding defence). */
  ownNames(): Set<string> {
    return ownHostNames({
      listenHosts: this.listenHosts,
      port: this.boundPort,
      allowedOrigins: this.options.allowedOrigins ?? [],
    });
  }

  /** Admitted connections. */
  openConnections(): ConnectionSummary[] {
    const out: ConnectionSummary[] = [];
    for (const c of this.connections) {
      const s = c.isOpen ? c.summary() : null;
      if (s) out.push(s);
    }
    return out;
  }

  /** Listens on every configured address; rejects with the listen error if a required one fails. */
  async start(): Promise<void> {
    const optional = new Set(this.options.optionalHosts ?? (this.options.hosts.length > 1 ? ["::1"] : []));
    let port = this.options.port;
    const onUpgrade = (req: UpgradeRequestFacts, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head);
    for (const host of this.options.hosts) {
      const tls = this.options.tls;
      // HTTPS (and the TLS stack under it) is loaded only by a gateway that serves wss://.
      const server = tls
        ? process
            .getBuiltinModule("node:https")
            .createServer({ cert: tls.cert, key: tls.key }, (req, res) => this.onHttpRequest(req, res))
        : createServer((req, res) => this.onHttpRequest(req, res));
      // Upgrades Node's parser reads (every one over TLS, unusual ones over plain HTTP) and, in
      // front of the plain listener, the intake's: both end in the same handler.
      server.on("upgrade", onUpgrade);
      if (!tls) this.intakes.push(installUpgradeIntake(server, onUpgrade));
      try {
        await listen(server, host, port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (optional.has(host) && (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT")) {
          this.logger.log("warn", "bind skipped", { host, reason: code });
          continue;
        }
        await this.closeServers();
        throw err;
      }
      const addr = server.address();
      if (addr && typeof addr === "object") port = addr.port;
      this.servers.push(server);
      this.listenHosts.push(host);
    }
    this.boundPort = port;
    const interval = this.options.tickIntervalMs ?? TICK_INTERVAL_MS;
    this.tick = setInterval(() => this.broadcast("tick", { ts: this.now() }), interval);
    this.tick.unref();
    this.logger.log("info", "gateway listening", { urls: this.urls() });
  }

  /** Sends an event to every connection the policy's audience table names for it. */
  broadcast(event: WireEventName, payload: unknown): void {
    this.emit("broadcast", event, payload);
    const subject = eventSubject(event, payload);
    for (const c of this.connections) {
      if (receivesBroadcast(c.session, event, subject)) c.sendEvent(event, payload);
    }
  }

  /** Closes a device's live sessions with 4001 (its pairing or token changed); returns how many. */
  closeSessions(select: CloseSelector, reason: string): number {
    return this.closeWhere((s, c) => {
      if (s.deviceId !== select.deviceId || (select.role !== null && s.role !== select.role)) return false;
      if (select.tokenSessionsOnly && s.authMethod !== "device-token" && s.authMethod !== "setup-code")
        return false;
      return c.connId !== select.exceptConnId;
    }, reason);
  }

  /** Closes every connection that authenticated with a job's runtime token (the job ended); returns how many. */
  closeJobSessions(jobId: string, reason: string): number {
    return this.closeWhere((s) => s.runtimeJobId === jobId, reason);
  }

  private closeWhere(match: (s: Session, c: Connection) => boolean, reason: string): number {
    let n = 0;
    for (const c of this.connections) {
      const s = c.session;
      if (!c.isOpen || !s || !match(s, c)) continue;
      c.close(CLOSE_CODES.credentialsChanged, reason);
      n++;
    }
    return n;
  }

  /** Tells clients why, closes them with 1012, stops listening. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.tick) clearInterval(this.tick);
    this.presence.stop();
    const reason = options.reason ?? "gateway stopping";
    this.broadcast("shutdown", {
      reason,
      ...(options.restartExpectedMs !== undefined ? { restartExpectedMs: options.restartExpectedMs } : {}),
    });
    const closing = [...this.connections];
    for (const c of closing) c.close(CLOSE_CODES.serviceRestart, "service restart");
    const serversClosed = this.closeServers();
    const grace = setTimeout(() => {
      for (const c of closing) c.terminate();
    }, options.graceMs ?? 2000);
    await serversClosed;
    clearTimeout(grace);
    try {
      this.pairing.flushStamps();
    } catch {
      // Stamps are best-effort bookkeeping (a full disk); the audit rows below matter more.
    }
    try {
      this.pairing.flushAudit();
    } catch (err) {
      // The store may be unwritable (disk full); stopping must still finish and release the lock.
      this.logger.log("error", "could not write the last audit rows", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.logger.log("info", "gateway stopped", { reason });
  }

  private async closeServers(): Promise<void> {
    for (const intake of this.intakes) intake.close();
    this.intakes.length = 0;
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
  }

  /** The current auth settings (the embedder's port: a stat of the config file), remembered. */
  private lookUpAuth(): GatewayAuth {
    const auth = this.options.auth();
    this.lastAuth = auth;
    return auth;
  }

  private onUpgrade(req: UpgradeRequestFacts, socket: Duplex, head: Buffer): void {
    socket.on("error", destroyOnError);
    if (this.stopping) {
      rejectUpgrade(socket, 503, "gateway stopping");
      return;
    }
    const facts = transportFacts(req);
    const verdict = upgradeVerdict({
      origin: facts.origin,
      host: facts.host,
      peerLoopback: isLoopbackIp(facts.peerAddress),
      allowedOrigins: this.options.allowedOrigins ?? [],
      ownNames: facts.origin === null ? EMPTY_NAMES : this.ownNames(),
    });
    if (!verdict.ok) {
      this.logger.log("info", "upgrade refused", {
        peer: facts.peerAddress,
        origin: facts.origin,
        code: verdict.code,
        rule: verdict.trace.at(-1),
      });
      this.pairing.recordUpgradeRefusal({
        peer: facts.peerAddress,
        origin: facts.origin,
        code: verdict.code,
        trace: verdict.trace,
      });
      rejectUpgrade(socket, verdict.status, UPGRADE_REFUSAL_MESSAGE[verdict.code]);
      return;
    }
    const locality = resolveLocality(facts, this.options.trustedProxies ?? []);
    // Counted by the attributed client (behind a trusted proxy), else by the socket peer.
    const slot = this.caps.acquire(locality.clientIp ?? facts.peerAddress);
    if (!slot.ok) {
      const code = slot.reason === "total" ? "TOO_MANY_CONNECTIONS" : "TOO_MANY_CONNECTIONS_FROM_ADDRESS";
      this.logger.log("warn", "upgrade refused", { peer: locality.clientIp ?? facts.peerAddress, code });
      this.pairing.recordUpgradeRefusal({
        peer: locality.clientIp ?? facts.peerAddress,
        origin: facts.origin,
        code,
        trace: [],
      });
      rejectUpgrade(
        socket,
        slot.reason === "total" ? 503 : 429,
        slot.reason === "total" ? "too many connections" : "too many connections from this address",
      );
      return;
    }
    // `release` is idempotent: a plain listener, not `once`'s wrapper, which is held per socket too.
    socket.on("close", slot.release);
    // The settings are looked up (a stat of the config file) once per connect, by the connect
    // frame: a rotated secret counts from the next connect frame, as before. The upgrade needs
    // them only to know whether to gather proxy facts, so it goes by the last lookup, except in
    // trusted-proxy mode, where the facts must be checked against current settings. A switch
    // into that mode after the last lookup is caught at the connect frame (closed, reconnect).
    const last = this.lastAuth;
    const auth = last && last.mode !== "trusted-proxy" ? last : this.lookUpAuth();
    if (auth.mode !== "trusted-proxy" || !auth.trustedProxy) {
      this.acceptUpgrade(req, socket, head, locality, facts.peerAddress, null);
      return;
    }
    // Trusted-proxy mode: the proxy's assertion is verified (JWKS I/O) before the socket opens,
    // so the handshake decides on facts, synchronously, like in every other mode.
    gatherProxyFacts(
      req,
      facts,
      { ...auth, trustedProxy: auth.trustedProxy },
      this.options.trustedProxies ?? [],
      this.assertions,
    ).then(
      (proxy) => this.acceptUpgrade(req, socket, head, locality, facts.peerAddress, proxy),
      (err: unknown) => {
        this.logger.log("error", "upgrade refused: proxy facts could not be gathered", {
          peer: facts.peerAddress,
          error: err instanceof Error ? err.message : String(err),
        });
        rejectUpgrade(socket, 503, "gateway could not check the proxy's identity");
      },
    );
  }

  private acceptUpgrade(
    req: UpgradeRequestFacts,
    socket: Duplex,
    head: Buffer,
    locality: Locality,
    peerAddress: string,
    proxy: ProxyFacts | null,
  ): void {
    if (this.stopping || socket.destroyed) {
      socket.destroy();
      return;
    }
    // The 101 response and the challenge leave in one write: one system call and one wake-up of
    // the client instead of two each (a refused upgrade's `end()` flushes it too).
    socket.cork();
    try {
      // The upgrade and TLS sockets Node's servers hand over are net.Sockets.
      const ws = acceptWebSocket(req, socket as Socket, head, this.wsOptions);
      if (ws === null) return;
      // The socket's close listener (onUpgrade) releases the slot, and the connection leaves the
      // set through the host's onGone: nothing made by this call outlives the upgrade.
      const conn = new Connection(ws, locality, peerAddress, this.host, proxy);
      this.connections.add(conn);
      conn.start();
    } finally {
      socket.uncork();
    }
  }
}

/**
 * A socket's error listener lives as long as the socket. An arrow function made in `onUpgrade`
 * would share that call's closure scope, and keep its upgrade request (headers and all), its
 * `head` buffer and its facts alive for the whole connection: about 1.5 KB per held connection.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Creates a gateway; call `start()` to listen. */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  return new GatewayServer(options);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ host, port, ipv6Only: host.includes(":") }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Only a browser's upgrade needs the gateway's names (they are computed per request). */
const EMPTY_NAMES: ReadonlySet<string> = new Set();

const UPGRADE_REFUSAL_MESSAGE: Readonly<Record<UpgradeRefusal, string>> = {
  CONTROL_UI_ORIGIN_NOT_ALLOWED: ERROR_TABLE.CONTROL_UI_ORIGIN_NOT_ALLOWED.message,
  HOST_NOT_ALLOWED: ERROR_TABLE.HOST_NOT_ALLOWED.message,
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  403: "Forbidden",
  421: "Misdirected Request",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const retry = status === 429 || status === 503 ? "Retry-After: 5\r\n" : "";
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Bad Request"}\r\nConnection: close\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
