/**
 * `<state>/gateway.pid`: which process `gatehouse gateway start` launched, when, where it listens
 * and with which `gateway run` flags (so `restart` can repeat them). Never holds a secret: a
 * `--token`/`--password` given to `start` is only named in `secretFlags`.
 */
import { readFileSync, unlinkSync } from "node:fs";
import { writeSecretJson } from "../../util/secret-file.js";

export interface PidRecord {
  pid: number;
  startedAtMs: number;
  /** The local URL, once the gateway listens (null while starting). */
  url: string | null;
  /** Every URL it listens on. */
  urls?: string[];
  /** The `gateway run` flags it was started with (without `--state-dir` and without secrets). */
  args: string[];
  /** Secret flags that were given to `start` and passed through the environment, e.g. `--token`. */
  secretFlags?: string[];
}

/** The record, or null when there is no well-formed pid file. */
export function readPidFile(path: string): PidRecord | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<PidRecord>;
    if (typeof v.pid !== "number" || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    return {
      pid: v.pid,
      startedAtMs: typeof v.startedAtMs === "number" ? v.startedAtMs : 0,
      url: typeof v.url === "string" ? v.url : null,
      ...(Array.isArray(v.urls) ? { urls: v.urls.filter((u) => typeof u === "string") } : {}),
      args: Array.isArray(v.args) ? v.args.filter((a): a is string => typeof a === "string") : [],
      ...(Array.isArray(v.secretFlags)
        ? { secretFlags: v.secretFlags.filter((a): a is string => typeof a === "string") }
        : {}),
    };
  } catch {
    return null;
  }
}

/** Writes the record atomically (mode 0600). */
export function writePidFile(path: string, record: PidRecord): void {
  writeSecretJson(path, record, "replace");
}

/** Removes the pid file, but only while it still names `pid` (a newer start's file stays). */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined && readPidFile(path)?.pid !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
