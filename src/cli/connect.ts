/** Turns the CLI's common flags into a connected GatewayClient. */
import { GatewayClient } from "../client/index.js";
import { resolveClientTarget } from "../config/index.js";
import { CliError, EXIT } from "./output.js";

/** Flags every command that talks to a gateway accepts. */
export interface CommonOptions {
  url?: string;
  token?: string;
  password?: string;
  json?: boolean;
  timeout?: string;
  stateDir?: string;
  allowInsecure?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** `--timeout` in milliseconds; a clear usage error otherwise. */
export function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new CliError(
      "INVALID_FLAG",
      `--timeout: must be a positive number of milliseconds (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return n;
}

export interface CliConnection {
  client: GatewayClient;
  url: string;
}

/** Connects as the `cli` client asking for exactly `scopes`; the caller closes the client. */
export async function connectCli(opts: CommonOptions, scopes: readonly string[]): Promise<CliConnection> {
  const timeoutMs = parseTimeout(opts.timeout);
  const target = resolveClientTarget({
    url: opts.url,
    token: opts.token,
    password: opts.password,
    stateDir: opts.stateDir,
  });
  const client = new GatewayClient({
    url: target.url,
    auth: { token: target.token, password: target.password },
    client: { id: "cli", mode: "cli" },
    scopes,
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    allowInsecure: opts.allowInsecure === true,
  });
  await client.connect();
  return { client, url: target.url };
}
