/**
 * The gateway's log: one line per event, as text for people or JSON lines for machines. Callers
 * pass explicit fields; nothing here ever sees connect params, so secrets cannot leak into it.
 */

export type LogLevel = "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface GatewayLogger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

export type LogFormat = "text" | "json";

/** A logger writing to a stream (stdout by default) in text or JSON-lines format. */
export function createLogger(
  format: LogFormat = "text",
  write: (line: string) => void = writeStdout,
): GatewayLogger {
  return {
    log(level, event, fields = {}) {
      const ts = new Date().toISOString();
      if (format === "json") {
        write(JSON.stringify({ ts, level, event, ...fields }) + "\n");
        return;
      }
      const parts = Object.entries(fields)
        .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => `${k}=${formatValue(v as string | number | boolean | readonly string[])}`);
      write(
        `${ts} ${level === "info" ? "" : level.toUpperCase() + " "}${event}${parts.length ? " " + parts.join(" ") : ""}\n`,
      );
    },
  };
}

/** Drops everything; for embedding and tests. */
export const silentLogger: GatewayLogger = { log() {} };

function formatValue(v: string | number | boolean | readonly string[]): string {
  const s = Array.isArray(v) ? v.join(",") : String(v);
  return /[\s"]/.test(s) ? JSON.stringify(s) : s;
}

/**
 * Lines for stdout, written together once the current turn of the event loop is done: a write to
 * a pipe or terminal is a system call each, and a burst of connects would otherwise pay one per
 * line before its answer goes out. Whatever is still held when the process exits is written then.
 * A terminal gets each line at once.
 */
let pending = "";
let flushScheduled = false;
let exitHooked = false;

function flushStdout(): void {
  flushScheduled = false;
  if (pending === "") return;
  const text = pending;
  pending = "";
  process.stdout.write(text);
}

function writeStdout(line: string): void {
  // A person at a terminal reads lines in order with whatever else is printed there.
  if (process.stdout.isTTY) {
    process.stdout.write(line);
    return;
  }
  pending += line;
  if (flushScheduled) return;
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", flushStdout);
  }
  flushScheduled = true;
  setImmediate(flushStdout);
}
