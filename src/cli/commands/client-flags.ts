/**
 * The flags every gateway-talking command takes, for command groups registered outside
 * `program.ts` (sessions, cron). Same flags and help text as `program.ts`'s own helper.
 */
import { Option, type Command } from "commander";
// What a session or cron job is granted without `--scope` is a grant: the policy decides it.
import { DEFAULT_JOB_SCOPES } from "../../policy/client-defaults.js";
import { CliError, EXIT } from "../output.js";

/** How a command group hands its work to the program: `run(work, json)`. */
export type RunCommand = (work: () => Promise<number>, json: boolean) => void;

export const TLS_FINGERPRINT_FLAG = "--tls-fingerprint <sha256>";
export const TLS_FINGERPRINT_HELP =
  "pin the gateway's TLS certificate (wss://) to this SHA-256 fingerprint (default: the pin remembered for the URL)";
export const TRUST_FINGERPRINT_FLAG = "--trust-fingerprint";
export const TRUST_FINGERPRINT_HELP =
  "remember the certificate's fingerprint for this gateway URL (the one given, else the one presented)";

/**
 * The flags every gateway-talking command shares, in the order `gatehouse help connection` lists
 * them. Each command accepts them; its own help names them once instead of repeating ten lines.
 */
export function connectionOptions(): Option[] {
  return [
    new Option("--url <url>", "gateway URL (default: GATEHOUSE_GATEWAY_URL, else the local gateway)"),
    new Option(
      "--token <token>",
      "shared gateway token (default: GATEHOUSE_GATEWAY_TOKEN, else the local config)",
    ),
    new Option("--password <password>", "shared gateway password (default: GATEHOUSE_GATEWAY_PASSWORD)"),
    new Option("--timeout <ms>", "connect and request timeout in milliseconds").default("10000"),
    new Option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)"),
    new Option("--allow-insecure", "allow ws:// to a non-loopback address (secrets travel in the clear)"),
    new Option(TLS_FINGERPRINT_FLAG, TLS_FINGERPRINT_HELP),
    new Option(TRUST_FINGERPRINT_FLAG, TRUST_FINGERPRINT_HELP),
    new Option(
      "--wait [seconds]",
      "if this device needs approval, wait for it (retrying every 2 s; default 300 s) and then continue",
    ),
  ];
}

/** The line a command's help shows in place of the connection flags. */
export const CONNECTION_NOTE =
  "\nConnection options: --url, --token, --password, --timeout, --state-dir, --allow-insecure,\n" +
  "  --tls-fingerprint, --trust-fingerprint, --wait (see: gatehouse help connection)";

/** Adds the flags shared by every command that talks to a gateway (listed once: `gatehouse help connection`). */
export function withClientOptions(cmd: Command): Command {
  for (const option of connectionOptions()) cmd.addOption(option.hideHelp());
  return cmd.option("--json", "print machine-readable JSON").addHelpText("after", CONNECTION_NOTE);
}

/** Collects a repeatable flag (`--scope a --scope b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The scopes `--scope` asks for (`none` = no scopes at all), and whether the default applied. */
export function jobScopes(flag: readonly string[] | undefined): { scopes: string[]; defaulted: boolean } {
  if (flag === undefined || flag.length === 0) return { scopes: [...DEFAULT_JOB_SCOPES], defaulted: true };
  if (flag.includes("none")) {
    if (flag.length > 1) {
      throw new CliError(
        "INVALID_FLAG",
        "--scope none: grants nothing, so it cannot be combined with other scopes",
        EXIT.usage,
      );
    }
    return { scopes: [], defaulted: false };
  }
  return { scopes: [...flag], defaulted: false };
}

/** The note a command prints when it granted the default scopes. */
export function defaultScopesNote(what: string): string {
  return `${what} was granted ${DEFAULT_JOB_SCOPES.join(", ")} only (the default); grant more with --scope, e.g. --scope operator.write`;
}

/** The `--scope` help shared by sessions spawn and cron add. */
export function jobScopeHelp(what: string): string {
  return `scope of ${what} runtime token (repeatable; default: ${DEFAULT_JOB_SCOPES.join(", ")}; none: no scopes; never more than you hold)`;
}

/** A positive integer flag value, or a usage error naming the flag. */
export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new CliError(
      "INVALID_FLAG",
      `${flag}: must be a positive integer (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return n;
}

/** `90s`, `10m`, `2h`, `1d`, `500ms` or a bare number of milliseconds → milliseconds; a usage error otherwise. */
export function parseDuration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? "ms") as keyof typeof unit] : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new CliError(
      "INVALID_FLAG",
      `${flag}: must be a duration such as 90s, 10m or 2h (a bare number is milliseconds; got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return ms;
}

/**
 * `--time-limit <duration>`: how long the work may run, one name wherever work runs (sessions,
 * cron runs, node commands); `legacy` is the old spelling, still accepted and hidden from help.
 */
export function withTimeLimit(cmd: Command, what: string, legacy: string): Command {
  return cmd
    .option("--time-limit <duration>", `${what}, e.g. 90s, 10m, 2h (a bare number is milliseconds)`)
    .addOption(new Option(`${legacy} <ms>`, `old name of --time-limit`).hideHelp());
}

/** The time limit from `--time-limit` or its old spelling, in milliseconds. */
export function timeLimit(
  opts: { timeLimit?: string },
  legacyFlag: string,
  legacyValue: string | undefined,
): number | undefined {
  if (opts.timeLimit !== undefined) return parseDuration("--time-limit", opts.timeLimit);
  return parseDuration(legacyFlag, legacyValue);
}

/** `2026-01-02 03:04:05` in local time, or `-`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A command line for display: arguments with spaces or quotes are JSON-quoted. */
export function formatCommand(command: readonly string[]): string {
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}
