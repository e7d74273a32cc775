/**
 * What a pid is: alive or not, and whether it is a `gatehouse gateway run` for a given state dir.
 * A pid in a pid file or lock may have been reused by any other program since; nothing here ever
 * signals a process it has not identified by its command line.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { CLI_PATH } from "../entry-path.js";

export { CLI_PATH };

const HAS_PROC = existsSync("/proc/self/cmdline");

/** True while `pid` exists and is not a zombie (an exited child nobody has reaped yet). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return procState(pid) !== "Z";
}

/** `/proc/<pid>/stat`: the state letter (R, S, Z, ...) and the process group; null when unknown. */
function procStat(pid: number): { state: string; pgrp: number } | null {
  if (!HAS_PROC) return null;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] ?? "", pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

function procState(pid: number): string | null {
  return procStat(pid)?.state ?? null;
}

/** True when `pid` leads its own process group (a gateway `gateway start` spawned detached). */
export function leadsProcessGroup(pid: number): boolean {
  return procStat(pid)?.pgrp === pid;
}

/** The process's argv, or null when it is gone or cannot be read. */
export function commandLine(pid: number): string[] | null {
  if (HAS_PROC) {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (raw === "") return null;
      return raw.replace(/\0$/, "").split("\0");
    } catch {
      return null;
    }
  }
  // Without /proc (macOS): ps gives the arguments joined by spaces, which is enough to recognise ours.
  try {
    const out = execFileSync("ps", ["-ww", "-o", "args=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return out === "" ? null : out.split(/\s+/);
  } catch {
    return null;
  }
}

function processCwd(pid: number): string | null {
  if (!HAS_PROC) return null;
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** The arguments after `gateway run` in a gatehouse command line, or null if it is not one. */
export function gatewayRunArgs(argv: readonly string[]): string[] | null {
  const at = argv.findIndex((a, i) => a === "gateway" && argv[i + 1] === "run");
  if (at < 1) return null;
  const isCli = argv
    .slice(0, at)
    .some((a) => a === CLI_PATH || a.endsWith("/cli/main.js") || /(^|\/)gatehouse$/.test(a));
  return isCli ? argv.slice(at + 2) : null;
}

/** The value of `--name value` / `--name=value` in `args` (the last one wins, as in commander). */
export function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === name && i + 1 < args.length) value = args[++i];
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
  }
  return value;
}

export interface GatewayProcessMatch {
  /** The arguments after `gateway run`. */
  args: string[];
  /** Whether the command line names the state dir (false: it uses the env or the default). */
  namesStateDir: boolean;
}

/**
 * Identifies `pid` as a live `gatehouse gateway run` serving `stateDir`: its command line holds the
 * CLI and `gateway run`, and its `--state-dir` (when given) resolves to `stateDir`. Null otherwise.
 */
export function matchGatewayProcess(pid: number, stateDir: string): GatewayProcessMatch | null {
  if (!isAlive(pid)) return null;
  const argv = commandLine(pid);
  const args = argv && gatewayRunArgs(argv);
  if (!args) return null;
  const given = flagValue(args, "--state-dir");
  if (given === undefined || given === "") return { args, namesStateDir: false };
  let dir = given;
  if (!isAbsolute(dir)) {
    const cwd = processCwd(pid);
    if (cwd === null) return null;
    dir = resolve(cwd, dir);
  }
  return resolve(dir) === resolve(stateDir) ? { args, namesStateDir: true } : null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `pid` has exited; true if it did within `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
