/**
 * Running `gatehouse gateway run` in the background: spawn it detached with its output appended to
 * the log file, wait until it answers `GET /healthz`, and stop it (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { request } from "node:http";
import { request as tlsRequest } from "node:https";
import { join } from "node:path";
import { CLI_PATH, isAlive, leadsProcessGroup, waitForExit } from "./process.js";
import { localUrlFor } from "./state.js";

/** The log is moved to `gateway.log.1` at a start that finds it larger than this. */
export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export interface SpawnedGateway {
  child: ChildProcess;
  pid: number;
  startedAtMs: number;
  /** Size of the log file before the child wrote anything: its output starts here. */
  logOffset: number;
}

/** Opens the log for appending (dir 0700, file 0600), rotating a large one first. */
function openLog(logDir: string, logFile: string): number {
  if (mkdirSync(logDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(logDir, 0o700);
  try {
    if (statSync(logFile).size > LOG_ROTATE_BYTES) renameSync(logFile, `${logFile}.1`);
  } catch {
    // no log yet
  }
  const fd = openSync(logFile, "a", 0o600);
  try {
    chmodSync(logFile, 0o600);
  } catch {
    // not ours to change; the gateway logs no secrets anyway
  }
  return fd;
}

/**
 * Spawns `gateway run --state-dir <dir> ARGS` in its own process group, stdin ignored, stdout and
 * stderr appended to the log. Secrets reach it through `env`, never through its command line.
 */
export function spawnDetachedGateway(opts: {
  stateDir: string;
  logDir: string;
  logFile: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
}): SpawnedGateway {
  const fd = openLog(opts.logDir, opts.logFile);
  try {
    const note = `${new Date().toISOString()} gatehouse gateway start: gateway run --state-dir ${opts.stateDir}${
      opts.args.length > 0 ? " " + opts.args.join(" ") : ""
    }\n`;
    writeSync(fd, note);
    const logOffset = fstatSync(fd).size;
    const child = spawn(
      process.execPath,
      [CLI_PATH, "gateway", "run", "--state-dir", opts.stateDir, ...opts.args],
      {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: opts.env,
        cwd: opts.stateDir,
      },
    );
    if (child.pid === undefined) {
      throw new Error(`could not spawn ${process.execPath}`);
    }
    return { child, pid: child.pid, startedAtMs: Date.now(), logOffset };
  } finally {
    closeSync(fd);
  }
}

/** Reads the log from `offset` (at most the last `maxBytes`). */
export function readLogSince(logFile: string, offset: number, maxBytes = 256 * 1024): string {
  if (!existsSync(logFile)) return "";
  const fd = openSync(logFile, "r");
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - maxBytes);
    if (size <= start) return "";
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The last `n` non-empty lines of `text`. */
export function lastLines(text: string, n: number): string[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n);
}

/** The URLs from the gateway's "gateway listening" log line (text or JSON format), if logged yet. */
export function listeningUrls(logText: string): string[] | null {
  for (const line of logText.split("\n")) {
    if (!line.includes("gateway listening")) continue;
    if (line.startsWith("{")) {
      try {
        const rec = JSON.parse(line) as { event?: unknown; urls?: unknown };
        if (rec.event === "gateway listening" && Array.isArray(rec.urls)) {
          return rec.urls.filter((u): u is string => typeof u === "string");
        }
      } catch {
        // not JSON after all
      }
      continue;
    }
    const m = / gateway listening urls=(\S+)/.exec(line);
    if (m) return m[1]!.split(",");
  }
  return null;
}

/** The URL a client on this host dials, among those a gateway listens on. */
export function preferredUrl(urls: readonly string[]): string | null {
  const parsed = urls.flatMap((u) => {
    try {
      const url = new URL(u);
      return [{ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) }];
    } catch {
      return [];
    }
  });
  if (parsed.length === 0) return null;
  return localUrlFor(
    parsed.map((p) => p.host),
    parsed[0]!.port,
    urls.some((u) => u.startsWith("wss:")),
  );
}

/** True when `GET /healthz` at the gateway behind `wsUrl` answers 200 within `timeoutMs`. */
export function healthz(wsUrl: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(wsUrl);
    } catch {
      resolve(false);
      return;
    }
    const secure = url.protocol === "wss:";
    // /healthz carries no secret, so over TLS the certificate need not be checked to ask it.
    const req = (secure ? tlsRequest : request)(
      {
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: Number(url.port) || (secure ? 443 : 80),
        path: "/healthz",
        method: "GET",
        timeout: timeoutMs,
        ...(secure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

export interface StopOutcome {
  /** The process is gone. */
  stopped: boolean;
  /** SIGKILL was needed. */
  forced: boolean;
  durationMs: number;
}

/**
 * SIGTERM (the gateway tells clients `shutdown` and closes them with 1012), then after `timeoutMs`
 * SIGKILL — to its whole process group when it leads one (a gateway `start` launched). The caller
 * must have identified `pid` as our gateway.
 */
export async function stopProcess(pid: number, timeoutMs: number): Promise<StopOutcome> {
  const began = Date.now();
  const ownGroup = leadsProcessGroup(pid);
  try {
    process.kill(pid, "SIGTERM");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") {
      return { stopped: true, forced: false, durationMs: Date.now() - began };
    }
    throw err;
  }
  if (await waitForExit(pid, timeoutMs)) {
    return { stopped: true, forced: false, durationMs: Date.now() - began };
  }
  try {
    process.kill(ownGroup ? -pid : pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
  const gone = await waitForExit(pid, 5000);
  return { stopped: gone || !isAlive(pid), forced: true, durationMs: Date.now() - began };
}

/**
 * After a SIGKILL the gateway could not remove its store lock. The lock is taken over once its pid
 * is gone, but a killed process stays a zombie until its parent (often init, sometimes slow) reaps
 * it, and until then the lock looks held. So wait briefly for the reap, then remove the lock file
 * if it still names the killed pid: that process can no longer hold anything.
 */
export async function releaseLockOfKilled(stateDir: string, pid: number, waitMs = 2000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && pidExists(pid)) await sleep(50);
  const lockPath = join(stateDir, "state", "gateway.lock");
  try {
    const held = JSON.parse(readFileSync(lockPath, "utf8")) as { pid?: unknown };
    if (held.pid === pid && !isAlive(pid)) unlinkSync(lockPath);
  } catch {
    // no lock, or not readable: nothing to release
  }
}

/** kill(pid, 0) succeeds: the pid exists, possibly as a zombie. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
