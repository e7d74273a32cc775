/**
 * What a node host does when the gateway invokes a command: `system.which` looks a program up on
 * PATH, `system.run` runs one without a shell and returns its bounded output. Failures are
 * {@link NodeCommandError}s with a code the node host sends back as the answer's `error.code`.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { checker } from "../protocol/checks.js";
import type { SystemRunParams } from "../protocol/method-params.js";
import { OutputTail } from "./output-tail.js";

/** The commands a Gatehouse node host offers. */
export const NODE_HOST_COMMANDS: readonly string[] = ["system.run", "system.which"];
/** Per stream, by default: the last this many bytes are kept. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;
/** How long `system.run` may take when neither the call nor the gateway says. */
export const DEFAULT_RUN_TIMEOUT_MS = 30_000;

export type NodeCommandErrorCode = "INVALID_PARAMS" | "UNKNOWN_COMMAND" | "SPAWN_FAILED";

/** A command that could not be carried out; its code and message go back to the caller. */
export class NodeCommandError extends Error {
  constructor(
    readonly code: NodeCommandErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "NodeCommandError";
  }
}

export interface NodeCommandOptions {
  /** The gateway's deadline for this invocation; a run ends a little before it. */
  invokeTimeoutMs?: number;
  maxOutputBytes?: number;
  /** Environment the commands see (PATH for lookups, the base of `system.run`'s env). */
  env?: NodeJS.ProcessEnv;
  /** Aborting kills a running `system.run` (the node host stops). */
  signal?: AbortSignal;
}

export type { SystemRunParams } from "../protocol/method-params.js";

export interface SystemRunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

const validateWhich = checker("NodeWhichParams");
const validateRun = checker("NodeRunParams");

/** Each command's params in plain words: what every field must be, and an example. */
const SHAPES: Readonly<Record<string, { fields: Readonly<Record<string, string>>; example: string }>> = {
  "system.run": {
    fields: {
      command: "a list of strings: the program and its arguments",
      cwd: "a directory (optional)",
      env: "an object of NAME: value strings (optional)",
      timeoutMs: "a whole number of milliseconds above 0 (optional)",
    },
    example: '{"command":["uname","-a"]}',
  },
  "system.which": {
    fields: { bin: "a program name", bins: "a list of program names (instead of bin)" },
    example: '{"bin":"git"}',
  },
};

/** `command must be a list of strings: …; unknown field "cmd"` from validator paths, de-duplicated. */
function plainProblems(command: string, errors: readonly string[], params: unknown): string {
  const shape = SHAPES[command];
  if (!shape) return errors.join("; ");
  if (params === null || typeof params !== "object" || Array.isArray(params))
    return "params must be an object";
  const problems = new Set<string>();
  for (const e of errors) {
    const field = /^at \/([^/:]+)/.exec(e)?.[1];
    if (field === undefined) continue;
    const want = shape.fields[field];
    problems.add(want ? `${field} must be ${want}` : `unknown field ${JSON.stringify(field)}`);
  }
  return problems.size > 0 ? [...problems].join("; ") : "params do not match";
}

function checked<T>(
  command: string,
  params: unknown,
  r: { ok: true; value: T } | { ok: false; errors: string[] },
): T {
  if (!r.ok) {
    const shape = SHAPES[command];
    const expected = shape
      ? ` (expected e.g. ${shape.example}; fields: ${Object.keys(shape.fields).join(", ")})`
      : "";
    throw new NodeCommandError("INVALID_PARAMS", `${plainProblems(command, r.errors, params)}${expected}`);
  }
  return r.value;
}

/** Carries out one offered command; throws NodeCommandError for bad params or unknown commands. */
export async function runNodeCommand(
  command: string,
  params: unknown,
  options: NodeCommandOptions = {},
): Promise<unknown> {
  const env = options.env ?? process.env;
  switch (command) {
    case "system.which": {
      const p = checked(command, params ?? {}, validateWhich(params ?? {}));
      if ("bin" in p) return { path: await which(p.bin, env) };
      // OpenClaw's shape: only the programs found are listed.
      const found: Record<string, string> = {};
      for (const bin of p.bins) {
        const path = await which(bin, env);
        if (path !== null) found[bin] = path;
      }
      return { bins: found };
    }
    case "system.run":
      return systemRun(checked(command, params ?? {}, validateRun(params ?? {})), { ...options, env });
    default:
      throw new NodeCommandError("UNKNOWN_COMMAND", `this node host does not run ${command}`);
  }
}

/** The absolute path `bin` resolves to on PATH (no shell, relative PATH entries skipped), or null. */
export async function which(bin: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (/[/\\]/.test(bin) || bin === "." || bin === "..") {
    throw new NodeCommandError("INVALID_PARAMS", "bin must be a program name, not a path");
  }
  const win = process.platform === "win32";
  const pathVar = env.PATH ?? (win ? env.Path : undefined) ?? "";
  const exts = win
    ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e !== "")]
    : [""];
  for (const dir of pathVar.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    for (const ext of exts) {
      const candidate = join(dir, bin + ext);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `params.command` without a shell; kills its process group when time is up or on abort. */
export function systemRun(
  params: SystemRunParams,
  options: NodeCommandOptions = {},
): Promise<SystemRunResult> {
  const [file, ...args] = params.command;
  if (!file) {
    return Promise.reject(new NodeCommandError("INVALID_PARAMS", "command must name a program"));
  }
  const timeoutMs = runTimeout(params.timeoutMs, options.invokeTimeoutMs);
  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const posix = process.platform !== "win32";
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(file, args, {
        cwd: params.cwd,
        env: { ...(options.env ?? process.env), ...params.env },
        shell: false,
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so a timeout also ends what it started.
        detached: posix,
        windowsHide: true,
      });
    } catch (err) {
      reject(new NodeCommandError("SPAWN_FAILED", `system.run: cannot run ${file}: ${errorText(err)}`));
      return;
    }
    const stdout = new OutputTail(maxBytes);
    const stderr = new OutputTail(maxBytes);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const end = () => kill(child.pid, posix, () => child.kill("SIGKILL"));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      end();
    }, timeoutMs);
    options.signal?.addEventListener("abort", end, { once: true });
    const settle = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", end);
    };
    child.once("error", (err) => {
      settle();
      reject(new NodeCommandError("SPAWN_FAILED", `system.run: cannot run ${file}: ${errorText(err)}`));
    });
    child.once("close", (exitCode, signal) => {
      settle();
      resolve({
        exitCode,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        stdoutTruncated: stdout.droppedBytes > 0,
        stderrTruncated: stderr.droppedBytes > 0,
      });
    });
  });
}

/** The run's own limit, never past the gateway's (less a margin so the answer still arrives). */
function runTimeout(requested: number | undefined, invokeTimeoutMs: number | undefined): number {
  const cap = invokeTimeoutMs === undefined ? Infinity : Math.max(1, invokeTimeoutMs - 500);
  return Math.min(requested ?? invokeTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS, cap);
}

function kill(pid: number | undefined, group: boolean, fallback: () => void): void {
  if (group && pid !== undefined) {
    try {
      process.kill(-pid, "SIGKILL");
      return;
    } catch {
      // the group is gone already, or was never created
    }
  }
  fallback();
}

function errorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (err instanceof Error ? err.message : String(err));
}
