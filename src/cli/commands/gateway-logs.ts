/**
 * `gatehouse gateway logs [--follow]`: the log of the gateway `gatehouse gateway start` runs in
 * the background (`<state>/logs/gateway.log`): its last lines, and with --follow every new line
 * as it is written — also after a start rotates a large log to gateway.log.1 and begins a new
 * file — until interrupted.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import type { Command } from "commander";
import { resolveStateDir } from "../../config/index.js";
import { lifecyclePaths } from "../lifecycle/state.js";
import { CliError, EXIT } from "../output.js";
import { positiveInt, type RunCommand } from "./client-flags.js";

export interface GatewayLogsOptions {
  stateDir?: string;
  follow?: boolean;
  lines?: string;
}

const DEFAULT_LINES = 50;
/** How often --follow looks for new lines. */
const FOLLOW_POLL_MS = 250;

/** Bytes `[from, to)` of a file. */
function readRange(path: string, from: number, to: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.max(0, to - from));
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** The last `count` lines of a file (reads only as much of its end as it needs), and its size. */
export function lastLines(path: string, count: number): { text: string; size: number } {
  const size = statSync(path).size;
  let from = size;
  let text = "";
  for (let chunk = 64 * 1024; from > 0; chunk *= 2) {
    from = Math.max(0, size - chunk);
    text = readRange(path, from, size).toString("utf8");
    // count+1 newlines before the end: the first line kept is whole.
    if ((text.match(/\n/g)?.length ?? 0) > count) break;
  }
  const lines = text.split("\n");
  if (from > 0) lines.shift(); // cut in the middle
  const whole = text.endsWith("\n");
  if (whole) lines.pop();
  const kept = count === 0 ? [] : lines.slice(-count);
  return { text: kept.length > 0 ? kept.join("\n") + (whole ? "\n" : "") : "", size };
}

/** `gatehouse gateway logs`. */
export async function gatewayLogs(
  opts: GatewayLogsOptions,
  write: (text: string) => void = (t) => void process.stdout.write(t),
  stop: AbortSignal = interrupted(),
): Promise<number> {
  const count = opts.lines === "0" ? 0 : (positiveInt("--lines", opts.lines) ?? DEFAULT_LINES);
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const { logFile } = lifecyclePaths(stateDir);
  if (!existsSync(logFile)) {
    throw new CliError(
      "NO_LOG_FILE",
      `no gateway log at ${logFile}`,
      EXIT.failed,
      "a gateway started with gatehouse gateway start logs there; gatehouse gateway run logs to its own terminal",
    );
  }
  const { text, size } = lastLines(logFile, count);
  write(text);
  if (!opts.follow) return EXIT.ok;

  let offset = size;
  let inode = statSync(logFile).ino;
  let partial = "";
  while (!stop.aborted) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    if (!existsSync(logFile)) continue;
    const stat = statSync(logFile);
    const now = stat.size;
    // A rotated (or truncated) log is a new file: follow it from its beginning.
    if (stat.ino !== inode || now < offset) {
      inode = stat.ino;
      offset = 0;
      if (partial) write(partial + "\n");
      partial = "";
    }
    if (now === offset) continue;
    const chunk = partial + readRange(logFile, offset, now).toString("utf8");
    offset = now;
    const end = chunk.lastIndexOf("\n") + 1;
    write(chunk.slice(0, end));
    partial = chunk.slice(end);
  }
  if (partial) write(partial + "\n");
  return EXIT.ok;
}

/** Aborted on Ctrl-C or SIGTERM: --follow then ends with exit 0. */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

/** Adds `gatehouse gateway logs`. */
export function registerGatewayLogs(program: Command, run: RunCommand): void {
  const gateway =
    program.commands.find((c) => c.name() === "gateway") ??
    program.command("gateway").description("run and manage the gateway");
  gateway
    .command("logs")
    .description(
      "the background gateway's log (<state>/logs/gateway.log): its last lines, --follow for new ones",
    )
    .option("--follow", "keep printing lines as the gateway writes them, until interrupted (Ctrl-C)")
    .option("--lines <n>", `how many of the last lines to print first (default ${DEFAULT_LINES})`)
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .action((opts: GatewayLogsOptions) => run(() => gatewayLogs(opts), false));
}
