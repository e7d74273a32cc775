/**
 * Turns the CLI's common flags into a connected GatewayClient. The CLI always signs its connect
 * with the identity in the state dir (on the gateway host that is the owner key, so no pairing)
 * and keeps the device tokens the gateway issues beside it, so elsewhere it pairs once.
 */
import { join } from "node:path";
import { FileDeviceTokenStore, GatewayClient, GatewayClientError } from "../client/index.js";
import { resolveClientTarget, resolveStateDir, statePaths, type ClientTarget } from "../config/index.js";
import { loadOrCreateIdentity, type DeviceIdentity } from "../identity/index.js";
import { approveCommand, CliError, EXIT } from "./output.js";

/** Flags every command that talks to a gateway accepts. */
export interface CommonOptions {
  url?: string;
  token?: string;
  password?: string;
  json?: boolean;
  timeout?: string;
  stateDir?: string;
  allowInsecure?: boolean;
  /** `--wait [seconds]`: true when given without a value. */
  wait?: string | boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long `--wait` waits for an approval when no number is given. */
export const DEFAULT_WAIT_SECONDS = 300;
/** How often `--wait` retries the connect; the same ask keeps the same requestId. */
export const WAIT_RETRY_MS = 2_000;

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

/** `--wait [seconds]` in milliseconds, or undefined when not waiting. */
export function parseWait(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_WAIT_SECONDS * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new CliError(
      "INVALID_FLAG",
      `--wait: must be a positive number of seconds (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return Math.round(n * 1000);
}

/** Where this CLI's device identity and device tokens live. */
export interface CliDevice {
  stateDir: string;
  identity: DeviceIdentity;
  identityPath: string;
  tokenStore: FileDeviceTokenStore;
}

/** Loads (or creates, race-safely) `<state>/identity/device.json` and opens the token store beside it. */
export function loadCliDevice(stateDirFlag: string | undefined): CliDevice {
  const stateDir = resolveStateDir({ flag: stateDirFlag });
  const { identityDir } = statePaths(stateDir);
  const identityPath = join(identityDir, "device.json");
  return {
    stateDir,
    identity: loadOrCreateIdentity(identityPath),
    identityPath,
    tokenStore: new FileDeviceTokenStore(join(identityDir, "device-auth.json")),
  };
}

/** What the flags resolve to before any connection: URL, shared secret, state dir. */
export function resolveTarget(opts: CommonOptions): ClientTarget {
  return resolveClientTarget({
    url: opts.url,
    token: opts.token,
    password: opts.password,
    stateDir: opts.stateDir,
  });
}

export interface CliConnection {
  client: GatewayClient;
  url: string;
  device: CliDevice;
  /** The scopes this session asked for (and was granted). */
  scopes: readonly string[];
}

/**
 * Connects as the `cli` client asking for exactly `scopes`, signed with the CLI's identity; the
 * caller closes the client. With `--wait`, a PAIRING_REQUIRED refusal is retried every 2 s until
 * the request is approved, a terminal error occurs, or the wait times out.
 */
export async function connectCli(
  opts: CommonOptions,
  scopes: readonly string[],
  prepared?: { target?: ClientTarget; device?: CliDevice },
): Promise<CliConnection> {
  const timeoutMs = parseTimeout(opts.timeout);
  const waitMs = parseWait(opts.wait);
  const target = prepared?.target ?? resolveTarget(opts);
  const device = prepared?.device ?? loadCliDevice(opts.stateDir);
  const client = new GatewayClient({
    url: target.url,
    auth: { token: target.token, password: target.password },
    identity: device.identity,
    deviceTokenStore: device.tokenStore,
    client: { id: "cli", mode: "cli" },
    scopes,
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    allowInsecure: opts.allowInsecure === true,
  });
  if (waitMs === undefined) {
    await client.connect();
  } else {
    await connectWaiting(client, waitMs);
  }
  refreshStoredScopes(client, device, scopes);
  return { client, url: target.url, device, scopes: [...scopes] };
}

/**
 * An admission that kept the presented device token (no new one issued, not the owner key) proves
 * the token covers what was asked. The gateway widens a token in place when an upgrade is
 * approved, so the scopes stored beside it can be stale: keep them current, since the CLI reads
 * them to avoid asking beyond what this device holds.
 */
function refreshStoredScopes(client: GatewayClient, device: CliDevice, scopes: readonly string[]): void {
  const auth = client.hello?.auth;
  if (!auth || auth.method === "owner-key" || auth.deviceToken !== undefined || scopes.length === 0) return;
  const id = device.identity.deviceId;
  try {
    const entry = device.tokenStore.get(id, "operator");
    if (!entry || scopes.every((s) => entry.scopes.includes(s))) return;
    device.tokenStore.set(id, "operator", {
      ...entry,
      scopes: [...new Set([...entry.scopes, ...scopes])].sort(),
    });
  } catch {
    // Only a cache of what the gateway knows; the command itself does not depend on it.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isPairingRequired(err: unknown): err is GatewayClientError {
  return err instanceof GatewayClientError && err.detailCode === "PAIRING_REQUIRED";
}

/** Retries the connect while the only obstacle is a pending approval. */
async function connectWaiting(client: GatewayClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let announced: string | undefined;
  for (;;) {
    try {
      await client.connect();
      return;
    } catch (err) {
      if (!isPairingRequired(err)) throw err;
      const id = err.requestId;
      if (id !== undefined && id !== announced) {
        announced = id;
        process.stderr.write(
          `waiting for approval of request ${id} (${approveCommand(id)} on the gateway host)…\n`,
        );
      } else if (id === undefined && announced === undefined) {
        announced = "";
        process.stderr.write(`waiting: ${err.message}…\n`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const seconds = Math.round(waitMs / 1000);
        throw new CliError(
          "WAIT_TIMEOUT",
          id
            ? `request ${id} was not approved within ${seconds}s`
            : `no approval within ${seconds}s (${err.message})`,
          EXIT.failed,
          id ? `approve it on the gateway host: ${approveCommand(id)}, then run this again` : undefined,
          { fields: { requestId: id, details: err.details } },
        );
      }
      // Without a requestId the gateway is full of requests and says when to come back.
      const delay =
        id === undefined && err.retryAfterMs ? Math.max(WAIT_RETRY_MS, err.retryAfterMs) : WAIT_RETRY_MS;
      await sleep(Math.min(delay, remaining));
    }
  }
}
