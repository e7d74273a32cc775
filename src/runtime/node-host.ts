/**
 * A node host: a long-lived role-`node` connection that offers commands to the gateway and answers
 * its `node.invoke.request` events. It signs with the state dir's identity (the owner key on the
 * gateway host, so no pairing there), keeps the device token it is issued after approval, and never
 * gives up: it waits out pending approvals and reconnects after drops and gateway restarts.
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import {
  backoffDelay,
  resolveReconnectOptions,
  type ReconnectOptions,
  type ResolvedReconnectOptions,
} from "../client/backoff.js";
import { asClientError, type GatewayClientError } from "../client/errors.js";
import { GatewayClient, type CloseInfo, type DeviceTokenStore, type GatewayEvent } from "../client/index.js";
import type { DeviceIdentity } from "../identity/index.js";
import type { HelloNodeSurface, HelloOk } from "../protocol/connect.js";
import { isRecord } from "../protocol/json.js";
import { NODE_HOST_COMMANDS, NodeCommandError, runNodeCommand } from "./node-host-commands.js";
import { NODE_PAIR_RESOLVED_EVENT } from "../protocol/events.js";
import { NODE_INVOKE_REQUEST_EVENT } from "./nodes.js";

export interface NodeHostOptions {
  url: string;
  identity: DeviceIdentity;
  /** Where the device token issued after approval is kept (`<state>/identity/device-auth.json`). */
  tokenStore: DeviceTokenStore;
  /**
   * Shared secret, or a one-time setup code (`bootstrapToken`, from `gatehouse pair code --profile
   * node`), for the first contact; afterwards the device token suffices.
   */
  auth?: { token?: string; password?: string; bootstrapToken?: string };
  /** wss:// only: the gateway certificate's SHA-256 to pin. */
  tlsFingerprint?: string;
  /** Defaults to the host name. */
  displayName?: string;
  /** Defaults to {@link NODE_HOST_COMMANDS}. */
  commands?: readonly string[];
  allowInsecure?: boolean;
  /** Extra upgrade headers (e.g. for a proxy in front of the gateway). */
  headers?: Record<string, string>;
  /** How often to ask again while approval is pending; default 3000 ms. */
  pendingRetryMs?: number;
  /** Backoff while the gateway is unreachable; default 500 ms doubling up to 10 s. */
  reconnect?: ReconnectOptions;
  connectTimeoutMs?: number;
  /** Per output stream of `system.run`. */
  maxOutputBytes?: number;
}

export interface PendingInfo {
  requestId: string | undefined;
  message: string;
  /** What the request asks for, as the gateway recorded it. */
  requestedRole?: string;
  requestedScopes?: string[];
  /** When the next attempt is made. */
  retryInMs: number;
}

export interface RetryInfo {
  error: GatewayClientError;
  attempt: number;
  delayMs: number;
}

export interface InvokedInfo {
  invokeId: string;
  command: string;
  ok: boolean;
  error?: { code: string; message: string };
}

/** A pending command-surface request of this session, resolved while it stays connected. */
export interface SurfaceResolvedInfo {
  requestId: string;
  decision: "approved" | "rejected";
  /** What this session exposes from now on: its commands within the approved surface. */
  exposed: string[];
  /** Its commands that stay outside the approved surface (none once approved). */
  notApproved: string[];
}

export interface NodeHostEvents {
  connected: [HelloOk];
  /**
   * After `connected`, when the gateway said (Gatehouse does, OpenClaw does not): the commands this
   * session exposes, and a wider surface it declared that waits for approval, with its requestId.
   */
  surface: [HelloNodeSurface];
  /**
   * The gateway resolved this session's pending surface request (an OpenClaw gateway says so on
   * approval only; Gatehouse on rejection too): no reconnect is needed for it to take effect.
   */
  surfaceResolved: [SurfaceResolvedInfo];
  /** The gateway holds a pairing request for this node; approve it on the gateway host. */
  pending: [PendingInfo];
  disconnected: [CloseInfo];
  /** A connect failed for another reason (gateway down, bad secret); retried after `delayMs`. */
  retrying: [RetryInfo];
  invoked: [InvokedInfo];
}

export const DEFAULT_PENDING_RETRY_MS = 3_000;

/**
 * Errors that retrying cannot fix: the options are wrong, the certificate is not the pinned one (a
 * person must look), or the setup code is dead.
 */
const FATAL = new Set([
  "INVALID_OPTIONS",
  "INSECURE_URL",
  "TOKEN_STORE_FAILED",
  "TLS_FINGERPRINT_MISMATCH",
  "TLS_UNTRUSTED",
]);
const FATAL_DETAILS = new Set(["AUTH_BOOTSTRAP_TOKEN_INVALID"]);

/** One node host; `run()` until `stop()`. */
export class NodeHost extends EventEmitter<NodeHostEvents> {
  readonly #client: GatewayClient;
  readonly #identity: DeviceIdentity;
  readonly #commands: readonly string[];
  readonly #pendingRetryMs: number;
  readonly #backoff: ResolvedReconnectOptions;
  readonly #maxOutputBytes: number | undefined;
  #running: Promise<void> | undefined;
  /** Commands in progress; aborted (their processes killed) by `stop()`. */
  readonly #inProgress = new Set<AbortController>();
  #stopping = false;
  #wake: (() => void) | undefined;
  /**
   * The surface request this session waits on, as its hello-ok said: a requestId, null when
   * nothing waits, undefined when the gateway did not say (OpenClaw).
   */
  #awaiting: string | null | undefined;

  /** Validates the options (URL safety included); connects only in `run()`. */
  constructor(options: NodeHostOptions) {
    super();
    this.#identity = options.identity;
    this.#commands = [...(options.commands ?? NODE_HOST_COMMANDS)];
    this.#pendingRetryMs = options.pendingRetryMs ?? DEFAULT_PENDING_RETRY_MS;
    this.#backoff = resolveReconnectOptions({ maxDelayMs: 10_000, ...options.reconnect });
    this.#maxOutputBytes = options.maxOutputBytes;
    this.#client = new GatewayClient({
      url: options.url,
      auth: options.auth,
      identity: options.identity,
      deviceTokenStore: options.tokenStore,
      client: { id: "node-host", mode: "node", displayName: options.displayName ?? hostname() },
      role: "node",
      scopes: [],
      commands: this.#commands,
      allowInsecure: options.allowInsecure,
      ...(options.tlsFingerprint ? { tlsFingerprint: options.tlsFingerprint } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
    this.#client.on("event", (e) => this.#onEvent(e));
  }

  /** This node's id on the gateway. */
  get nodeId(): string {
    return this.#identity.deviceId;
  }

  /** The offered commands. */
  get commands(): readonly string[] {
    return this.#commands;
  }

  /** True while a session is open. */
  get connected(): boolean {
    return this.#client.state === "open";
  }

  /**
   * Connects and stays connected until `stop()`; resolves then. Rejects only when retrying cannot
   * help (invalid options, unsafe URL, unusable token store).
   */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Kills commands still running, closes the session and ends `run()`. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    for (const run of this.#inProgress) run.abort();
    await this.#client.close();
    await this.#running?.catch(() => undefined);
  }

  async #loop(): Promise<void> {
    let attempt = 0;
    while (!this.#stopping) {
      let delayMs: number;
      try {
        const hello = await this.#client.connect();
        attempt = 0;
        const closed = this.#untilClosed();
        this.#awaiting = hello.nodeSurface ? (hello.nodeSurface.pending?.requestId ?? null) : undefined;
        this.emit("connected", hello);
        if (hello.nodeSurface) this.emit("surface", hello.nodeSurface);
        const info = await closed;
        if (this.#stopping) break;
        this.emit("disconnected", info);
        delayMs = backoffDelay(1, this.#backoff);
      } catch (err) {
        if (this.#stopping) break;
        const error = asClientError(err);
        if (FATAL.has(error.code) || FATAL_DETAILS.has(error.detailCode ?? "")) throw error;
        if (error.detailCode === "PAIRING_REQUIRED") {
          delayMs = Math.max(this.#pendingRetryMs, error.requestId ? 0 : (error.retryAfterMs ?? 0));
          const d = error.details ?? {};
          this.emit("pending", {
            requestId: error.requestId,
            message: error.message,
            retryInMs: delayMs,
            ...(typeof d.requestedRole === "string" ? { requestedRole: d.requestedRole } : {}),
            ...(Array.isArray(d.requestedScopes)
              ? { requestedScopes: d.requestedScopes.filter((x): x is string => typeof x === "string") }
              : {}),
          });
        } else {
          attempt += 1;
          delayMs = Math.max(backoffDelay(attempt, this.#backoff), error.retryAfterMs ?? 0);
          this.emit("retrying", { error, attempt, delayMs });
        }
      }
      await this.#sleep(delayMs);
    }
  }

  /** Resolves when the open session closes (or at once if it already has). */
  #untilClosed(): Promise<CloseInfo> {
    return new Promise((resolve) => {
      if (this.#client.state !== "open") {
        resolve({ code: 1006, reason: "" });
        return;
      }
      this.#client.once("close", resolve);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #onEvent(event: GatewayEvent): void {
    if (!isRecord(event.payload)) return;
    if (event.event === NODE_PAIR_RESOLVED_EVENT) this.#surfaceResolved(event.payload);
    if (event.event === NODE_INVOKE_REQUEST_EVENT) void this.#answer(event.payload);
  }

  /**
   * A resolution of this node's surface request: reported when it is the one this session waits
   * on (any approval, when the gateway never said which one waits). What is exposed follows the
   * approved surface the gateway sends; an OpenClaw gateway sends none, and its approval covers
   * everything this session declared.
   */
  #surfaceResolved(payload: Record<string, unknown>): void {
    const requestId = str(payload.requestId);
    const { decision } = payload;
    if (!requestId || payload.nodeId !== this.nodeId) return;
    if (decision !== "approved" && decision !== "rejected") return;
    if (this.#awaiting === null || (this.#awaiting !== undefined && this.#awaiting !== requestId)) return;
    if (this.#awaiting === undefined && decision !== "approved") return;
    this.#awaiting = null;
    const approved = Array.isArray(payload.approvedCommands)
      ? payload.approvedCommands.filter((c): c is string => typeof c === "string")
      : decision === "approved"
        ? this.#commands
        : [];
    this.emit("surfaceResolved", {
      requestId,
      decision,
      exposed: this.#commands.filter((c) => approved.includes(c)),
      notApproved: this.#commands.filter((c) => !approved.includes(c)),
    });
  }

  async #answer(request: Record<string, unknown>): Promise<void> {
    const invokeId = str(request.invokeId) ?? str(request.id);
    const command = str(request.command);
    if (!invokeId || !command) return;
    // A request for another node is not ours to answer.
    if (request.nodeId !== undefined && request.nodeId !== this.nodeId) return;
    let result: { ok: true; payload: unknown } | { ok: false; error: { code: string; message: string } };
    const abort = new AbortController();
    this.#inProgress.add(abort);
    try {
      if (!this.#commands.includes(command)) {
        throw new NodeCommandError("UNKNOWN_COMMAND", `this node host does not offer ${command}`);
      }
      const payload = await runNodeCommand(command, paramsOf(request), {
        ...(typeof request.timeoutMs === "number" ? { invokeTimeoutMs: request.timeoutMs } : {}),
        ...(this.#maxOutputBytes !== undefined ? { maxOutputBytes: this.#maxOutputBytes } : {}),
        signal: abort.signal,
      });
      result = { ok: true, payload };
    } catch (err) {
      result = {
        ok: false,
        error:
          err instanceof NodeCommandError
            ? { code: err.code, message: err.message }
            : { code: "INTERNAL_ERROR", message: err instanceof Error ? err.message : String(err) },
      };
    } finally {
      this.#inProgress.delete(abort);
    }
    this.emit("invoked", { invokeId, command, ok: result.ok, ...(result.ok ? {} : { error: result.error }) });
    // `id` + `nodeId` is the answer shape both Gatehouse and OpenClaw gateways accept.
    await this.#client
      .request("node.invoke.result", { id: invokeId, nodeId: this.nodeId, ...result })
      .catch(() => {
        // The session dropped or the gateway gave up on this invocation; it already failed there.
      });
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** `params`, or OpenClaw's `paramsJSON`; a malformed one becomes a params error of the command. */
function paramsOf(request: Record<string, unknown>): unknown {
  if (request.params !== undefined) return request.params;
  if (typeof request.paramsJSON !== "string") return undefined;
  try {
    return JSON.parse(request.paramsJSON) as unknown;
  } catch {
    throw new NodeCommandError("INVALID_PARAMS", "paramsJSON is not valid JSON");
  }
}
