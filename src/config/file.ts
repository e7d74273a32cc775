/**
 * The config file on disk: read and parse it (absent is fine), and replace it atomically (temp file
 * in the same directory + rename, so a crash leaves either the old or the new file, never half).
 */
import { closeSync, fsyncSync, openSync, readFileSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { writeSecretJson } from "../util/secret-file.js";
import { ConfigError } from "./errors.js";

/** Reads and parses the config file; `undefined` when it does not exist. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if (errnoCode(cause) === "ENOENT") return undefined;
    throw new ConfigError("CONFIG_UNREADABLE", `cannot read config file ${path}: ${errnoText(cause)}`, {
      path,
      cause,
    });
  }
  return parseConfigText(path, text);
}

/** Parses config text; syntax errors give line and column but never echo the text (it may hold secrets). */
export function parseConfigText(path: string, text: string): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (cause) {
    const { offset, problem } = locateSyntaxError(body, cause);
    const { line, column } = lineColumn(body, offset);
    throw new ConfigError(
      "CONFIG_INVALID",
      `config file ${path} is not valid JSON: ${problem} at line ${line}, column ${column}`,
      { path },
    );
  }
}

/** Replaces the config file with `data` (mode 0600), creating its directory with mode 0700. */
export function writeConfigFile(path: string, data: unknown): void {
  const fail = (what: string, cause: unknown) =>
    new ConfigError("CONFIG_WRITE_FAILED", `cannot ${what}: ${errnoText(cause)}`, { path, cause });
  // Write through a symlinked config (dotfile managers) instead of replacing the link.
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    // no file yet
  }
  try {
    writeSecretJson(target, data);
  } catch (cause) {
    throw fail(`write config file ${path}`, cause);
  }
  fsyncDir(dirname(target));
}

// V8 messages of the form "Unexpected token 'x', "<source>" is not valid JSON" quote the text, so only
// the fixed "... in JSON at position N" templates are reused verbatim.
function locateSyntaxError(text: string, cause: unknown): { offset: number; problem: string } {
  const message = cause instanceof Error ? cause.message : "";
  const positioned = /^(.*) in JSON at position (\d+)/.exec(message);
  if (positioned) {
    const template = positioned[1] ?? "syntax error";
    return { offset: Number(positioned[2]), problem: template.charAt(0).toLowerCase() + template.slice(1) };
  }
  if (message.startsWith("Unexpected end"))
    return { offset: text.length, problem: "unexpected end of input" };
  return { offset: firstBadOffset(text), problem: "unexpected character" };
}

// Smallest prefix that is already wrong (not merely incomplete): its last character is the culprit.
// A prefix cut inside a number ("1e", "-") fails at its own end, which is not counted as wrong.
function firstBadOffset(text: string): number {
  const wrong = (len: number): boolean => {
    try {
      JSON.parse(text.slice(0, len));
      return false;
    } catch (e) {
      const m = e instanceof Error ? e.message : "";
      if (m.startsWith("Unexpected end")) return false;
      const at = /at position (\d+)/.exec(m);
      return !(at && Number(at[1]) >= len);
    }
  };
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (wrong(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

// Makes the rename itself durable; best effort, as some filesystems refuse fsync on directories.
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

function errnoCode(cause: unknown): string | undefined {
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}

function errnoText(cause: unknown): string {
  return errnoCode(cause) ?? (cause instanceof Error ? cause.message : String(cause));
}
