/**
 * Work the gateway runs, composed in one place: runtime tokens, sessions (sub-agents) and cron.
 *
 * @example
 * const runtime = createRuntime({ store, gatewayUrl: () => server.localUrl(), logger });
 * const server = createGatewayServer({
 *   ...,
 *   methods: { ...coreMethods, ...runtime.methods },
 *   runtimeTokens: runtime.runtimeTokens,
 * });
 * await server.start();
 * runtime.start();
 * // on shutdown:
 * await runtime.stop();
 * await server.stop();
 */
import { dirname } from "node:path";
import type { GatewayLogger } from "../gateway/log.js";
import type { MethodTable } from "../gateway/methods.js";
import { createCronMethods } from "../methods/cron.js";
import { createSessionMethods } from "../methods/sessions.js";
import type { Store } from "../store/db.js";
import { CronScheduler } from "./cron.js";
import { RuntimeTokenService } from "./runtime-tokens.js";
import { createSandbox, type Sandbox, type SandboxOptions } from "./sandbox-launcher.js";
import { SessionManager, type SessionAnnouncer, type SessionManagerOptions } from "./sessions.js";

export interface RuntimeOptions {
  /** The open store (the gateway's). */
  store: Store;
  /** The URL children dial back on; read at each spawn (use `() => server.localUrl()`). */
  gatewayUrl: () => string;
  /** The gateway's TLS certificate fingerprint, for children to pin; null for plain ws://. */
  gatewayTlsFingerprint?: () => string | null;
  logger?: GatewayLogger;
  now?: () => number;
  /**
   * The gateway's shared secrets (`auth().token`, `auth().password`): any inherited variable whose
   * value contains one is withheld from children, and a caller may not pass one in `env`. Names
   * that look like credentials are withheld regardless.
   */
  secretValues?: () => readonly (string | undefined | null)[];
  /** Session limits and environment (tests, embedding). */
  sessions?: Pick<SessionManagerOptions, "inheritedEnv" | "outputTailBytes" | "killGraceMs" | "maxRunning">;
  /** The gateway's port: closes every connection made with a job's runtime token (use `server.closeJobSessions`). */
  closeJobConnections?: (jobId: string, reason: string) => number;
  /** The gateway's port: sends `session.started` / `session.ended` (use `server.broadcast`). */
  announceSession?: SessionAnnouncer;
  /**
   * Where children run (`gateway.sandbox.*`); default a bubblewrap sandbox. List every path that
   * holds a secret in `secretPaths` (the state dir at least); the store's directory is added here.
   */
  sandbox?: SandboxOptions;
}

export interface Runtime {
  /** Pass to the gateway as `runtimeTokens`. */
  runtimeTokens: RuntimeTokenService;
  sessions: SessionManager;
  cron: CronScheduler;
  /** Where children run; its `status()` is what `status` and the logs report. */
  sandbox: Sandbox;
  /** `sessions.*` and `cron.*`; merge into the gateway's method table. */
  methods: MethodTable;
  /**
   * Call once the gateway listens: revokes the previous run's runtime tokens, marks its still
   * `running` sessions `lost`, schedules cron jobs and applies their missed-run policy.
   */
  start(): void;
  /** Call before the gateway stops: stops cron, kills running sessions (marked `killed`). */
  stop(): Promise<void>;
  /**
   * A device's authority ended (operator role revoked, or removed): ends the sessions resting on it
   * and unschedules the cron jobs the store already disabled (`disabledJobs`). Pass to the gateway
   * as `onAuthorityRevoked`.
   */
  revokeAuthority(deviceId: string, reason: string, disabledJobs: readonly string[]): void;
}

/** Builds the runtime over an open store. */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { store, logger, now } = options;
  const runtimeTokens = new RuntimeTokenService(store, { now, logger });
  const sandbox = createSandbox({
    ...options.sandbox,
    secretPaths: [dirname(store.path), ...(options.sandbox?.secretPaths ?? [])],
  });
  const sessions = new SessionManager({
    store,
    tokens: runtimeTokens,
    gatewayUrl: options.gatewayUrl,
    gatewayTlsFingerprint: options.gatewayTlsFingerprint,
    logger,
    now,
    secretValues: options.secretValues,
    ...(options.closeJobConnections ? { closeJobConnections: options.closeJobConnections } : {}),
    ...(options.announceSession ? { announce: options.announceSession } : {}),
    ...options.sessions,
    sandbox,
  });
  const cron = new CronScheduler({ store, sessions, logger, now });
  let started = false;
  return {
    runtimeTokens,
    sessions,
    cron,
    sandbox,
    methods: { ...createSessionMethods(sessions), ...createCronMethods(cron) },
    start() {
      if (started) return;
      started = true;
      runtimeTokens.revokeAll();
      runtimeTokens.prune();
      sessions.markLost();
      cron.start();
      reportSandbox(sandbox, logger);
    },
    async stop() {
      cron.stop();
      await sessions.stop();
    },
    revokeAuthority(deviceId, reason, disabledJobs) {
      cron.authorityRevoked(disabledJobs);
      sessions.revokeAuthority(deviceId, reason);
    },
  };
}

/** Probes the sandbox now (not at the first spawn) and says in the log whether children can start. */
function reportSandbox(sandbox: Sandbox, logger: GatewayLogger | undefined): void {
  if (sandbox.mode === "none") {
    logger?.log("warn", "children run unsandboxed (gateway.sandbox.mode none)", {
      hint: "sub-agents and cron runs can read the owner key and the shared secret; remove the opt-out once bubblewrap is installed",
    });
    return;
  }
  sandbox.ready().then(
    () => {
      const s = sandbox.status();
      logger?.log("info", "sandbox ready", { bwrap: s.bwrap, user: s.user ?? "(the gateway's user)" });
    },
    (err: unknown) => {
      logger?.log("error", "children cannot be sandboxed: spawning is refused", {
        error: err instanceof Error ? err.message : String(err),
      });
    },
  );
}

export { CronScheduler, checkSchedule, missedSince, type CronRunReason } from "./cron.js";
export { CHILD_ENV, buildChildEnv, isWithheldName } from "./child-env.js";
export { DEFAULT_RUNTIME_TOKEN_TTL_MS, RuntimeTokenService } from "./runtime-tokens.js";
export { SessionManager, type SessionManagerOptions, type SpawnContext } from "./sessions.js";
export { createSandbox, type Sandbox, type SandboxOptions, type SandboxStatus } from "./sandbox-launcher.js";
