/**
 * `gatehouse gateway start|stop|restart|status|install`: the gateway as a background service.
 * `start` launches `gateway run` detached (pid file and log in the state dir) and returns once it
 * answers; `stop` ends it gracefully, then forcefully; `status` says whether it runs (exit 3 when
 * not); `install` writes a systemd user unit that carries no secret.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertSafeBind, ENV, loadConfig, readGatewayEndpoint, resolveStateDir } from "../../config/index.js";
import type { CommonOptions } from "../connect.js";
import {
  healthz,
  lastLines,
  listeningUrls,
  preferredUrl,
  readLogSince,
  releaseLockOfKilled,
  spawnDetachedGateway,
  stopProcess,
} from "../lifecycle/daemon.js";
import type { PairList } from "../devices/types.js";
import { configuredAuth, dashboardLine } from "../lifecycle/dashboard.js";
import { plaintextExposureWarning } from "../lifecycle/exposure.js";
import { localTarget, queryLive, type ClientsSummary, type LiveStatus } from "../lifecycle/live.js";
import { removePidFile, writePidFile, type PidRecord } from "../lifecycle/pid-file.js";
import { CLI_PATH, flagValue } from "../lifecycle/process.js";
import { gatewayUrl, inspectGateway, lifecyclePaths, type GatewayState } from "../lifecycle/state.js";
import { ENABLE_COMMAND, renderUnit, UNIT_NAME, userUnitDir } from "../lifecycle/systemd.js";
import { CliError, EXIT, type Reporter } from "../output.js";
import type { SandboxReport } from "../../methods/status.js";
import { formatFingerprint } from "../../protocol/setup-code.js";
import { formatDuration } from "./health.js";
import {
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type InstallOptions,
  type LifecycleOptions,
  type RunFlags,
} from "./gateway-lifecycle-options.js";

/** How program.ts runs a command: `work` resolves to the exit status. */
export type RunCommand = (work: () => Promise<number>, json: boolean) => void;

/** `gateway status` exit status when no gateway runs (like `systemctl is-active`). */
export const EXIT_NOT_RUNNING = 3;
/** Lines of the log shown when a start fails. */
const LOG_TAIL_LINES = 20;

/** `gateway run` arguments from the flags; secrets go to the environment, never to argv. */
interface RunSpec {
  args: string[];
  secretEnv: Record<string, string>;
  /** Which secret flags were given (names only). */
  secretFlags: string[];
}

function runSpec(opts: RunFlags): RunSpec {
  const args: string[] = [];
  const push = (flag: string, value: string | undefined) => {
    if (value !== undefined) args.push(flag, value);
  };
  push("--port", opts.port);
  push("--bind", opts.bind);
  push("--host", opts.host);
  push("--auth", opts.auth);
  push("--log-format", opts.logFormat);
  const secretEnv: Record<string, string> = {};
  const secretFlags: string[] = [];
  if (opts.token !== undefined) {
    secretEnv[ENV.token] = opts.token;
    secretFlags.push("--token");
  }
  if (opts.password !== undefined) {
    secretEnv[ENV.password] = opts.password;
    secretFlags.push("--password");
  }
  return { args, secretEnv, secretFlags };
}

/** The reusable part of a recorded or observed `gateway run` command line (no state dir, no secrets). */
function reusableArgs(args: readonly string[]): { args: string[]; secretFlags: string[] } {
  const out: string[] = [];
  const secretFlags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.split("=")[0]! : a;
    const inline = a.includes("=");
    if (name === "--state-dir" || name === "--token" || name === "--password") {
      if (name !== "--state-dir") secretFlags.push(name);
      if (!inline) i++;
      continue;
    }
    out.push(a);
  }
  return { args: out, secretFlags };
}

function parseMs(value: string | undefined, fallback: number, flag = "--timeout"): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new CliError(
      "INVALID_FLAG",
      `${flag}: must be a positive number of milliseconds (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return n;
}

/** ` --state-dir DIR` for hints, when the user chose one on the command line. */
function stateDirHint(opts: { stateDir?: string }, stateDir: string): string {
  return opts.stateDir
    ? ` --state-dir ${/^[\w@%+=:,./-]+$/.test(stateDir) ? stateDir : JSON.stringify(stateDir)}`
    : "";
}

/** Fails like `gateway run` would (bad flag, unsafe bind) before anything is spawned. */
function checkRunConfig(stateDir: string, spec: RunSpec): void {
  const config = loadConfig({
    stateDir,
    env: { ...process.env, ...spec.secretEnv },
    overrides: {
      ...(flagValue(spec.args, "--port") !== undefined && { port: flagValue(spec.args, "--port") }),
      ...(flagValue(spec.args, "--bind") !== undefined && { bind: flagValue(spec.args, "--bind") }),
      ...(flagValue(spec.args, "--host") !== undefined && { host: flagValue(spec.args, "--host") }),
      ...(flagValue(spec.args, "--auth") !== undefined && { authMode: flagValue(spec.args, "--auth") }),
    },
  });
  assertSafeBind(config.gateway);
  const format = flagValue(spec.args, "--log-format");
  if (format !== undefined && format !== "text" && format !== "json") {
    throw new CliError(
      "INVALID_FLAG",
      `--log-format: must be text or json (got ${JSON.stringify(format)})`,
      EXIT.usage,
    );
  }
}

export interface StartResult {
  started: boolean;
  alreadyRunning: boolean;
  pid: number;
  url: string | null;
  urls: string[];
  stateDir: string;
  pidFile: string;
  logFile: string;
  args: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts the gateway in the background unless one already runs; resolves once it answers. */
async function startGateway(
  stateDir: string,
  spec: RunSpec,
  timeoutMs: number,
  out: Reporter,
): Promise<StartResult> {
  const paths = lifecyclePaths(stateDir);
  const base = { stateDir, pidFile: paths.pidFile, logFile: paths.logFile };
  const state = inspectGateway(stateDir);
  if (state.running) {
    const record = state.record;
    return {
      ...base,
      started: false,
      alreadyRunning: true,
      pid: state.pid,
      url: gatewayUrl(state, stateDir),
      urls: record?.urls ?? [],
      args: record?.args ?? reusableArgs(state.args).args,
    };
  }
  if (state.stalePidFile) {
    out.info(
      `ignoring stale pid file ${paths.pidFile}: pid ${state.stalePidFile.pid} ${
        state.staleReason === "dead" ? "is not running" : "is not a gatehouse gateway for this state dir"
      }`,
    );
    removePidFile(paths.pidFile);
  }
  if (state.lockHolder) {
    throw new CliError(
      "STATE_DIR_IN_USE",
      `state dir ${stateDir} is in use by pid ${state.lockHolder.pid}, which is not a gateway (a gatehouse command working on the store directly?)`,
      EXIT.failed,
      "wait for that command to finish, then start the gateway again",
      { fields: { holderPid: state.lockHolder.pid } },
    );
  }
  checkRunConfig(stateDir, spec);

  const spawned = spawnDetachedGateway({
    stateDir,
    logDir: paths.logDir,
    logFile: paths.logFile,
    args: spec.args,
    env: { ...process.env, ...spec.secretEnv },
  });
  const { child, pid } = spawned;
  let exit: { code: number | null; signal: string | null; error?: string } | null = null;
  child.once("exit", (code, signal) => (exit ??= { code, signal }));
  child.once("error", (err) => (exit ??= { code: null, signal: null, error: err.message }));
  const record: PidRecord = {
    pid,
    startedAtMs: spawned.startedAtMs,
    url: null,
    args: spec.args,
    ...(spec.secretFlags.length > 0 ? { secretFlags: spec.secretFlags } : {}),
  };
  writePidFile(paths.pidFile, record);

  const deadline = Date.now() + timeoutMs;
  let urls: string[] | null = null;
  let url: string | null = null;
  for (;;) {
    if (exit !== null) {
      const ended: { code: number | null; signal: string | null; error?: string } = exit;
      removePidFile(paths.pidFile, pid);
      // Another start may have won the race for the state dir: then a gateway does run.
      const now = inspectGateway(stateDir);
      if (now.running) {
        return {
          ...base,
          started: false,
          alreadyRunning: true,
          pid: now.pid,
          url: gatewayUrl(now, stateDir),
          urls: now.record?.urls ?? [],
          args: now.record?.args ?? [],
        };
      }
      const how = ended.error
        ? `could not be started (${ended.error})`
        : ended.signal
          ? `was killed by ${ended.signal}`
          : `exited with status ${ended.code}`;
      throw startFailed(`the gateway ${how} before accepting connections`, paths.logFile, spawned.logOffset, {
        exitCode: ended.code,
      });
    }
    if (url === null) {
      // Two starts at once append to one log, so its "gateway listening" line may be the other
      // child's. Only the endpoint file, written by the gateway holding the state-dir lock, says
      // that ours is the one serving; the log line then names every address it listens on.
      const endpoint = readGatewayEndpoint(stateDir);
      if (endpoint?.pid === pid) {
        urls = listeningUrls(readLogSince(paths.logFile, spawned.logOffset));
        url = (urls && preferredUrl(urls)) ?? endpoint.url;
      }
    }
    if (url !== null && (await healthz(url, 1000))) break;
    if (Date.now() >= deadline) {
      child.unref();
      const killed = await stopProcess(pid, 2000);
      if (killed.forced) await releaseLockOfKilled(stateDir, pid);
      removePidFile(paths.pidFile, pid);
      throw startFailed(
        `the gateway did not answer ${url ? `${url.replace(/^ws/, "http")}/healthz` : "on any address"} within ${timeoutMs} ms; it was stopped`,
        paths.logFile,
        spawned.logOffset,
        {},
        "raise --timeout, or run it in the foreground to watch it: gatehouse gateway run",
      );
    }
    await sleep(100);
  }
  // The endpoint file can name the dial URL before the log line naming every address is written
  // (log lines are flushed after the turn's work); the addresses decide the no-TLS warning.
  for (let i = 0; urls === null && i < 20; i++) {
    await sleep(50);
    urls = listeningUrls(readLogSince(paths.logFile, spawned.logOffset));
  }
  writePidFile(paths.pidFile, { ...record, url, urls: urls ?? [] });
  child.unref();
  return { ...base, started: true, alreadyRunning: false, pid, url, urls: urls ?? [], args: spec.args };
}

function startFailed(
  message: string,
  logFile: string,
  offset: number,
  fields: Record<string, unknown>,
  hint = `see the whole log: ${logFile}`,
): CliError {
  const tail = lastLines(readLogSince(logFile, offset), LOG_TAIL_LINES);
  return new CliError("GATEWAY_START_FAILED", message, EXIT.failed, hint, {
    lines: tail.length > 0 ? [`last lines of ${logFile}:`, ...tail.map((l) => `  ${l}`)] : [],
    fields: { ...fields, logFile, log: tail },
  });
}

export interface StopResult {
  wasRunning: boolean;
  stopped: boolean;
  pid: number | null;
  forced: boolean;
  durationMs: number;
  stateDir: string;
}

/** Stops the gateway of `stateDir` if one runs; never signals a process that is not it. */
async function stopGateway(stateDir: string, timeoutMs: number, out: Reporter): Promise<StopResult> {
  const paths = lifecyclePaths(stateDir);
  const state = inspectGateway(stateDir);
  if (!state.running) {
    if (state.stalePidFile) {
      out.info(
        `removed stale pid file ${paths.pidFile} (pid ${state.stalePidFile.pid} ${
          state.staleReason === "dead" ? "is not running" : "is not a gatehouse gateway; it was left alone"
        })`,
      );
      removePidFile(paths.pidFile);
    }
    return { wasRunning: false, stopped: false, pid: null, forced: false, durationMs: 0, stateDir };
  }
  const outcome = await stopProcess(state.pid, timeoutMs);
  if (!outcome.stopped) {
    throw new CliError(
      "GATEWAY_STOP_FAILED",
      `gateway pid ${state.pid} is still running after SIGTERM and SIGKILL`,
      EXIT.failed,
      "check the process (it may be stuck in the kernel) and the log",
      { fields: { pid: state.pid } },
    );
  }
  if (outcome.forced) await releaseLockOfKilled(stateDir, state.pid);
  removePidFile(paths.pidFile, state.pid);
  return {
    wasRunning: true,
    stopped: true,
    pid: state.pid,
    forced: outcome.forced,
    durationMs: outcome.durationMs,
    stateDir,
  };
}

function startedText(r: StartResult, hintDir: string, env: NodeJS.ProcessEnv): string {
  const auth = r.url ? configuredAuth(r.stateDir, env, flagValue(r.args, "--auth")) : null;
  // The URL with its token goes to a person at a terminal only; a pipe or a log gets it without.
  const ui = r.url && auth ? [dashboardLine(r.url, auth, process.stdout.isTTY === true)] : [];
  if (r.alreadyRunning) {
    return [
      `gateway already running (pid ${r.pid})${r.url ? ` on ${r.url}` : ""}; not starting another`,
      ...ui,
    ].join("\n");
  }
  return [
    `gateway started (pid ${r.pid}) on ${r.url}`,
    ...ui.map((line) => `  ${line}`),
    `  log:  ${r.logFile}`,
    `  stop: gatehouse gateway stop${hintDir}`,
  ].join("\n");
}

/** What a person must see at start (on stderr; in `warnings` with --json): plain ws:// beyond loopback. */
function startWarnings(r: StartResult): string[] {
  const hosts = (r.urls.length > 0 ? r.urls : r.url ? [r.url] : []).flatMap((u) => {
    try {
      return [new URL(u).hostname];
    } catch {
      return [];
    }
  });
  const warning = plaintextExposureWarning(hosts, (r.url ?? r.urls[0] ?? "").startsWith("wss:"));
  return warning ? [warning] : [];
}

function stoppedText(r: StopResult, timeoutMs: number): string {
  if (!r.wasRunning) return "gateway not running";
  return r.forced
    ? `gateway stopped (pid ${r.pid}) forcefully: it did not exit within ${timeoutMs} ms of SIGTERM, so it was killed`
    : `gateway stopped (pid ${r.pid})`;
}

/** `gateway start`. */
export async function gatewayStart(opts: LifecycleOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const timeoutMs = parseMs(opts.timeout, DEFAULT_START_TIMEOUT_MS);
  const spec = runSpec(opts);
  const result = await startGateway(stateDir, spec, timeoutMs, out);
  const warnings = startWarnings(result);
  out.result({ ...result, warnings }, () =>
    startedText(result, stateDirHint(opts, stateDir), { ...process.env, ...spec.secretEnv }),
  );
  for (const w of warnings) out.info(w);
  return EXIT.ok;
}

/** `gateway stop`. */
export async function gatewayStop(opts: LifecycleOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const timeoutMs = parseMs(opts.timeout, DEFAULT_STOP_TIMEOUT_MS);
  const result = await stopGateway(stateDir, timeoutMs, out);
  out.result(result, () => stoppedText(result, timeoutMs));
  return EXIT.ok;
}

/** `gateway restart`: stop, then start with the recorded flags (or the ones given now). */
export async function gatewayRestart(opts: LifecycleOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const timeoutMs = parseMs(opts.timeout, DEFAULT_STOP_TIMEOUT_MS);
  const given = runSpec(opts);
  const state = inspectGateway(stateDir);
  let spec = given;
  if (given.args.length === 0 && given.secretFlags.length === 0) {
    const recorded = state.running ? state.record : state.stalePidFile;
    const previous = recorded
      ? { args: recorded.args, secretFlags: recorded.secretFlags ?? [] }
      : state.running
        ? reusableArgs(state.args)
        : { args: [], secretFlags: [] };
    checkSecretsAvailable(previous.secretFlags);
    // The secret comes from the environment now; keep naming it so the next restart checks again.
    spec = { args: previous.args, secretEnv: {}, secretFlags: previous.secretFlags };
  }
  checkRunConfig(stateDir, spec);
  const stopped = await stopGateway(stateDir, timeoutMs, out);
  const started = await startGateway(stateDir, spec, Math.max(timeoutMs, DEFAULT_START_TIMEOUT_MS), out);
  const warnings = startWarnings(started);
  const data = { stopped, started, warnings };
  for (const w of warnings) out.info(w);
  out.result(data, () =>
    [
      stopped.wasRunning ? stoppedText(stopped, timeoutMs) : "gateway was not running",
      startedText(started, stateDirHint(opts, stateDir), { ...process.env, ...spec.secretEnv }),
    ].join("\n"),
  );
  return EXIT.ok;
}

/** A secret given to the previous start as a flag is not recorded: it must come again. */
function checkSecretsAvailable(secretFlags: readonly string[]): void {
  const missing = secretFlags.filter((f) =>
    f === "--token" ? !process.env[ENV.token] : f === "--password" ? !process.env[ENV.password] : false,
  );
  if (missing.length === 0) return;
  const envs = missing.map((f) => (f === "--token" ? ENV.token : ENV.password)).join(" or ");
  throw new CliError(
    "SECRET_NOT_RECORDED",
    `the running gateway was started with ${missing.join(" and ")}, which is not recorded (secrets stay out of pid files)`,
    EXIT.usage,
    `pass ${missing.join(" and ")} again, set ${envs}, or keep the secret in gatehouse.json; nothing was stopped`,
  );
}

export interface GatewayStatusReport {
  running: boolean;
  state: "running" | "stopped";
  stateDir: string;
  pid: number | null;
  startedAtMs: number | null;
  uptimeMs: number | null;
  url: string | null;
  urls: string[];
  bind: { hosts: string[]; port: number } | null;
  authMode: string | null;
  /** SHA-256 of the certificate a wss:// gateway serves (what remote clients pin). */
  tlsFingerprint?: string | null;
  /** Where the gateway's children run, as the running gateway reports it. */
  sandbox?: SandboxReport | null;
  version: string | null;
  clients: ClientsSummary | null;
  launchedBy: "start" | "other" | null;
  pidFile: string;
  logFile: string;
  error?: { code: string; message: string };
}

/** What `gateway status` and `status` report about the process, asking it when it runs. */
export async function gatewayStatusReport(
  stateDir: string,
  opts: CommonOptions,
  state: GatewayState = inspectGateway(stateDir),
): Promise<GatewayStatusReport> {
  return (await probeGateway(stateDir, opts, state, false)).report;
}

/**
 * {@link gatewayStatusReport}, plus the pairing list when `withPairing` (one connection for both);
 * a gateway that runs but does not answer yields a report with `error` set.
 */
export async function probeGateway(
  stateDir: string,
  opts: CommonOptions,
  state: GatewayState,
  withPairing: boolean,
): Promise<{ report: GatewayStatusReport; pairList: PairList | null }> {
  const paths = lifecyclePaths(stateDir);
  const base = { stateDir, pidFile: paths.pidFile, logFile: paths.logFile };
  if (!state.running) {
    const report: GatewayStatusReport = {
      ...base,
      running: false,
      state: "stopped",
      pid: null,
      startedAtMs: null,
      uptimeMs: null,
      url: null,
      urls: [],
      bind: null,
      authMode: null,
      version: null,
      clients: null,
      launchedBy: null,
    };
    return { report, pairList: null };
  }
  const url = gatewayUrl(state, stateDir);
  const known: GatewayStatusReport = {
    ...base,
    running: true,
    state: "running",
    pid: state.pid,
    startedAtMs: state.startedAtMs,
    uptimeMs: state.startedAtMs !== null ? Math.max(0, Date.now() - state.startedAtMs) : null,
    url,
    urls: state.record?.urls ?? [],
    bind: null,
    authMode: null,
    version: null,
    clients: null,
    launchedBy: state.launchedBy,
  };
  try {
    const live = await queryLive({ ...opts, stateDir }, localTarget({ ...opts, stateDir }, url), withPairing);
    return { report: { ...known, ...liveFields(live) }, pairList: live.pairList };
  } catch (err) {
    return { report: { ...known, error: errorSummary(err) }, pairList: null };
  }
}

/** The report fields a live `status` answer fills in. */
export function liveFields(live: LiveStatus): Partial<GatewayStatusReport> {
  const g = live.gateway;
  return {
    startedAtMs: g.startedAtMs,
    uptimeMs: g.uptimeMs,
    url: live.url,
    urls: g.urls,
    bind: g.bind,
    authMode: g.authMode,
    tlsFingerprint: g.tlsFingerprint,
    sandbox: g.sandbox,
    version: g.version,
    clients: live.clients,
  };
}

/** Code and message of a failure, as `reportError` would show them (no secrets). */
export function errorSummary(err: unknown): { code: string; message: string } {
  const code =
    typeof (err as { detailCode?: unknown }).detailCode === "string"
      ? (err as { detailCode: string }).detailCode
      : typeof (err as { code?: unknown }).code === "string"
        ? (err as { code: string }).code
        : "ERROR";
  return { code, message: err instanceof Error ? err.message : String(err) };
}

/** `operator 1, node 0`. */
export function roleCounts(byRole: Record<string, number>): string {
  return Object.entries(byRole)
    .map(([role, n]) => `${role} ${n}`)
    .join(", ");
}

/** The `control ui` row: the page's URL, with the token only for a person at a terminal. */
function controlUiRow(r: GatewayStatusReport): Array<[string, string]> {
  const auth = r.url ? configuredAuth(r.stateDir) : null;
  if (!r.url || !auth) return [];
  return [
    ["control ui", dashboardLine(r.url, auth, process.stdout.isTTY === true).replace(/^Control UI: /, "")],
  ];
}

function statusText(r: GatewayStatusReport): string {
  if (!r.running) return `gateway not running (state dir ${r.stateDir})`;
  const rows: Array<[string, string]> = [
    ["url", r.url ?? "unknown"],
    ...(r.bind ? [["bind", `${r.bind.hosts.join(", ")} (port ${r.bind.port})`] as [string, string]] : []),
    ["auth", r.authMode ?? "unknown"],
    ...controlUiRow(r),
    ...(r.tlsFingerprint ? [["tls sha256", formatFingerprint(r.tlsFingerprint)] as [string, string]] : []),
    [
      "clients",
      r.clients ? `${r.clients.total} (${roleCounts(r.clients.byRole)}; not counting this query)` : "unknown",
    ],
    ...(r.version ? [["version", r.version] as [string, string]] : []),
    [
      "launched",
      r.launchedBy === "start"
        ? `by gatehouse gateway start; log ${r.logFile}`
        : "outside gatehouse gateway start (foreground, systemd, ...)",
    ],
    ["state dir", r.stateDir],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const uptime = r.uptimeMs !== null ? `, up ${formatDuration(r.uptimeMs)}` : "";
  const lines = [
    `gateway running (pid ${r.pid})${uptime}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
  if (r.error) lines.push(`  but it did not answer: error ${r.error.code}: ${r.error.message}`);
  return lines.join("\n");
}

/** `gateway status`: exit 0 running, 3 not running, 1 running but not answering. */
export async function gatewayStatus(opts: LifecycleOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const report = await gatewayStatusReport(stateDir, { stateDir, timeout: opts.timeout, json: opts.json });
  out.result(report, () => statusText(report));
  if (!report.running) return EXIT_NOT_RUNNING;
  return report.error ? EXIT.failed : EXIT.ok;
}

/** `gateway install`: writes (or prints) the systemd user unit. */
export async function gatewayInstall(opts: InstallOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  // Refuses a config the gateway would refuse, so the unit does not fail at its first start.
  const config = loadConfig({ stateDir });
  assertSafeBind(config.gateway);
  const unit = renderUnit({
    nodePath: process.execPath,
    cliPath: CLI_PATH,
    stateDir,
    configPath: config.configPath,
  });
  const path = join(userUnitDir(), UNIT_NAME);
  if (opts.print) {
    out.result({ path, unit, enableCommand: ENABLE_COMMAND }, () => unit.trimEnd());
    return EXIT.ok;
  }
  const dir = userUnitDir();
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, unit, { mode: 0o644 });
  chmodSync(tmp, 0o644);
  renameSync(tmp, path);
  const notes: string[] = [];
  if (process.env[ENV.token] || process.env[ENV.password]) {
    notes.push(
      `note: the service does not see ${ENV.token}/${ENV.password} from this shell; it uses the secret in ${config.configPath}` +
        " (a token is generated there at its first start if none is set)",
    );
  }
  const state = inspectGateway(stateDir);
  if (state.running) {
    notes.push(
      `note: a gateway is running now (pid ${state.pid}); stop it first (gatehouse gateway stop${stateDirHint(opts, stateDir)}), ` +
        "or the service's gateway will find the state dir in use",
    );
  }
  out.result({ path, written: true, enableCommand: ENABLE_COMMAND, notes }, () =>
    [
      `wrote ${path}`,
      `  enable and start it: ${ENABLE_COMMAND}`,
      "  keep it running when you are logged out: loginctl enable-linger $USER",
      ...notes.map((n) => `  ${n}`),
    ].join("\n"),
  );
  return EXIT.ok;
}
