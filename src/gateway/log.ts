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
 * Lines for stdout, written together: a write to a pipe or terminal is a system call each, and
 * wakes whoever reads the pipe (journald, a supervisor). A line after a quiet spell goes out once
 * the current turn of the event loop is done; while lines keep coming they are written at most
 * every {@link LOG_FLUSH_MS}, the same cadence the audit rows are batched at, so a burst of
 * connects costs one write per interval instead of one per connect. Whatever is held when the
 * process exits (an uncaught exception included) is written then; a process killed outright
 * loses at most that interval's lines, which its audit rows would lose too. A terminal gets each
 * line at once.
 */
const LOG_FLUSH_MS = 50;
let pending = "";
let flushScheduled = false;
let exitHooked = false;
/**
 * When the last write went out, in ms on the monotonic clock: with the wall clock, a step back (an
 * NTP correction, a clock set by hand) held every line for as long as the step.
 */
let lastFlushAt = -LOG_FLUSH_MS;

/**
 * Monotonic milliseconds. `process.uptime()` reads the same clock as `performance.now()`, whose
 * first use loads eleven of Node's perf_hooks modules into every gateway.
 */
const monotonicMs = (): number => process.uptime() * 1000;

function flushStdout(): void {
  flushScheduled = false;
  if (pending === "") return;
  const text = pending;
  pending = "";
  lastFlushAt = monotonicMs();
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
  const wait = lastFlushAt + LOG_FLUSH_MS - monotonicMs();
  if (wait <= 0) setImmediate(flushStdout);
  else setTimeout(flushStdout, wait).unref();
}
