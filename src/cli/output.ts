/**
 * How the CLI reports: results as text or `--json`, and every failure as one clear line (code,
 * reason, what to do) with a distinct exit status. Stack traces only with GATEHOUSE_DEBUG=1.
 */
import { GatewayClientError } from "../client/errors.js";
import { ConfigError } from "../config/errors.js";
import { IdentityError } from "../identity/errors.js";

/** Exit statuses: 1 the operation failed, 2 bad usage or configuration, 70 a bug. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

/** A CLI-level failure with its own code (bad flag value, gateway port taken, ...). */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT.failed,
    readonly hint?: string,
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
  closeCode?: number;
  details?: Record<string, unknown>;
}

/** What to do about a failure, in one sentence, when we know. */
function hintFor(err: GatewayClientError): string | undefined {
  switch (err.detailCode) {
    case "AUTH_TOKEN_MISSING":
    case "AUTH_TOKEN_MISMATCH":
      return "pass --token or set GATEHOUSE_GATEWAY_TOKEN to the gateway's gateway.auth.token";
    case "AUTH_PASSWORD_MISSING":
    case "AUTH_PASSWORD_MISMATCH":
      return "pass --password or set GATEHOUSE_GATEWAY_PASSWORD to the gateway's gateway.auth.password";
    case "MISSING_SCOPE":
      return "this connection was not granted the scope the method needs";
    case "PROTOCOL_MISMATCH":
      return "the gateway speaks another protocol version; upgrade the older side";
    case "PAIRING_REQUIRED":
      return err.requestId
        ? `approve it on the gateway host: gatehouse devices approve ${err.requestId}`
        : "this device must be approved on the gateway host";
  }
  if (err.code === "CONNECT_FAILED") return "is the gateway running? start it with: gatehouse gateway run";
  if (err.code === "INSECURE_URL") return "use wss://, or pass --allow-insecure if you accept the risk";
  if (err.code === "REQUEST_TIMEOUT" || err.code === "CHALLENGE_TIMEOUT")
    return "raise --timeout or check the gateway";
  return undefined;
}

function describe(err: unknown): { report: ErrorReport; exitCode: number } {
  if (err instanceof ConfigError) {
    return {
      report: { code: err.code, message: err.message, key: err.key, path: err.path },
      exitCode: EXIT.usage,
    };
  }
  if (err instanceof GatewayClientError) {
    return {
      report: {
        code: err.detailCode ?? err.wireCode ?? err.code,
        message: err.message,
        hint: hintFor(err),
        detailCode: err.detailCode,
        requestId: err.requestId,
        closeCode: err.closeCode,
        details: err.details,
      },
      exitCode: err.code === "INVALID_OPTIONS" || err.code === "INSECURE_URL" ? EXIT.usage : EXIT.failed,
    };
  }
  if (err instanceof IdentityError) {
    return { report: { code: err.code, message: err.message, path: err.path }, exitCode: EXIT.failed };
  }
  if (err instanceof CliError) {
    return { report: { code: err.code, message: err.message, hint: err.hint }, exitCode: err.exitCode };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { report: { code: "INTERNAL_ERROR", message }, exitCode: EXIT.internal };
}

/** Prints a failure (one line, or `{error}` with --json) and returns the exit status to use. */
export function reportError(err: unknown, json: boolean): number {
  const { report, exitCode } = describe(err);
  if (json) {
    const clean = Object.fromEntries(Object.entries(report).filter(([, v]) => v !== undefined));
    process.stdout.write(JSON.stringify({ error: clean }, null, 2) + "\n");
  } else {
    process.stderr.write(
      `error ${report.code}: ${report.message}${report.hint ? ` — ${report.hint}` : ""}\n`,
    );
  }
  if (process.env.GATEHOUSE_DEBUG === "1" && err instanceof Error && err.stack) {
    process.stderr.write(err.stack + "\n");
  }
  return exitCode;
}
