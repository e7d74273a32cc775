/** `gatehouse gateway run`: the gateway in the foreground, one log line per connection decision. */
import type { ConfigOverrides } from "../../config/types.js";
import { createLogger, type GatewayLogger, type LogFormat } from "../../gateway/log.js";
import { startConfiguredGateway, type ConfiguredGateway } from "../../runtime/gateway-from-config.js";
import { GatewayStartError } from "../../runtime/start-errors.js";
import { applyServingSettings } from "../lifecycle/start-settings.js";
import { dashboardBaseUrl, dashboardLine, dashboardUrlHasSecret } from "../lifecycle/dashboard.js";
import { CliError, EXIT } from "../output.js";

export interface GatewayRunOptions {
  stateDir?: string;
  port?: string;
  bind?: string;
  host?: string;
  auth?: string;
  token?: string;
  password?: string;
  logFormat?: string;
}

/** Starts the gateway and resolves when it has stopped after SIGINT/SIGTERM. */
export async function gatewayRun(opts: GatewayRunOptions): Promise<number> {
  const logFormat = parseLogFormat(opts.logFormat);
  const overrides: ConfigOverrides = {
    ...(opts.port !== undefined && { port: opts.port }),
    ...(opts.bind !== undefined && { bind: opts.bind }),
    ...(opts.host !== undefined && { host: opts.host }),
    ...(opts.auth !== undefined && { authMode: opts.auth }),
    ...(opts.token !== undefined && { token: opts.token }),
    ...(opts.password !== undefined && { password: opts.password }),
  };
  // Signals are watched from before the start: a SIGTERM that lands mid-start still stops cleanly.
  let signalled: string | null = null;
  let onSignal: (signal: string) => void = (signal) => {
    signalled = signal;
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let gateway: ConfiguredGateway;
  const logger = createLogger(logFormat);
  try {
    gateway = await startConfiguredGateway({ stateDir: opts.stateDir, overrides, logger });
  } catch (err) {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    throw err instanceof GatewayStartError ? cliStartError(err) : err;
  }
  applyServingSettings();
  announceDashboard(gateway, logFormat, logger);
  return new Promise((resolve) => {
    onSignal = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      void gateway.close({ reason: `gateway stopping (${signal})` }).then(() => resolve(EXIT.ok));
    };
    if (signalled) onSignal(signalled);
  });
}

/**
 * Where the Control UI is: the URL with its token for a person at a terminal; a log (a file, a
 * pipe, JSON lines) gets it without the token, since logs are read by more eyes than the config.
 */
function announceDashboard(gateway: ConfiguredGateway, format: LogFormat, logger: GatewayLogger): void {
  const wsUrl = gateway.app.server.localUrl();
  const auth = gateway.config.gateway.auth;
  if (format === "text" && process.stdout.isTTY) {
    process.stdout.write(`${dashboardLine(wsUrl, auth, true)}\n`);
    return;
  }
  logger.log("info", "control ui", {
    url: dashboardBaseUrl(wsUrl),
    hint: dashboardUrlHasSecret(auth) ? "gatehouse dashboard prints it with the token" : undefined,
  });
}

/** The assembly's start failures as the CLI reports them: with the flag or command that helps. */
function cliStartError(err: GatewayStartError): CliError {
  switch (err.code) {
    case "TLS_SETUP_FAILED":
      return new CliError("TLS_SETUP_FAILED", err.message, EXIT.usage);
    case "PORT_IN_USE":
      return new CliError(
        "PORT_IN_USE",
        err.message,
        EXIT.failed,
        "another gateway may be running (check with: gatehouse health), or pass --port",
      );
    default:
      return new CliError(err.code, err.message);
  }
}

function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === "text" || value === "json") return value ?? "text";
  throw new CliError(
    "INVALID_FLAG",
    `--log-format: must be text or json (got ${JSON.stringify(value)})`,
    EXIT.usage,
  );
}
