/**
 * How the CLI reports: results as text or `--json`, and every failure as one clear line (code,
 * reason, what to do) with a distinct exit status. Stack traces only with GATEHOUSE_DEBUG=1.
 */
import { GatewayClientError } from "../client/errors.js";
import { ConfigError } from "../config/errors.js";
import { IdentityError } from "../identity/errors.js";
import { errorMeaning, GatewayError, isGatewayErrorCode } from "../protocol/errors.js";
import type { GatewayStartErrorCode } from "../runtime/start-errors.js";
import { StoreError } from "../store/errors.js";

/** Exit statuses: 1 the operation failed, 2 bad usage or configuration, 70 a bug. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

/** Extra facts a CliError may carry: shown as indented lines, and as fields with --json. */
export interface CliErrorExtra {
  /** Lines printed under the error line (e.g. the pending requests to choose from). */
  lines?: string[];
  /** Structured fields for --json (merged into `error`). */
  fields?: Record<string, unknown>;
}

/** The CLI's own failure codes; a script can switch on them (`error.code` with --json). */
export const CLI_ERROR_CODES = [
  // Usage: a flag or argument is missing or malformed.
  "INVALID_FLAG",
  "INVALID_ARGUMENT",
  "MISSING_FLAG",
  "MISSING_ARGUMENT",
  "INVALID_DEVICE_ID",
  "AMBIGUOUS_DEVICE_ID",
  "AMBIGUOUS_NODE_ID",
  "REQUEST_ID_REQUIRED",
  "UNKNOWN_COMMAND",
  "UNKNOWN_OPTION",
  "TOO_MANY_ARGUMENTS",
  "MISSING_COMMAND",
  "USAGE",
  // What was named does not exist (here, or any more).
  "DEVICE_NOT_FOUND",
  "UNKNOWN_REQUEST",
  "NOT_FOUND",
  "STORE_MISSING",
  "NO_OWNER_IDENTITY",
  "NO_ATTEMPT_RECORDED",
  "NOTHING_TO_IMPORT",
  "SECRET_NOT_RECORDED",
  "NO_LOG_FILE",
  "NO_REACHABLE_URL",
  // Refused or not possible from this caller.
  "MISSING_SCOPE",
  "OUTPUT_HIDDEN",
  "WAIT_TIMEOUT",
  // The gateway process the CLI starts or stops.
  "GATEWAY_START_FAILED",
  "GATEWAY_STOP_FAILED",
  "STATE_DIR_IN_USE",
  "NO_LOCAL_GATEWAY",
  "NO_GATEWAY_TOKEN",
] as const;

/** One of {@link CLI_ERROR_CODES}, or a start failure of the gateway assembly passed through as is. */
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number] | GatewayStartErrorCode;

/** A CLI-level failure with its own code (bad flag value, gateway port taken, ...). */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly exitCode: number = EXIT.failed,
    readonly hint?: string,
    readonly extra: CliErrorExtra = {},
  ) {
    super(message);
    this.name = "CliError";
  }
}

export interface Reporter {
  json: boolean;
  /** Prints a result: `data` as JSON with --json, else the text lines. */
  result(data: unknown, text: () => string): void;
  /** Prints a progress/info line to stderr (never with secrets). */
  info(line: string): void;
}

/** A reporter writing results to stdout and notes to stderr. */
export function createReporter(json: boolean): Reporter {
  return {
    json,
    result(data, text) {
      process.stdout.write(json ? JSON.stringify(data, null, 2) + "\n" : text() + "\n");
    },
    info(line) {
      if (!json) process.stderr.write(line + "\n");
    },
  };
}

interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  detailCode?: string;
  requestId?: string;
  key?: string;
  path?: string;
  holderPid?: number;
  closeCode?: number;
  details?: Record<string, unknown>;
  [field: string]: unknown;
}

/** What to do about a failure, in one sentence, when we know: the error table's hint, or the client's own. */
function hintFor(err: GatewayClientError): string | undefined {
  // Which gateway refused decides which command approves: gatehouse's own, or OpenClaw's.
  if (err.detailCode === "PAIRING_REQUIRED") {
    const server = refusingServer(err);
    return err.requestId
      ? `approve it on the gateway host: ${approveCommand(err.requestId, server)}`
      : `this device must be approved on the gateway host (${server} devices list there)`;
  }
  if (err.detailCode !== undefined && isGatewayErrorCode(err.detailCode)) {
    const { hint } = errorMeaning(err.detailCode);
    if (hint) return hint;
  }
  if (err.code === "CONNECT_FAILED") {
    return (
      "is the gateway running? on its host: gatehouse gateway start; from another machine, pair once " +
      "with gatehouse connect --pair '<link>' (the link comes from gatehouse pair code), or pass --url"
    );
  }
  if (err.code === "INSECURE_URL") {
    return "use wss://, or pass --allow-insecure if you accept the risk (TLS on the gateway: gatehouse config set gateway.tls.enabled true)";
  }
  if (err.code === "TLS_FINGERPRINT_MISMATCH") {
    return (
      "compare with the fingerprint `gatehouse status` shows on the gateway host; only if its certificate " +
      "changed on purpose, re-pin: --tls-fingerprint <new> --trust-fingerprint"
    );
  }
  if (err.code === "TLS_UNTRUSTED") {
    const fp =
      typeof err.details?.presentedFingerprint === "string" ? err.details.presentedFingerprint : "<sha256>";
    return (
      "compare it with the fingerprint `gatehouse status` shows on the gateway host, then pin it: " +
      `--tls-fingerprint ${fp} --trust-fingerprint (or use a setup code: gatehouse connect --pair <link>)`
    );
  }

  if (err.code === "REQUEST_TIMEOUT" || err.code === "CHALLENGE_TIMEOUT")
    return "raise --timeout or check the gateway";
  return undefined;
}

/** Library option names in a client error, as the CLI flags that set them. */
const OPTION_FLAGS: ReadonlyArray<[RegExp, string]> = [
  [/\btlsFingerprint\b/g, "--tls-fingerprint"],
  [/\ballowInsecure: true\b/g, "--allow-insecure"],
  [/\ballowInsecure\b/g, "--allow-insecure"],
];

function inFlagTerms(message: string): string {
  return OPTION_FLAGS.reduce((m, [re, flag]) => m.replace(re, flag), message);
}

/** Which CLI manages the gateway that refused: its own kind, or OpenClaw's. */
export type GatewayKind = "gatehouse" | "openclaw";

/**
 * The kind of gateway a PAIRING_REQUIRED came from. Gatehouse's refusal names its own approve
 * command in `details.remediationHint`; OpenClaw's hint names none (it says "Approve this device
 * from the pending pairing requests"), so any other refusal is taken as OpenClaw's.
 */
export function refusingServer(err: GatewayClientError): GatewayKind {
  const hint = err.details?.remediationHint;
  if (typeof hint !== "string") return err.details?.requestId === undefined ? "gatehouse" : "openclaw";
  return /\bgatehouse\b/.test(hint) ? "gatehouse" : "openclaw";
}

/** The command that approves one exact pending request, on the given kind of gateway. */
export function approveCommand(requestId: string, server: GatewayKind = "gatehouse"): string {
  return `${server} devices approve ${requestId}`;
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;

/** `a, b` or `(none)`. */
export function listOrNone(items: readonly string[] | undefined): string {
  return items && items.length > 0 ? items.join(", ") : "(none)";
}

/** The PAIRING_REQUIRED specifics: what was asked versus what is approved, when the server said. */
function pairingFacts(err: GatewayClientError): { fields: Record<string, unknown>; lines: string[] } {
  const d = err.details ?? {};
  const requestedRole = typeof d.requestedRole === "string" ? d.requestedRole : undefined;
  const requestedScopes = strings(d.requestedScopes);
  const approvedRoles = strings(d.approvedRoles);
  const approvedScopes = strings(d.approvedScopes);
  const fields: Record<string, unknown> = {
    reason: typeof d.reason === "string" ? d.reason : undefined,
    deviceId: typeof d.deviceId === "string" ? d.deviceId : undefined,
    requestedRole,
    requestedScopes,
    approvedRoles,
    approvedScopes,
  };
  const lines: string[] = [];
  if (requestedRole !== undefined || requestedScopes !== undefined) {
    let line = `  requested: role ${requestedRole ?? "?"}, scopes ${listOrNone(requestedScopes)}`;
    if (approvedRoles !== undefined || approvedScopes !== undefined) {
      line += `; approved: roles ${listOrNone(approvedRoles)}, scopes ${listOrNone(approvedScopes)}`;
    } else {
      line += "; approved: nothing yet";
    }
    lines.push(line);
  }
  return { fields, lines };
}

interface Described {
  report: ErrorReport;
  exitCode: number;
  lines: string[];
}

function describe(err: unknown): Described {
  if (err instanceof ConfigError) {
    return {
      report: { code: err.code, message: err.message, key: err.key, path: err.path },
      exitCode: EXIT.usage,
      lines: [],
    };
  }
  if (err instanceof GatewayClientError) {
    const pairing = err.detailCode === "PAIRING_REQUIRED";
    const facts = pairing ? pairingFacts(err) : { fields: {}, lines: [] };
    const message =
      pairing && err.requestId && !err.message.includes(err.requestId)
        ? `${err.message} (requestId ${err.requestId})`
        : err.code === "INSECURE_URL"
          ? // The library's advice names its option; the hint names the flag.
            err.message.replace(/; use wss:\/\/.*$/, "")
          : inFlagTerms(err.message);
    return {
      report: {
        code: err.detailCode ?? err.wireCode ?? err.code,
        message,
        hint: hintFor(err),
        detailCode: err.detailCode,
        requestId: err.requestId,
        ...facts.fields,
        closeCode: err.closeCode,
        details: err.details,
      },
      exitCode: err.code === "INVALID_OPTIONS" || err.code === "INSECURE_URL" ? EXIT.usage : EXIT.failed,
      lines: facts.lines,
    };
  }
  if (err instanceof IdentityError) {
    return {
      report: { code: err.code, message: err.message, path: err.path },
      exitCode: EXIT.failed,
      lines: [],
    };
  }
  if (err instanceof StoreError) {
    // Store messages already say what to do; the holder's pid helps find the other process.
    return {
      report: { code: err.code, message: err.message, path: err.path, holderPid: err.holderPid },
      exitCode: EXIT.failed,
      lines: [],
    };
  }
  if (err instanceof GatewayError) {
    // Raised by the pairing service when the CLI works on the store directly (gateway stopped).
    const details = Object.fromEntries(Object.entries(err.details).filter(([k]) => k !== "code"));
    return {
      report: {
        code: err.code,
        message: err.message,
        ...(Object.keys(details).length > 0 ? { details } : {}),
      },
      exitCode: EXIT.failed,
      lines: [],
    };
  }
  if (err instanceof CliError) {
    return {
      report: { code: err.code, message: err.message, hint: err.hint, ...err.extra.fields },
      exitCode: err.exitCode,
      lines: err.extra.lines ?? [],
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { report: { code: "INTERNAL_ERROR", message }, exitCode: EXIT.internal, lines: [] };
}

/**
 * Prints a failure and returns the exit status to use: one line (code, reason, what to do) plus
 * any detail lines on stderr, or `{error}` on stdout with --json.
 */
export function reportError(err: unknown, json: boolean): number {
  const { report, exitCode, lines } = describe(err);
  if (json) {
    const clean = Object.fromEntries(Object.entries(report).filter(([, v]) => v !== undefined));
    process.stdout.write(JSON.stringify({ error: clean }, null, 2) + "\n");
  } else {
    // A gateway message may already carry the remedy: say it once.
    const hint = report.hint && !report.message.includes(report.hint) ? ` — ${report.hint}` : "";
    const head = `error ${report.code}: ${report.message}${hint}`;
    process.stderr.write([head, ...lines].join("\n") + "\n");
  }
  if (process.env.GATEHOUSE_DEBUG === "1" && err instanceof Error && err.stack) {
    process.stderr.write(err.stack + "\n");
  }
  return exitCode;
}
