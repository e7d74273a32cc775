/**
 * `gatehouse sessions spawn|list|logs|kill`: processes the gateway runs on your behalf. A spawned
 * process gets the gateway's URL and a runtime token bound to it, never the shared secret.
 */
import type { Command } from "commander";
import type {
  SessionInfo as SessionView,
  SessionListResult,
  SessionReadResult,
} from "../../protocol/sessions.js";
import type { GatewayClient } from "../../client/index.js";
import { withMethodClient, type CommonOptions } from "../connect.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import {
  collect,
  defaultScopesNote,
  formatCommand,
  formatTime,
  jobScopeHelp,
  jobScopes,
  positiveInt,
  table,
  timeLimit,
  withClientOptions,
  withTimeLimit,
  type RunCommand,
} from "./client-flags.js";

export interface SpawnOptions extends CommonOptions {
  scope?: string[];
  label?: string;
  timeLimit?: string;
  /** `--timeout-ms`, the old name of `--time-limit`. */
  timeoutMs?: string;
  cwd?: string;
  env?: string[];
  attach?: boolean;
}

export interface ListOptions extends CommonOptions {
  status?: string;
  limit?: string;
}

/** How often --attach and --follow read a running session's output. */
const ATTACH_POLL_MS = 200;

export interface LogsOptions extends CommonOptions {
  follow?: boolean;
}

/**
 * What `next` adds to `prev`, both tails of one stream read a moment apart. Exact while the tail
 * holds everything; once the gateway drops the front (64 KiB per stream), the new part starts
 * after the last place `prev`'s end appears, and a marker says when output was missed.
 */
export function newOutput(prev: string, next: string): string {
  if (next.startsWith(prev)) return next.slice(prev.length);
  const anchor = prev.slice(-Math.min(prev.length, 1024));
  const at = next.lastIndexOf(anchor);
  if (anchor !== "" && at >= 0) return next.slice(at + anchor.length);
  return `[… output skipped: more than the gateway keeps arrived between two reads …]\n${next}`;
}

/** Where followed output goes: stdout and stderr as text, or JSON lines with --json. */
interface OutputSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

const terminalSink: OutputSink = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

const jsonLinesSink: OutputSink = {
  stdout: (text) => void process.stdout.write(JSON.stringify({ stream: "stdout", text }) + "\n"),
  stderr: (text) => void process.stdout.write(JSON.stringify({ stream: "stderr", text }) + "\n"),
};

function hidden(id: string, s: { status: string; createdBy: string }): CliError {
  return new CliError(
    "OUTPUT_HIDDEN",
    `session ${id} (${s.status}) was started by ${s.createdBy}: its output is visible only to its creator, whoever created them, and operator.admin`,
    EXIT.failed,
  );
}

/** Prints a session's output as it comes until it ends; resolves with its final record. */
async function followOutput(client: GatewayClient, id: string, sink: OutputSink): Promise<SessionView> {
  let out = "";
  let err = "";
  for (;;) {
    const s = await client.request<SessionReadResult>("sessions.get", { id });
    if ("redacted" in s) throw hidden(id, s);
    const o = s.stdoutTail ?? "";
    const e = s.stderrTail ?? "";
    const newOut = newOutput(out, o);
    const newErr = newOutput(err, e);
    if (newOut) sink.stdout(newOut);
    if (newErr) sink.stderr(newErr);
    out = o;
    err = e;
    if (s.status !== "running") return s;
    await new Promise((r) => setTimeout(r, ATTACH_POLL_MS));
  }
}

/** 0 when it exited 0, else 1 (killed, timed out, failed to start, lost, or a non-zero exit). */
function sessionExit(s: SessionView): number {
  return s.status === "exited" && s.exitCode === 0 ? EXIT.ok : EXIT.failed;
}

/** Connects asking for exactly what `method` needs, plus `extra` scopes; runs `fn`; closes. */

/** `NAME=VALUE` pairs from `--env`. */
function parseEnv(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new CliError(
        "INVALID_FLAG",
        `--env: expected NAME=VALUE (got ${JSON.stringify(pair)})`,
        EXIT.usage,
      );
    }
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function sessionLine(s: SessionView): string {
  const exit =
    s.status === "running"
      ? `pid ${s.pid ?? "?"}`
      : s.signal
        ? `signal ${s.signal}`
        : s.exitCode !== null
          ? `exit ${s.exitCode}`
          : s.status;
  const why = s.endReason ? `: ${s.endReason}` : "";
  return `session ${s.id} ${s.status} (${exit}) with scopes ${listOrNone(s.scopes)}${why}`;
}

/** `sessions spawn -- <command…>`. */
export async function sessionsSpawn(command: string[], opts: SpawnOptions, out: Reporter): Promise<number> {
  const [program, ...args] = command;
  if (!program)
    throw new CliError("MISSING_ARGUMENT", "sessions spawn: no command given (put it after --)", EXIT.usage);
  const { scopes, defaulted } = jobScopes(opts.scope);
  const limit = timeLimit(opts, "--timeout-ms", opts.timeoutMs);
  const params = {
    command: program,
    args,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    scopes,
    ...(limit !== undefined ? { timeoutMs: limit } : {}),
    ...(parseEnv(opts.env) ? { env: parseEnv(opts.env) } : {}),
  };
  return withMethodClient(
    opts,
    "sessions.spawn",
    async (client) => {
      let session = await client.request<SessionView>("sessions.spawn", params);
      if (defaulted) out.info(defaultScopesNote(`session ${session.id}`));
      if (session.status === "running" && opts.attach) {
        // Output as it comes; with --json only the final record (it carries the output).
        const quiet: OutputSink = { stdout: () => {}, stderr: () => {} };
        session = await followOutput(client, session.id, out.json ? quiet : terminalSink);
      }
      out.result(session, () =>
        [
          sessionLine(session),
          ...(session.status === "failed-to-start"
            ? [`  ${session.error ?? session.stderrTail ?? ""}`.trimEnd()]
            : []),
          ...(session.status === "running" ? [`  output: gatehouse sessions logs ${session.id}`] : []),
        ].join("\n"),
      );
      return session.status === "running" ? EXIT.ok : sessionExit(session);
    },
    scopes,
  );
}

/** `sessions list`. */
export async function sessionsList(opts: ListOptions, out: Reporter): Promise<number> {
  const params = {
    ...(opts.status !== undefined ? { status: opts.status } : {}),
    ...(opts.limit !== undefined ? { limit: positiveInt("--limit", opts.limit) } : {}),
  };
  return withMethodClient(opts, "sessions.list", async (client) => {
    const { sessions } = await client.request<SessionListResult>("sessions.list", params);
    out.result({ sessions }, () => {
      if (sessions.length === 0) return "no sessions";
      return table([
        ["ID", "STATUS", "EXIT", "STARTED", "BY", "COMMAND"],
        ...sessions.map((s) => [
          s.id,
          s.status,
          s.signal ?? (s.exitCode === null ? "-" : String(s.exitCode)),
          formatTime(s.startedAtMs),
          s.createdBy,
          // Another creator's session: only its state is visible (issue 12).
          "redacted" in s
            ? "(hidden: started by someone else)"
            : (s.label ? `[${s.label}] ` : "") + formatCommand(s.command),
        ]),
      ]);
    });
    return EXIT.ok;
  });
}

/** `sessions logs <id> [--follow]`: stdout tail to stdout, stderr tail to stderr; --follow until it ends. */
export async function sessionsLogs(id: string, opts: LogsOptions, out: Reporter): Promise<number> {
  return withMethodClient(opts, "sessions.get", async (client) => {
    if (opts.follow) {
      const s = await followOutput(client, id, out.json ? jsonLinesSink : terminalSink);
      // --json: one JSON object per line, the last one the session's end.
      if (out.json) {
        const end = { id: s.id, status: s.status, exitCode: s.exitCode, signal: s.signal };
        process.stdout.write(JSON.stringify(end) + "\n");
      }
      out.info(`(${sessionLine(s)})`);
      return sessionExit(s);
    }
    const s = await client.request<SessionReadResult>("sessions.get", { id });
    if ("redacted" in s) throw hidden(id, s);
    if (out.json) {
      out.result(
        {
          id: s.id,
          status: s.status,
          exitCode: s.exitCode,
          stdout: s.stdoutTail ?? "",
          stderr: s.stderrTail ?? "",
        },
        () => "",
      );
    } else {
      process.stdout.write(s.stdoutTail ?? "");
      process.stderr.write(s.stderrTail ?? "");
      out.info(`(${sessionLine(s)}; output is the last 64 KiB per stream)`);
    }
    return EXIT.ok;
  });
}

/** `sessions kill <id>`. */
export async function sessionsKill(id: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withMethodClient(opts, "sessions.kill", async (client) => {
    const s = await client.request<SessionView>("sessions.kill", { id });
    out.result(s, () => sessionLine(s));
    return EXIT.ok;
  });
}

/** Adds `sessions spawn|list|logs|kill` to the program. */
export function registerSessionsCommands(program: Command, run: RunCommand): void {
  const sessions = program
    .command("sessions")
    .description(
      "processes the gateway runs for you (sub-agents); each calls back with its own runtime token",
    );
  const spawn = withClientOptions(
    sessions
      .command("spawn")
      .description(
        "start a process under the gateway (no shell): gatehouse sessions spawn [flags] -- <command…>",
      )
      .argument("<command...>", "the program and its arguments, after --")
      .option("--scope <scope>", jobScopeHelp("the session's"), collect)
      .option("--label <label>", "a label to find it by")
      .option("--cwd <dir>", "working directory (absolute path)")
      .option("--env <NAME=VALUE>", "extra environment variable (repeatable; not GATEHOUSE_*)", collect)
      .option(
        "--attach",
        "print its output as it comes until it ends, and exit 0 only if it exited 0 (--json: the final record)",
      ),
  );
  withTimeLimit(spawn, "kill it after this long (status timed-out)", "--timeout-ms").action(
    (command: string[], opts: SpawnOptions) =>
      run(() => sessionsSpawn(command, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    sessions
      .command("list")
      .description("sessions, newest first")
      .option("--status <status>", "only running, exited, killed, timed-out, failed-to-start or lost")
      .option("--limit <n>", "at most this many (default 100)"),
  ).action((opts: ListOptions) => run(() => sessionsList(opts, createReporter(!!opts.json)), !!opts.json));
  withClientOptions(
    sessions
      .command("logs")
      .description(
        "a session's output (the last 64 KiB of stdout and of stderr); --follow prints it as it comes",
      )
      .argument("<id>", "session id")
      .option(
        "--follow",
        "keep printing its output as it comes until it ends; exit 0 if it exited 0, else 1 (--json: one JSON object per line)",
      ),
  ).action((id: string, opts: LogsOptions) =>
    run(() => sessionsLogs(id, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    sessions
      .command("kill")
      .description("stop a running session (SIGTERM, then SIGKILL)")
      .argument("<id>", "session id"),
  ).action((id: string, opts: CommonOptions) =>
    run(() => sessionsKill(id, opts, createReporter(!!opts.json)), !!opts.json),
  );
}
