/**
 * Remote devices: `gatehouse pair code` (on the gateway side: mint a single-use setup code, shown
 * as text, a `gatehouse://pair?…` link and a QR code) and `gatehouse connect --pair <code|link>`
 * (on the other machine: pair this CLI's identity with it once, pin the certificate, print what it
 * got, exit). `gatehouse node run --pair` is the node host's way (commands/node.ts).
 */
import { Option, type Command } from "commander";
import { GatewayClient } from "../../client/index.js";
import {
  bindHosts,
  holdsGatewayStore,
  readRememberedGateway,
  resolveStateDir,
  writeRememberedGateway,
  type ClientTarget,
} from "../../config/index.js";
import { isLoopbackIp } from "../../policy/ip.js";
import { configForRunArgs, inspectGateway } from "../lifecycle/state.js";
import { mintRequirement } from "../../policy/setup-codes.js";
import { mintAsk, redeemAsk } from "../../policy/client-asks.js";
import { isLoopbackUrl } from "../../client/url-safety.js";
import {
  formatFingerprint,
  parseSetupInput,
  SETUP_CODE_PROFILES,
  type SetupCodeProfile,
  type SetupLink,
} from "../../protocol/setup-code.js";
import {
  cliClientOptions,
  connectCli,
  connectPinned,
  connectWaiting,
  loadCliDevice,
  parseTimeout,
  parseWait,
  resolveTarget,
  type CliDevice,
  type CommonOptions,
} from "../connect.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import { formatTime, withClientOptions, type RunCommand } from "./client-flags.js";
import { formatDuration } from "./health.js";

export interface PairCodeOptions extends CommonOptions {
  profile?: string;
  ttl?: string;
  advertiseUrl?: string;
  /** `--no-qr` sets this false. */
  qr?: boolean;
}

export interface ConnectOptions extends CommonOptions {
  pair?: string;
  profile?: string;
}

interface MintedCode {
  code: string;
  link: string;
  profile: SetupCodeProfile;
  roles: string[];
  scopes: string[];
  url: string;
  fingerprint: string | null;
  createdAtMs: number;
  expiresAtMs: number;
}

/** `10m`, `90s`, `1h`, `600000` (ms) → milliseconds; a usage error otherwise. */
export function parseTtl(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? "ms") as keyof typeof unit] : NaN;
  if (!Number.isSafeInteger(ms) || ms < 30_000 || ms > 86_400_000) {
    throw new CliError(
      "INVALID_FLAG",
      `--ttl: must be a duration between 30s and 24h, such as 10m, 90s or 1h (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return ms;
}

function parseProfile(value: string | undefined, flag = "--profile"): SetupCodeProfile | undefined {
  if (value === undefined) return undefined;
  if ((SETUP_CODE_PROFILES as readonly string[]).includes(value)) return value as SetupCodeProfile;
  throw new CliError(
    "INVALID_FLAG",
    `${flag}: must be one of ${SETUP_CODE_PROFILES.join(", ")} (got ${JSON.stringify(value)})`,
    EXIT.usage,
  );
}

/** Parses `--pair`: a setup code or a `gatehouse://pair?…` link (never echoed: it is a secret). */
export function parsePairFlag(value: string): SetupLink {
  const link = parseSetupInput(value);
  if (!link) {
    throw new CliError(
      "INVALID_FLAG",
      "--pair: not a setup code (10 characters such as ABCD-EFGH-JK) or a gatehouse://pair?… link",
      EXIT.usage,
    );
  }
  return link;
}

/** The target for a `--pair` run: `--url` wins, else the link's URL; `--tls-fingerprint` wins, else the link's. */
export function pairTarget(opts: CommonOptions, link: SetupLink): ClientTarget {
  return resolveTarget({
    ...opts,
    url: opts.url ?? link.url ?? undefined,
    tlsFingerprint: opts.tlsFingerprint ?? link.fingerprint ?? undefined,
  });
}

/**
 * A pin that came with the owner's setup link is as good as the user's own `--trust-fingerprint`:
 * the owner read it off the gateway. Remembered (and said so) once the pairing worked.
 */
export function rememberLinkPin(
  device: CliDevice,
  url: string,
  link: SetupLink,
  opts: CommonOptions,
  say: (l: string) => void,
): void {
  const fp = link.fingerprint;
  if (!fp || opts.tlsFingerprint || !url.toLowerCase().startsWith("wss:")) return;
  if (device.knownGateways.get(url) === fp) return;
  device.knownGateways.set(url, fp);
  say(
    `pinned the certificate of ${url} (sha256 ${formatFingerprint(fp)}, from the setup link) in ${device.knownGateways.path}`,
  );
}

/** `gatehouse pair code`: mints a code on the gateway and shows it as text, link and QR code. */
export async function pairCode(opts: PairCodeOptions, out: Reporter): Promise<number> {
  const profile = parseProfile(opts.profile) ?? "operator-limited";
  const ttlMs = parseTtl(opts.ttl);
  if (opts.advertiseUrl !== undefined && !/^wss?:\/\/[^/]/i.test(opts.advertiseUrl)) {
    throw new CliError("INVALID_FLAG", "--advertise-url: must be a ws:// or wss:// URL", EXIT.usage);
  }
  if (opts.advertiseUrl === undefined) refuseUnreachable(opts);
  // operator.pairing for the method; the profile's scopes (admin for full and node) for the handler.
  const { client } = await connectCli(opts, mintAsk(mintRequirement(profile)).scopes);
  let minted: MintedCode;
  try {
    minted = await client.request<MintedCode>("device.pair.setupCode", {
      profile,
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(opts.advertiseUrl ? { url: opts.advertiseUrl } : {}),
    });
  } finally {
    await client.close();
  }
  const qr =
    opts.qr === false || out.json
      ? null
      : await (await import("qrcode")).default.toString(minted.link, { type: "utf8" });
  const command = otherMachineCommand(minted);
  const warnings = mintedWarnings(minted);
  out.result({ ...minted, command, warnings }, () => formatMinted(minted, qr, command));
  for (const w of warnings) out.info(w);
  return EXIT.ok;
}

/**
 * Refuses to mint a code that names a loopback URL "for the other machine": when this state dir's
 * gateway listens on loopback only, no other machine can dial it.
 */
function refuseUnreachable(opts: PairCodeOptions): void {
  const target = resolveTarget(opts);
  if (target.urlSource !== "config") return;
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const state = inspectGateway(stateDir);
  let hosts: string[];
  try {
    hosts = bindHosts(configForRunArgs(stateDir, state.running ? state.args : []).gateway);
  } catch {
    return; // the connect below reports a bad config in its own words
  }
  if (!hosts.every((h) => isLoopbackIp(h))) return;
  throw new CliError(
    "NO_REACHABLE_URL",
    `the gateway listens on loopback only (${hosts.join(", ")}), so a device on another machine cannot reach it: ` +
      "no code was made",
    EXIT.failed,
    "let it listen on the network, with TLS: gatehouse config set gateway.bind lan gateway.tls.enabled true, " +
      "then gatehouse gateway restart; or name the URL the device dials (a tunnel, a proxy): --advertise-url wss://…",
  );
}

/** Plain ws:// beyond loopback: the device must accept it explicitly, so the command says so. */
function isPlainRemote(url: string): boolean {
  return url.toLowerCase().startsWith("ws:") && !isLoopbackUrl(url);
}

/** The command to run on the other machine, exactly as it works there. */
function otherMachineCommand(m: MintedCode): string {
  const base = m.profile === "node" ? "gatehouse node run" : "gatehouse connect";
  return `${base} --pair '${m.link}'${isPlainRemote(m.url) ? " --allow-insecure" : ""}`;
}

/** What the owner must see about a code's URL (on stderr; in `warnings` with --json). */
function mintedWarnings(m: MintedCode): string[] {
  if (isLoopbackUrl(m.url)) {
    return [
      `WARNING: the link names ${m.url}, a loopback address: it works only on this machine, not on another one`,
    ];
  }
  if (isPlainRemote(m.url)) {
    return [
      `WARNING: the gateway serves plain ws:// at ${m.url}: the code and the tokens cross the network unencrypted ` +
        "(the command carries --allow-insecure for that). Turn TLS on: gatehouse config set gateway.tls.enabled true",
    ];
  }
  return [];
}

function formatMinted(m: MintedCode, qr: string | null, command: string): string {
  const who = m.roles.includes("node") ? "role node" : `role operator: ${listOrNone(m.scopes)}`;
  const lines = [
    `setup code for ${m.profile} (${who})`,
    `  code     ${m.code}   single use; expires ${formatTime(m.expiresAtMs)} (in ${formatDuration(m.expiresAtMs - m.createdAtMs)})`,
    `  gateway  ${m.url}`,
    ...(m.fingerprint ? [`  sha256   ${formatFingerprint(m.fingerprint)}`] : []),
    `  link     ${m.link}`,
    ...(qr ? ["", qr.trimEnd()] : []),
    "",
    "on the other machine:",
    `  ${command}`,
  ];
  return lines.join("\n");
}

interface ConnectReport {
  url: string;
  deviceId: string;
  paired: boolean;
  authMethod: string | null;
  role: string;
  scopes: string[];
  tlsFingerprint: string | null;
  tokenStore: string;
}

/**
 * `gatehouse connect [--pair <code|link>]`: connects this CLI's identity once and prints what it
 * holds. With `--pair` the setup code pairs it (exactly the code's profile), the certificate from
 * the link is pinned, and the device token is kept for every later command.
 */
export async function connectCommand(opts: ConnectOptions, out: Reporter): Promise<number> {
  const link = opts.pair !== undefined ? parsePairFlag(opts.pair) : null;
  const profile = link?.profile ?? parseProfile(opts.profile) ?? "operator-limited";
  if (link && profile === "node") {
    throw new CliError(
      "INVALID_FLAG",
      "this is a setup code for a node host; run it there: gatehouse node run --pair <code|link>",
      EXIT.usage,
    );
  }
  const target = link ? pairTarget(opts, link) : resolveTarget(opts);
  const device = loadCliDevice(opts.stateDir);
  const timeoutMs = parseTimeout(opts.timeout);
  const waitMs = parseWait(opts.wait);
  const scopes = link ? redeemAsk(profile).scopes : [];
  const { client, pin } = await connectPinned(
    target,
    device,
    opts,
    (p) =>
      new GatewayClient({
        ...cliClientOptions(target, device, opts, p, {
          token: target.token,
          password: target.password,
          ...(link ? { bootstrapToken: link.code } : {}),
        }),
        client: { id: "cli", mode: "cli" },
        scopes,
        connectTimeoutMs: timeoutMs,
        requestTimeoutMs: timeoutMs,
      }),
    (c) => (waitMs === undefined ? c.connect() : connectWaiting(c, waitMs)),
  );
  try {
    const auth = client.hello!.auth;
    if (link) rememberLinkPin(device, target.url, link, opts, (l) => out.info(l));
    const remembered = rememberGateway(device, target, opts, (l) => out.info(l));
    const stored = device.tokenStore.get(device.identity.deviceId, auth.role);
    const report: ConnectReport = {
      url: target.url,
      deviceId: device.identity.deviceId,
      paired: auth.method === "setup-code",
      authMethod: auth.method ?? null,
      role: auth.role,
      scopes: auth.deviceTokens?.find((t) => t.role === auth.role)?.scopes ?? stored?.scopes ?? auth.scopes,
      tlsFingerprint: pin ?? null,
      tokenStore: device.tokenStore.path,
    };
    out.result(report, () => formatConnect(report, link !== null, remembered));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/**
 * On a machine without a gateway of its own, remembers the gateway this CLI just connected to
 * (and whether plain ws:// was accepted for it), so later commands need no --url or
 * --allow-insecure. True when later commands will dial it by themselves.
 */
function rememberGateway(
  device: CliDevice,
  target: ClientTarget,
  opts: CommonOptions,
  say: (l: string) => void,
): boolean {
  if (target.urlSource === "remembered") return true;
  if (target.urlSource === "config" || holdsGatewayStore(device.stateDir)) return false;
  const previous = readRememberedGateway(device.stateDir);
  const allowInsecure = opts.allowInsecure === true && isPlainRemote(target.url);
  if (previous?.url !== target.url || previous.allowInsecure !== allowInsecure) {
    writeRememberedGateway(device.stateDir, { url: target.url, allowInsecure, rememberedAtMs: Date.now() });
    say(`later commands dial ${target.url} by themselves (remembered for state dir ${device.stateDir})`);
  }
  return true;
}

function formatConnect(r: ConnectReport, withCode: boolean, remembered: boolean): string {
  const how =
    r.authMethod === "setup-code"
      ? "paired with the setup code"
      : withCode
        ? `already paired (the code was not needed; signed in with ${r.authMethod ?? "?"})`
        : `connected (auth: ${r.authMethod ?? "?"})`;
  return [
    `${how}: ${r.url}`,
    `  device   ${r.deviceId}`,
    `  role     ${r.role}`,
    `  scopes   ${listOrNone(r.scopes)}`,
    ...(r.tlsFingerprint ? [`  sha256   ${formatFingerprint(r.tlsFingerprint)} (pinned)`] : []),
    `  token    kept in ${r.tokenStore}`,
    remembered ? "next: gatehouse status" : `next: gatehouse health --url ${r.url}`,
  ].join("\n");
}

/** Adds `gatehouse pair code` and `gatehouse connect`. */
export function registerPairCommands(program: Command, run: RunCommand): void {
  const pair = program
    .command("pair")
    .description("let a device on another machine pair with a one-time setup code");
  withClientOptions(
    pair
      .command("code")
      .description(
        "mint a single-use setup code (text, link and QR code) that pre-approves one device with a profile",
      )
      .addOption(
        new Option(
          "--profile <profile>",
          "what the device gets: operator-limited (read, write, approvals), operator-full, or node",
        )
          .choices([...SETUP_CODE_PROFILES])
          .default("operator-limited"),
      )
      .option("--ttl <duration>", "how long the code stays valid, e.g. 10m, 90s, 1h (30s to 24h)", "10m")
      .option(
        "--advertise-url <url>",
        "the gateway URL the device should dial (default: the gateway's own non-loopback address)",
      )
      .option("--no-qr", "do not print the QR code"),
  ).action((opts: PairCodeOptions) => run(() => pairCode(opts, createReporter(!!opts.json)), !!opts.json));

  withClientOptions(
    program
      .command("connect")
      .description(
        "connect this CLI's device to a gateway once and print what it holds; with --pair, pair it with a setup code",
      )
      .option(
        "--pair <code|link>",
        "a setup code (ABCD-EFGH-JK) or gatehouse://pair?… link from gatehouse pair code",
      )
      .addOption(
        new Option("--profile <profile>", "the profile of a bare code (a link says it itself)").choices([
          "operator-limited",
          "operator-full",
        ]),
      ),
  ).action((opts: ConnectOptions) =>
    run(() => connectCommand(opts, createReporter(!!opts.json)), !!opts.json),
  );
}
