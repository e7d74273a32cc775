/**
 * Turns the CLI's common flags into a connected GatewayClient. The CLI always signs its connect
 * with the identity in the state dir (on the gateway host that is the owner key, so no pairing)
 * and keeps the device tokens the gateway issues beside it, so elsewhere it pairs once.
 */
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import {
  FileDeviceTokenStore,
  GatewayClient,
  GatewayClientError,
  KnownGatewayStore,
  type GatewayClientAuth,
  type GatewayClientOptions,
} from "../client/index.js";
import { formatFingerprint } from "../protocol/setup-code.js";
import {
  loadConfig,
  resolveClientTarget,
  resolveStateDir,
  stateDirCertificateFingerprint,
  statePaths,
  type ClientTarget,
} from "../config/index.js";
import { loadOrCreateIdentity, type DeviceIdentity } from "../identity/index.js";
import { methodRequirement } from "../policy/method-scopes.js";
import { approveCommand, CliError, EXIT, refusingServer } from "./output.js";

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
  /** `--tls-fingerprint <sha256>`: pin the gateway's certificate for this call. */
  tlsFingerprint?: string;
  /** `--trust-fingerprint`: remember the pin for this gateway URL (the presented one if none was given). */
  trustFingerprint?: boolean;
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
  /** Certificate pins per wss:// gateway URL, written only when the user says so. */
  knownGateways: KnownGatewayStore;
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
    knownGateways: new KnownGatewayStore(join(identityDir, "known-gateways.json")),
  };
}

/** What the flags resolve to before any connection: URL, shared secret, state dir. */
export function resolveTarget(opts: CommonOptions): ClientTarget {
  return resolveClientTarget({
    url: opts.url,
    token: opts.token,
    password: opts.password,
    tlsFingerprint: opts.tlsFingerprint,
    stateDir: opts.stateDir,
  });
}

/** Where a pin came from, for what the CLI says about it. */
export type PinSource = "flag" | "local-gateway" | "known" | "presented" | "none";

/** The pin to use for `target`: the flag (or env, or the local gateway's record), else the stored one. */
export function pinFor(
  target: ClientTarget,
  device: CliDevice,
): { pin: string | undefined; source: PinSource } {
  if (target.tlsFingerprint) {
    return { pin: target.tlsFingerprint, source: target.urlSource === "config" ? "local-gateway" : "flag" };
  }
  if (!target.url.toLowerCase().startsWith("wss:")) return { pin: undefined, source: "none" };
  const known = device.knownGateways.get(target.url);
  return known ? { pin: known, source: "known" } : { pin: undefined, source: "none" };
}

/** Asks on the terminal whether to trust a certificate; false without one (never silently yes). */
export async function confirmTrust(url: string, fingerprint: string, json: boolean): Promise<boolean> {
  if (json || !process.stdin.isTTY || !process.stderr.isTTY) return false;
  // readline by getBuiltinModule, here: an import would load it into every command that connects.
  const { createInterface } = process.getBuiltinModule("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(
      `The gateway at ${url} presented a certificate that is not pinned yet:\n` +
        `  sha256 ${formatFingerprint(fingerprint)}\n` +
        "Compare it with `gatehouse status` on the gateway host (or the fingerprint its log printed).\n",
    );
    const answer = await rl.question("Trust this certificate and remember it for this URL? [y/N] ");
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Connects `make(pin)`'s client, handling certificates the way a person would: a pinned one must
 * match; an unpinned self-signed one is trusted only with `--trust-fingerprint` or a yes at the
 * prompt, and then remembered for this URL. Resolves with the connected client and the pin used.
 */
export async function connectPinned(
  target: ClientTarget,
  device: CliDevice,
  opts: Pick<CommonOptions, "trustFingerprint" | "json">,
  make: (pin: string | undefined) => GatewayClient,
  connect: (client: GatewayClient) => Promise<unknown> = (c) => c.connect(),
  say: (line: string) => void = (line) => process.stderr.write(line + "\n"),
): Promise<{ client: GatewayClient; pin: string | undefined }> {
  const { pin, source } = pinFor(target, device);
  let client = make(pin);
  let used = pin;
  let remember = opts.trustFingerprint === true && pin !== undefined && source === "flag";
  const save = () => {
    if (!remember || used === undefined || device.knownGateways.get(target.url) === used) return;
    device.knownGateways.set(target.url, used);
    say(
      `pinned the certificate of ${target.url} (sha256 ${formatFingerprint(used)}) in ${device.knownGateways.path}`,
    );
  };
  try {
    await connect(client);
  } catch (err) {
    await client.close();
    // The gateway answered over the pinned certificate (e.g. pairing required): the pin is good.
    if (err instanceof GatewayClientError && err.code === "HANDSHAKE_REJECTED") save();
    const presented = tlsPresented(err);
    if (!presented || pin !== undefined) throw err;
    const own = presented === ownCertificateFingerprint(device.stateDir);
    const trusted =
      own ||
      opts.trustFingerprint === true ||
      (await confirmTrust(target.url, presented, opts.json === true));
    if (!trusted) throw err;
    client = make(presented);
    used = presented;
    remember = true;
    try {
      await connect(client);
    } catch (retryErr) {
      await client.close();
      if (retryErr instanceof GatewayClientError && retryErr.code === "HANDSHAKE_REJECTED") save();
      throw retryErr;
    }
  }
  save();
  return { client, pin: used };
}

/**
 * The certificate of the gateway whose state dir this CLI uses (a container sharing the gateway's
 * volume): reading the state dir already proves ownership, so it is trusted without a prompt.
 */
function ownCertificateFingerprint(stateDir: string): string | null {
  try {
    return stateDirCertificateFingerprint(stateDir, loadConfig({ stateDir }).gateway);
  } catch {
    return null;
  }
}

/** The fingerprint an untrusted (unpinned) certificate presented, from a TLS_UNTRUSTED failure. */
function tlsPresented(err: unknown): string | undefined {
  if (!(err instanceof GatewayClientError) || err.code !== "TLS_UNTRUSTED") return undefined;
  const fp = err.details?.presentedFingerprint;
  return typeof fp === "string" && fp !== "" ? fp : undefined;
}

/** The options every CLI client shares. */
export function cliClientOptions(
  target: ClientTarget,
  device: CliDevice,
  opts: CommonOptions,
  pin: string | undefined,
  auth: GatewayClientAuth = { token: target.token, password: target.password },
): Pick<
  GatewayClientOptions,
  "url" | "auth" | "identity" | "deviceTokenStore" | "allowInsecure" | "tlsFingerprint"
> {
  return {
    url: target.url,
    auth,
    identity: device.identity,
    deviceTokenStore: device.tokenStore,
    allowInsecure: opts.allowInsecure === true || target.allowInsecure === true || dialsThisMachine(target),
    ...(pin ? { tlsFingerprint: pin } : {}),
  };
}

/**
 * True when the CLI dials this state dir's own gateway at an address of this very machine (a
 * custom bind on a LAN address): that traffic never leaves the host, so plain ws:// is as private
 * as loopback and needs no --allow-insecure.
 */
export function dialsThisMachine(target: ClientTarget): boolean {
  if (target.urlSource !== "config") return false;
  let host: string;
  try {
    host = new URL(target.url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return false;
  }
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((info) => info.address.split("%")[0] === host),
  );
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
  const { client } = await connectPinned(
    target,
    device,
    opts,
    (pin) =>
      new GatewayClient({
        ...cliClientOptions(target, device, opts, pin),
        client: { id: "cli", mode: "cli" },
        scopes,
        connectTimeoutMs: timeoutMs,
        requestTimeoutMs: timeoutMs,
      }),
    (c) => (waitMs === undefined ? c.connect() : connectWaiting(c, waitMs)),
  );
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
    if (!entry) return;
    const merged = [...new Set([...entry.scopes, ...scopes])].sort();
    if (merged.length === new Set(entry.scopes).size) return;
    device.tokenStore.set(id, "operator", { ...entry, scopes: merged });
  } catch {
    // Only a cache of what the gateway knows; the command itself does not depend on it.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isPairingRequired(err: unknown): err is GatewayClientError {
  return err instanceof GatewayClientError && err.detailCode === "PAIRING_REQUIRED";
}

/** Retries the connect while the only obstacle is a pending approval. */
export async function connectWaiting(client: GatewayClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let announced: string | undefined;
  for (;;) {
    try {
      await client.connect();
      return;
    } catch (err) {
      if (!isPairingRequired(err)) throw err;
      const id = err.requestId;
      const server = refusingServer(err);
      if (id !== undefined && id !== announced) {
        announced = id;
        process.stderr.write(
          `waiting for approval of request ${id} (${approveCommand(id, server)} on the gateway host)…\n`,
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
          id
            ? `approve it on the gateway host: ${approveCommand(id, server)}, then run this again`
            : undefined,
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

/**
 * Connects asking for exactly the scope `method` needs (least privilege) plus `extra`, runs `fn`
 * with the client, and always closes it.
 */
export async function withMethodClient<T>(
  opts: CommonOptions,
  method: string,
  fn: (client: GatewayClient) => Promise<T>,
  extra: readonly string[] = [],
): Promise<T> {
  const need = methodRequirement(method).scope;
  const { client } = await connectCli(opts, [...new Set([...(need ? [need] : []), ...extra])]);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
