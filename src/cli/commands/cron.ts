/**
 * `gatehouse cron add|list|enable|disable|remove|run`: scheduled work. Each run is a session with a
 * runtime token carrying the job's scopes, which can never exceed what you held when you created the
 * job. A job whose creator lost its authority is disabled by the gateway; `enable` brings it back
 * only when the gateway's policy finds an authority that still holds its scopes (yours, if not its
 * creator's).
 */
import { Option, type Command } from "commander";
import type {
  CronJobInfo as CronJobView,
  CronListResult,
  CronRemoveResult,
  CronRunResult,
} from "../../protocol/cron.js";
import { withMethodClient, type CommonOptions } from "../connect.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import {
  collect,
  defaultScopesNote,
  formatCommand,
  formatTime,
  jobScopeHelp,
  jobScopes,
  table,
  timeLimit,
  withClientOptions,
  withTimeLimit,
  type RunCommand,
} from "./client-flags.js";

export interface CronAddOptions extends CommonOptions {
  schedule?: string;
  name?: string;
  scope?: string[];
  missed?: string;
  timezone?: string;
  timeLimit?: string;
  /** `--timeout-ms`, the old name of `--time-limit`. */
  timeoutMs?: string;
  cwd?: string;
}

/** `enabled`, `disabled`, or `disabled: <why the gateway disabled it>`. */
function jobState(j: CronJobView): string {
  if (j.enabled) return "enabled";
  return j.disabledReason ? `disabled: ${j.disabledReason}` : "disabled";
}

function jobLine(j: CronJobView): string {
  return `cron job ${j.id} "${j.schedule}"${j.timezone ? ` (${j.timezone})` : ""} ${jobState(j)}, scopes ${listOrNone(j.scopes)}, missed runs: ${j.missedPolicy}, next ${formatTime(j.nextRunAtMs)}`;
}

/** `cron add --schedule <expr> -- <command…>`. */
export async function cronAdd(command: string[], opts: CronAddOptions, out: Reporter): Promise<number> {
  const [program, ...args] = command;
  if (!program)
    throw new CliError("MISSING_ARGUMENT", "cron add: no command given (put it after --)", EXIT.usage);
  if (!opts.schedule) {
    throw new CliError("MISSING_FLAG", 'cron add: --schedule "<cron expression>" is required', EXIT.usage);
  }
  const { scopes, defaulted } = jobScopes(opts.scope);
  const limit = timeLimit(opts, "--timeout-ms", opts.timeoutMs);
  const params = {
    schedule: opts.schedule,
    command: program,
    args,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    scopes,
    ...(opts.missed !== undefined ? { missedPolicy: opts.missed } : {}),
    ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(limit !== undefined ? { timeoutMs: limit } : {}),
  };
  return withMethodClient(
    opts,
    "cron.add",
    async (client) => {
      const job = await client.request<CronJobView>("cron.add", params);
      if (defaulted) out.info(defaultScopesNote(`cron job ${job.id}`));
      out.result(job, () => jobLine(job));
      return EXIT.ok;
    },
    scopes,
  );
}

/** `cron list`. */
export async function cronList(opts: CommonOptions, out: Reporter): Promise<number> {
  return withMethodClient(opts, "cron.list", async (client) => {
    const { jobs } = await client.request<CronListResult>("cron.list", {});
    out.result({ jobs }, () => {
      if (jobs.length === 0) return "no cron jobs";
      return table([
        ["ID", "SCHEDULE", "NEXT", "LAST RUN", "SCOPES", "MISSED", "COMMAND"],
        ...jobs.map((j) => [
          j.id,
          j.schedule + (j.timezone ? ` ${j.timezone}` : ""),
          j.enabled ? formatTime(j.nextRunAtMs) : jobState(j),
          formatTime(j.lastRunAtMs),
          listOrNone(j.scopes),
          j.missedPolicy,
          (j.name ? `[${j.name}] ` : "") + formatCommand(j.command),
        ]),
      ]);
    });
    return EXIT.ok;
  });
}

/** `cron remove <id>`. */
export async function cronRemove(id: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withMethodClient(opts, "cron.remove", async (client) => {
    const res = await client.request<CronRemoveResult>("cron.remove", { id });
    out.result(res, () => `cron job ${id} removed`);
    return EXIT.ok;
  });
}

/**
 * `cron enable <id>` / `cron disable <id>`: schedules a job again, or stops scheduling it. Enabling
 * a job its creator's authority no longer covers makes it yours; the gateway says so.
 */
export async function cronSetEnabled(
  id: string,
  enabled: boolean,
  opts: CommonOptions,
  out: Reporter,
): Promise<number> {
  return withMethodClient(opts, "cron.update", async (client) => {
    const before = (await client.request<CronListResult>("cron.list", {})).jobs.find((j) => j.id === id);
    const job = await client.request<CronJobView>("cron.update", { id, enabled });
    const rebased = before !== undefined && before.creatorDeviceId !== job.creatorDeviceId;
    out.result(job, () => {
      if (!enabled) return `cron job ${id} disabled (kept; gatehouse cron enable ${id} schedules it again)`;
      const line = `cron job ${id} enabled, next run ${formatTime(job.nextRunAtMs)}`;
      return rebased
        ? `${line}\n  its creator's authority had ended: it now runs on yours (${job.createdBy})`
        : line;
    });
    return EXIT.ok;
  });
}

/** `cron run <id>`: runs it now; prints the session it started. */
export async function cronRun(id: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withMethodClient(opts, "cron.run", async (client) => {
    const res = await client.request<CronRunResult>("cron.run", { id });
    out.result(res, () =>
      [
        `cron job ${id} started session ${res.sessionId} (${res.session.status})`,
        `  output: gatehouse sessions logs ${res.sessionId}`,
      ].join("\n"),
    );
    return res.session.status === "failed-to-start" ? EXIT.failed : EXIT.ok;
  });
}

/** Adds `cron add|list|enable|disable|remove|run` to the program. */
export function registerCronCommands(program: Command, run: RunCommand): void {
  const cron = program
    .command("cron")
    .description("scheduled work: each run is a session with a runtime token, never wider than its creator");
  const add = withClientOptions(
    cron
      .command("add")
      .description('schedule a command (no shell): gatehouse cron add --schedule "*/5 * * * *" -- <command…>')
      .argument("<command...>", "the program and its arguments, after --")
      .option("--schedule <expr>", "cron expression: 5 fields, or 6 with seconds first")
      .option("--name <name>", "a name to find it by")
      .option("--scope <scope>", jobScopeHelp("each run's"), collect)
      .addOption(
        new Option(
          "--missed <policy>",
          "runs missed while the gateway was down: skip them, or run once at start",
        )
          .choices(["skip", "run-once"])
          .default("skip"),
      )
      .option("--timezone <zone>", "IANA time zone the schedule is read in (default: the gateway's)")
      .option("--cwd <dir>", "working directory of each run (absolute path)"),
  );
  withTimeLimit(add, "kill a run after this long", "--timeout-ms").action(
    (command: string[], opts: CronAddOptions) =>
      run(() => cronAdd(command, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(cron.command("list").description("cron jobs, with their next run")).action(
    (opts: CommonOptions) => run(() => cronList(opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    cron
      .command("remove")
      .description("delete a cron job (a run in progress continues)")
      .argument("<id>", "job id"),
  ).action((id: string, opts: CommonOptions) =>
    run(() => cronRemove(id, opts, createReporter(!!opts.json)), !!opts.json),
  );
  for (const enabled of [true, false]) {
    withClientOptions(
      cron
        .command(enabled ? "enable" : "disable")
        .description(
          enabled
            ? "schedule a disabled cron job again; one whose creator lost its authority becomes yours"
            : "stop scheduling a cron job (it is kept; a run in progress continues)",
        )
        .argument("<id>", "job id"),
    ).action((id: string, opts: CommonOptions) =>
      run(() => cronSetEnabled(id, enabled, opts, createReporter(!!opts.json)), !!opts.json),
    );
  }
  withClientOptions(
    cron.command("run").description("run a cron job now; prints the session id").argument("<id>", "job id"),
  ).action((id: string, opts: CommonOptions) =>
    run(() => cronRun(id, opts, createReporter(!!opts.json)), !!opts.json),
  );
}
