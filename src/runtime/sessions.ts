/**
 * Sessions: processes the gateway starts on someone's behalf (sub-agents, cron runs). Each gets a
 * runtime token bound to its session id and a scope set no wider than its creator's, in an
 * environment without the gateway's secrets. Each rests on its creator's authority (a device, or
 * the session or cron job that started it). When a session ends — exit, kill, timeout — its token
 * dies, every connection that authenticated with it is closed at once (a helper it left behind
 * outside its process group included), and the sessions it spawned are killed with it. Revoking or
 * removing the device it rests on kills it the same way. Records live in the store; output is kept
 * as a bounded tail per stream.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { silentLogger, type GatewayLogger } from "../gateway/log.js";
import type { RuntimeCaller } from "../methods/params.js";
import type { SessionService, SessionView, SpawnRequest } from "../methods/sessions.js";
import { decideNewWork, type WorkDecision } from "../policy/work.js";
import { GatewayError } from "../protocol/errors.js";
import type { SessionEventName, SessionEventPayloads, SessionStartedEvent } from "../protocol/sessions.js";
import { SESSION_REDACTED_FIELDS } from "../protocol/work-vocabulary.js";
import { normalizeSet } from "../store/codec.js";
import type { Store } from "../store/db.js";
import type { SessionEnd, SessionQuery, SessionRecord } from "../store/sessions.js";
import { buildChildEnv, checkCallerEnv, searchableSecrets } from "./child-env.js";
import { DEFAULT_OUTPUT_TAIL_BYTES, OutputTail } from "./output-tail.js";
import { DEFAULT_RUNTIME_TOKEN_TTL_MS, type RuntimeTokenService } from "./runtime-tokens.js";
import { createSandbox, type JobLaunch, type Sandbox } from "./sandbox-launcher.js";

export interface SessionManagerOptions {
  store: Store;
  tokens: RuntimeTokenService;
  /** The URL children dial (the gateway's loopback URL); read at each spawn. */
  gatewayUrl: () => string;
  /** The gateway's TLS certificate fingerprint children pin (wss://); null for plain ws://. */
  gatewayTlsFingerprint?: () => string | null;
  logger?: GatewayLogger;
  now?: () => number;
  /** The environment children inherit from, minus secrets; default `process.env`. */
  inheritedEnv?: NodeJS.ProcessEnv;
  /** The gateway's shared secrets (token, password): never in a child's environment. */
  secretValues?: () => readonly (string | undefined | null)[];
  /** Output kept per stream; default 64 KiB. */
  outputTailBytes?: number;
  /** SIGTERM → SIGKILL grace when killing; default 3 s. */
  killGraceMs?: number;
  /** How long a stop waits past the kill grace for its sessions to end; default 5 s. */
  stopAfterKillMs?: number;
  /** Running sessions at most (a bound on runaway sub-agents spawning sub-agents); default 64. */
  maxRunning?: number;
  /**
   * Closes every live connection that authenticated with a job's runtime token (the gateway's port);
   * called the moment the job ends, so nothing it handed its token to keeps working.
   */
  closeJobConnections?: (jobId: string, reason: string) => number;
  /** Tells listeners a session started or ended (the gateway's port: use `server.broadcast`). */
  announce?: SessionAnnouncer;
  /** Where children run; default: a bubblewrap sandbox (see `sandbox-launcher.ts`). */
  sandbox?: Sandbox;
}

/** Sends a session lifecycle event to whoever the policy says may hear it. */
export type SessionAnnouncer = <E extends SessionEventName>(
  event: E,
  payload: SessionEventPayloads[E],
) => void;

/** Extra facts for sessions the gateway starts itself (cron runs). */
export interface SpawnContext {
  cronJobId?: string;
}

interface Live {
  record: SessionRecord;
  child: ChildProcess;
  launch: JobLaunch;
  stdout: OutputTail;
  stderr: OutputTail;
  /** Set when the gateway ends it: the status it ends with, and why. */
  ending: "killed" | "timed-out" | null;
  endReason: string | null;
  /** Its token is revoked and its connections are closed (once). */
  cutOff: boolean;
  timers: NodeJS.Timeout[];
  ended: Promise<SessionView>;
  /** Settles `ended` with the session's final view (once: see `#finish`). */
  resolveEnded: (view: SessionView) => void;
  /** Its record is final: the process's late exit, if any, changes nothing. */
  finished: boolean;
}

const DEFAULT_KILL_GRACE_MS = 3000;
const DEFAULT_MAX_RUNNING = 64;
/** After exit, how long to wait for the output pipes to close before cutting them. */
const DRAIN_AFTER_EXIT_MS = 1000;
/**
 * A stop waits this long past the kill grace for its sessions to end (SIGKILL, then the monitor's
 * exit and the output drain, well under this); past it, the stop goes on without them.
 */
const DEFAULT_STOP_AFTER_KILL_MS = 5000;
/** A token outlives its session's time limit by this margin (the kill grace comes on top). */
const TOKEN_TTL_MARGIN_MS = 60_000;

/** Starts, tracks and stops session processes. */
export class SessionManager implements SessionService {
  readonly #store: Store;
  readonly #tokens: RuntimeTokenService;
  readonly #gatewayUrl: () => string;
  readonly #gatewayTlsFingerprint: () => string | null;
  readonly #logger: GatewayLogger;
  readonly #now: () => number;
  readonly #inherited: NodeJS.ProcessEnv;
  readonly #secretValues: () => readonly (string | undefined | null)[];
  readonly #tailBytes: number;
  readonly #graceMs: number;
  readonly #stopAfterKillMs: number;
  readonly #maxRunning: number;
  readonly #closeJobConnections: (jobId: string, reason: string) => number;
  readonly #announce: SessionAnnouncer;
  readonly #sandbox: Sandbox;
  readonly #live = new Map<string, Live>();
  /** Spawns between the limit check and the process existing (counted against the limit). */
  #starting = 0;
  #stopping = false;

  constructor(options: SessionManagerOptions) {
    this.#store = options.store;
    this.#tokens = options.tokens;
    this.#gatewayUrl = options.gatewayUrl;
    this.#gatewayTlsFingerprint = options.gatewayTlsFingerprint ?? (() => null);
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#inherited = options.inheritedEnv ?? process.env;
    this.#secretValues = options.secretValues ?? (() => []);
    this.#tailBytes = options.outputTailBytes ?? DEFAULT_OUTPUT_TAIL_BYTES;
    this.#graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.#stopAfterKillMs = options.stopAfterKillMs ?? DEFAULT_STOP_AFTER_KILL_MS;
    this.#maxRunning = options.maxRunning ?? DEFAULT_MAX_RUNNING;
    this.#closeJobConnections = options.closeJobConnections ?? (() => 0);
    this.#announce = options.announce ?? (() => {});
    this.#sandbox = options.sandbox ?? createSandbox();
  }

  /** How many sessions this gateway is running now. */
  get runningCount(): number {
    return this.#live.size;
  }

  /** True while the session's process is running under this gateway. */
  isRunning(id: string): boolean {
    return this.#live.has(id);
  }

  /**
   * Starts `request.command` with `request.args` (no shell). The session's scopes are the requested
   * ones (default: the caller's) and must all be covered by the caller's: a runtime-token caller
   * holds at most its token's scopes, so a child's children are never wider than the child.
   */
  async spawn(
    request: SpawnRequest,
    caller: RuntimeCaller,
    context: SpawnContext = {},
  ): Promise<SessionView> {
    if (this.#stopping) throw new GatewayError("SHUTTING_DOWN", { retryable: true });
    // Fail closed: without a working sandbox nothing starts (SANDBOX_UNAVAILABLE says how to fix it).
    await this.#sandbox.ready();
    if (this.#stopping) throw new GatewayError("SHUTTING_DOWN", { retryable: true });
    if (this.#live.size + this.#starting >= this.#maxRunning) {
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: `too many running sessions (${this.#maxRunning}); wait for some to end or kill them`,
        retryable: true,
        details: { reason: "session-limit", limit: this.#maxRunning },
      });
    }
    const work = decideNewWork(caller.scopes, request.scopes);
    if (!work.allow) throw workRefused(work, "session");
    const scopes = normalizeSet(work.scopes);
    const authorityDeviceId = this.authorityOf(caller);
    const secrets = searchableSecrets(this.#secretValues());
    const isCredential = (text: string) => this.#store.runtimeTokens.isIssuedCredential(text);
    const envProblem = request.env ? checkCallerEnv(request.env, secrets, isCredential) : null;
    if (envProblem) {
      throw new GatewayError("INVALID_PARAMS", {
        message: envProblem.message,
        details: { field: envProblem.field },
      });
    }
    const cwd = request.cwd ?? null;
    if (cwd !== null) checkCwd(cwd, this.#sandbox);

    const id = newId("sess");
    const now = this.#now();
    const record: SessionRecord = {
      id,
      label: request.label ?? null,
      command: [request.command, ...(request.args ?? [])],
      cwd,
      scopes,
      parentSessionId: caller.runtimeJobId,
      cronJobId: context.cronJobId ?? null,
      createdBy: caller.actor,
      authorityDeviceId,
      status: "running",
      exitCode: null,
      signal: null,
      pid: null,
      startedAtMs: now,
      endedAtMs: null,
      stdoutTail: null,
      stderrTail: null,
      endReason: null,
    };
    const ttlMs =
      request.timeoutMs !== undefined
        ? request.timeoutMs + this.#graceMs + TOKEN_TTL_MARGIN_MS
        : DEFAULT_RUNTIME_TOKEN_TTL_MS;
    // Token and record exist before the process does: a child may call back at once. One
    // transaction: one commit of the store's log instead of two on every spawn.
    const token = this.#store.transaction(() => {
      const minted = this.#tokens.mint(id, scopes, ttlMs, authorityDeviceId);
      this.#store.sessions.insert(record);
      return minted;
    });
    const env = buildChildEnv({
      inherited: this.#inherited,
      extra: request.env,
      secretValues: secrets,
      isCredential,
      gatewayUrl: this.#gatewayUrl(),
      gatewayTlsFingerprint: this.#gatewayTlsFingerprint(),
      runtimeToken: token,
      scopes,
      sessionId: id,
    });

    let child: ChildProcess;
    let launch: JobLaunch;
    try {
      launch = this.#sandbox.launch({
        command: request.command,
        args: request.args ?? [],
        cwd,
        path: env.PATH,
      });
      child = spawn(launch.file, launch.args, {
        ...launch.options,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so a kill reaches whatever it started too.
        detached: process.platform !== "win32",
        windowsHide: true,
        shell: false,
      });
    } catch (err) {
      return this.#failedToStart(record, err);
    }
    this.#starting++;
    const started = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", (err) => resolve(err));
    }).finally(() => this.#starting--);
    if (started) return this.#failedToStart(record, started);
    return this.#track(record, child, launch, request.timeoutMs);
  }

  /** Sessions, newest first; a running one shows its live state. */
  list(query: SessionQuery = {}): SessionView[] {
    return this.#store.sessions.list(query).map((r) => this.#withLive(r));
  }

  /** A session with its output so far. */
  get(id: string): SessionView | null {
    const record = this.#store.sessions.get(id);
    return record ? this.#withLive(record) : null;
  }

  /** Resolves once the session has ended (at once for an ended one); null for an unknown id. */
  async waitEnded(id: string): Promise<SessionView | null> {
    const live = this.#live.get(id);
    return live ? live.ended : this.get(id);
  }

  /**
   * The device a caller's new work rests on: a runtime-token caller's job's, else the caller's own
   * device (null for device-less roots). A job that is no longer running starts nothing.
   */
  authorityOf(caller: RuntimeCaller): string | null {
    if (caller.runtimeJobId === null) return caller.deviceId;
    const parent = this.#live.get(caller.runtimeJobId)?.record;
    if (!parent) {
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: `session ${caller.runtimeJobId} has ended; work it started cannot start more`,
        details: { reason: "job-ended", sessionId: caller.runtimeJobId },
      });
    }
    return parent.authorityDeviceId;
  }

  /** Ends a running session: SIGTERM to its process group, SIGKILL after the grace period. */
  async kill(id: string, caller: RuntimeCaller): Promise<SessionView> {
    const live = this.#live.get(id);
    if (!live) {
      const record = this.#store.sessions.get(id);
      if (!record) throw new GatewayError("INVALID_PARAMS", { message: `unknown session ${id}` });
      return record;
    }
    this.#logger.log("info", "session kill requested", { session: id, by: caller.actor });
    this.#end(live, "killed", `killed by ${caller.actor}`);
    return live.ended;
  }

  /**
   * A device's authority ended (its operator role was revoked or it was removed): every session
   * resting on it is ended now — token dead, connections closed, process killed — with its
   * children. Returns the ids of the sessions ended.
   */
  revokeAuthority(deviceId: string, reason: string): string[] {
    const ended: string[] = [];
    for (const live of [...this.#live.values()]) {
      if (live.record.authorityDeviceId !== deviceId || live.cutOff) continue;
      this.#end(live, "killed", reason);
      ended.push(live.record.id);
    }
    if (ended.length > 0)
      this.#logger.log("info", "sessions ended with their authority", { sessions: ended });
    return ended;
  }

  /**
   * Who created session `id`, who created them, and so on, nearest first: a session's creator is
   * its `createdBy`; `session:<id>` continues with that session's, `cron:<id>` with the job's.
   */
  creatorChain(id: string): string[] {
    const chain: string[] = [];
    let actor = this.#store.sessions.get(id)?.createdBy;
    // Bounded: a chain is as deep as sessions spawning sessions, and never loops in practice.
    while (actor !== undefined && !chain.includes(actor) && chain.length < 64) {
      chain.push(actor);
      const [kind, ref = ""] = actor.split(/:(.*)/s);
      actor =
        kind === "session"
          ? this.#store.sessions.get(ref)?.createdBy
          : kind === "cron"
            ? this.#store.cron.get(ref)?.createdBy
            : undefined;
    }
    return chain;
  }

  /**
   * Ids of sessions left `running` by a previous gateway, now marked `lost` (their tokens revoked),
   * each announced as ended like any other end: whoever follows sessions learns it from the gateway.
   */
  markLost(): string[] {
    const ids = this.#store.sessions.markLost(this.#now());
    for (const id of ids) {
      this.#tokens.revokeJob(id);
      // Pruned at once (more ended sessions than are kept): nobody can list it, nothing to say.
      const record = this.#store.sessions.get(id);
      if (record) this.#announce("session.ended", { session: eventView(record), reason: "lost" });
    }
    if (ids.length > 0)
      this.#logger.log("warn", "sessions lost with the previous gateway", { sessions: ids });
    return ids;
  }

  /**
   * Refuses new sessions, kills the running ones (marked `killed`) and waits for them to end, for
   * a bounded time: a stop never hangs on a process that does not report its end.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    const deadline = Date.now() + this.#graceMs + this.#stopAfterKillMs;
    // A spawn already past its checks is a moment from being tracked: wait for it, or it would
    // start after the stop and run on.
    while (this.#starting > 0 && Date.now() < deadline) await delay(10, true);
    const running = [...this.#live.values()];
    for (const live of running) this.#end(live, "killed", "the gateway stopped");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
    });
    const outcome = await Promise.race([Promise.all(running.map((l) => l.ended)), late]);
    clearTimeout(timer);
    if (outcome !== "late") return;
    for (const live of running) {
      if (live.finished) continue;
      // SIGKILL was sent after the grace; a process that has still not exited is beyond what the
      // gateway can do (stuck in the kernel). Record the end and stop waiting for it.
      this.#logger.log("warn", "session did not exit after SIGKILL; the gateway stops without it", {
        session: live.record.id,
        pid: live.record.pid,
      });
      live.child.stdout?.destroy();
      live.child.stderr?.destroy();
      live.child.unref();
      live.resolveEnded(this.#finish(live, null, null));
    }
  }

  #failedToStart(record: SessionRecord, err: unknown): SessionView {
    const message = err instanceof Error ? err.message : String(err);
    this.#tokens.revokeJob(record.id);
    const end: SessionEnd = {
      status: "failed-to-start",
      exitCode: null,
      signal: null,
      endedAtMs: this.#now(),
      stdoutTail: "",
      stderrTail: `gatehouse: failed to start ${record.command[0]}: ${message}\n`,
      endReason: null,
    };
    this.#store.sessions.finish(record.id, end);
    this.#logger.log("warn", "session failed to start", { session: record.id, error: message });
    this.#announce("session.ended", { session: eventView({ ...record, ...end }), reason: end.status });
    return { ...record, ...end, error: message };
  }

  #track(
    record: SessionRecord,
    child: ChildProcess,
    launch: JobLaunch,
    timeoutMs: number | undefined,
  ): SessionView {
    const stdout = new OutputTail(this.#tailBytes);
    const stderr = new OutputTail(this.#tailBytes);
    child.stdout!.on("data", (c: Buffer) => stdout.push(c));
    child.stderr!.on("data", (c: Buffer) => stderr.push(c));
    child.on("error", () => {
      // Only kill failures can arrive after 'spawn'; the exit handler still runs.
    });
    record.pid = child.pid ?? null;
    if (record.pid !== null) this.#store.sessions.setPid(record.id, record.pid);

    let resolveEnded!: (v: SessionView) => void;
    const ended = new Promise<SessionView>((resolve) => (resolveEnded = resolve));
    const live: Live = {
      resolveEnded,
      finished: false,
      record,
      child,
      launch,
      stdout,
      stderr,
      ending: null,
      endReason: null,
      cutOff: false,
      timers: [],
      ended,
    };
    this.#live.set(record.id, live);
    if (timeoutMs !== undefined) {
      const t = setTimeout(() => this.#end(live, "timed-out", `timed out after ${timeoutMs} ms`), timeoutMs);
      t.unref();
      live.timers.push(t);
    }

    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.once("exit", (code, signal) => {
      // The job is over: its token and every connection made with it stop now, before the output is
      // even collected, and so do the sessions it spawned.
      this.#cutOff(live, "its session ended");
      void Promise.race([closed, delay(DRAIN_AFTER_EXIT_MS).then(() => "timeout" as const)]).then((r) => {
        if (r === "timeout") {
          // Something it started still holds the pipes: end the whole group and stop reading.
          signalLive(live, "SIGKILL");
          child.stdout?.destroy();
          child.stderr?.destroy();
        }
        if (live.finished) return;
        const end = launch.exit(code, signal);
        resolveEnded(this.#finish(live, end.code, end.signal));
      });
    });
    this.#announce("session.started", { session: eventView(record) });
    this.#logger.log("info", "session started", {
      session: record.id,
      pid: record.pid,
      by: record.createdBy,
      scopes: record.scopes,
      cronJob: record.cronJobId ?? undefined,
    });
    const view = this.#withLive(record);
    // Started while the gateway was stopping: the stop has waited for it, and ends it now.
    if (this.#stopping) this.#end(live, "killed", "the gateway stopped");
    return view;
  }

  #finish(live: Live, code: number | null, signal: NodeJS.Signals | null): SessionView {
    live.finished = true;
    for (const t of live.timers) clearTimeout(t);
    this.#live.delete(live.record.id);
    const end: SessionEnd = {
      status: live.ending ?? "exited",
      exitCode: code,
      signal,
      endedAtMs: this.#now(),
      stdoutTail: live.stdout.text(),
      stderrTail: live.stderr.text(),
      endReason: live.endReason,
    };
    this.#store.sessions.finish(live.record.id, end);
    this.#logger.log("info", "session ended", {
      session: live.record.id,
      status: end.status,
      exitCode: code,
      signal,
    });
    this.#announce("session.ended", { session: eventView({ ...live.record, ...end }), reason: end.status });
    return { ...live.record, ...end };
  }

  /** The gateway ends a session: cut off at once, then the process group is signalled. */
  #end(live: Live, ending: "killed" | "timed-out", reason: string): void {
    if (live.ending === null) {
      live.ending = ending;
      live.endReason = reason;
    }
    this.#cutOff(live, reason);
    this.#terminate(live);
  }

  /**
   * Revokes the session's token and closes every connection that authenticated with it, then ends
   * the sessions it spawned, whatever still holds the token (a detached helper included).
   */
  #cutOff(live: Live, reason: string): void {
    if (live.cutOff) return;
    live.cutOff = true;
    const id = live.record.id;
    this.#tokens.revokeJob(id);
    this.#closeJobConnections(id, reason);
    for (const child of [...this.#live.values()]) {
      if (child.record.parentSessionId === id) this.#end(child, "killed", `its parent session ${id} ended`);
    }
  }

  #terminate(live: Live): void {
    if (hasExited(live)) return;
    signalLive(live, "SIGTERM");
    // Not once it has exited: its pid (and process group) may name another process by then.
    const t = setTimeout(() => hasExited(live) || signalLive(live, "SIGKILL"), this.#graceMs);
    t.unref();
    live.timers.push(t);
  }

  #withLive(record: SessionRecord): SessionView {
    const live = this.#live.get(record.id);
    if (!live) return record;
    return { ...record, stdoutTail: live.stdout.text(), stderrTail: live.stderr.text() };
  }
}

/** `FORBIDDEN_ACTION` for work the policy refused: which scopes go beyond whom, and the rules. */
export function workRefused(decision: Extract<WorkDecision, { allow: false }>, what: string): GatewayError {
  const missing = decision.missingScopes;
  const them = missing.length === 1 ? "it" : "them";
  const whose =
    decision.rule === "work-exceeds-job-ceiling"
      ? `its creator did not hold ${them} when creating the job`
      : `the caller does not hold ${them}`;
  return new GatewayError("FORBIDDEN_ACTION", {
    message: `cannot give a ${what} ${missing.join(", ")}: ${whose}`,
    details: {
      reason: "scope-ceiling",
      missingScopes: [...missing],
      [decision.rule === "work-exceeds-job-ceiling" ? "ceilingScopes" : "callerScopes"]: decision.ceiling,
      trace: decision.trace,
    },
  });
}

/** `sess_…` / `cron_…`: a prefix and 64 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString("hex")}`;
}

function checkCwd(cwd: string, sandbox: Sandbox): void {
  const bad = (why: string) =>
    new GatewayError("INVALID_PARAMS", { message: `cwd: ${why}`, details: { field: "cwd" } });
  if (!isAbsolute(cwd)) throw bad("must be an absolute path");
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    throw bad(`${cwd} does not exist`);
  }
  if (!isDir) throw bad(`${cwd} is not a directory`);
  const hidden = sandbox.cwdProblem(cwd);
  if (hidden) throw bad(hidden);
}

/** Signals the job and whatever it started, the way its launch says (process group or sandbox). */
function signalLive(live: Live, signal: NodeJS.Signals): void {
  if (live.child.pid !== undefined) live.launch.signal(live.child.pid, signal);
}

function hasExited(live: Live): boolean {
  return live.child.exitCode !== null || live.child.signalCode !== null;
}

/** Resolves after `ms`; an unref'd timer unless `ref` (something awaits it that must finish). */
function delay(ms: number, ref = false): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (!ref) t.unref();
  });
}

/** A session as its events show it: the fields every reader who may list sessions sees. */
function eventView(s: SessionRecord): SessionStartedEvent["session"] {
  const out = {} as SessionStartedEvent["session"];
  for (const k of SESSION_REDACTED_FIELDS) (out as Record<string, unknown>)[k] = s[k];
  return out;
}
