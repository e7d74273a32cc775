/**
 * `gatehouse explain`: why a connection was (or would be) admitted, held for approval or refused —
 * each rule it passed through in plain English, and the one command that would let it in (or why
 * nothing should). For a requestId or a device's last attempt it replays the audit log; for a
 * connection described by flags it builds the facts and asks the policy's own `decide()`.
 */
import type { Command } from "commander";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { loadConfig, statePaths, type ResolvedConfig } from "../../config/index.js";
import { readDeviceState } from "../../gateway/connect-facts.js";
import { loadIdentity } from "../../identity/index.js";
import { encodeSet } from "../../store/codec.js";
import type { Store } from "../../store/index.js";
import { canonicalIp, isLoopbackIp } from "../../policy/ip.js";
import { shortId } from "../devices/format.js";
import {
  decideHypothetical,
  describeConnection,
  isHypothetical,
  type DescribedConnection,
  type DeviceChoice,
  type HypotheticalFlags,
} from "../explain/hypothetical.js";
import {
  explainDevice,
  explainRequest,
  resolveDeviceId,
  type RecordedDecision,
} from "../explain/recorded.js";
import { remedyFor, type ExplainedDecision, type Remedy, type RequestState } from "../explain/remedy.js";
import {
  explainSurfaceRequest,
  resolvedSurfaceRequest,
  type SurfaceExplanation,
} from "../explain/surface.js";
import { isExecCapableCommand } from "../../policy/node-surface.js";
import { explainTrace } from "../../policy/rules.js";
import { openLocalStore, ownerDeviceId } from "../lifecycle/local-store.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import { collect, type RunCommand } from "./client-flags.js";
import { nodesApproveCommand } from "./nodes-pairing.js";

export interface ExplainOptions extends HypotheticalFlags {
  stateDir?: string;
  json?: boolean;
}

/** What `explain` prints (`--json` prints exactly this). */
export interface ExplainReport {
  decision: ExplainedDecision;
  /** Pending reason, refusal code, or null for an admission. */
  reason: string | null;
  trace: Array<{ rule: string; explanation: string }>;
  remedy: Remedy;
  /** `surface-request`: a node's pending command-surface request (C19), explained in `surface`. */
  source: "request" | "device" | "hypothetical" | "surface-request";
  /** Scopes admitted with (admit) or asked for in total (pend); null for a refusal. */
  scopes: string[] | null;
  requestId: string | null;
  /** Null for a device-less connection; "new" for a device the store has never seen. */
  deviceId: string | null;
  connection: {
    peer: string | null;
    host?: string | null;
    origin?: string | null;
    forwarded?: boolean;
    client: string | null;
    role: string | null;
    scopes: string[] | null;
    /**
     * Trusted-proxy mode: the user the proxy vouched for (`verified`), or the one its refused
     * headers named (recorded decisions only).
     */
    proxyUser?: { user: string; verified: boolean };
    /** When the attempt was recorded (recorded decisions only). */
    at?: string;
    auditId?: number;
  };
  /** A node-surface request: what it adds, what is exec-capable, who may approve. */
  surface?: SurfaceExplanation;
}

/** How far back explain looks for what became of a node surface request (the audit log's bound). */
const SURFACE_AUDIT_SCAN = 10_000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Registers `gatehouse explain`. */
export function registerExplain(program: Command, run: RunCommand): void {
  program
    .command("explain")
    .description(
      "explain a connection decision: a requestId, a device's last attempt, or a connection described by flags",
    )
    .argument("[target]", "a requestId, or a device id (or a prefix of at least 8 characters)")
    .option(
      "--from <addr>",
      "describe a connection: the client's address as the gateway sees it (default 127.0.0.1)",
    )
    .option("--host <host>", "the Host header it sends (default: the --from address and the gateway port)")
    .option("--origin <origin>", "a browser Origin header")
    .option(
      "--forwarded [chain]",
      "proxy headers are present (X-Forwarded-For etc.); optionally the X-Forwarded-For value",
    )
    .option("--client <id>", "client id (default cli)")
    .option("--mode <mode>", "client mode (default: the usual mode of --client)")
    .option("--role <role>", "operator or node (default operator)")
    .option("--scope <scope>", "a scope it asks for (repeatable)", collect)
    .option("--token", "it presents the gateway's shared token")
    .option("--password", "it presents the gateway's shared password")
    .option("--device-token", "it presents the stored device token of --device for its role")
    .option("--no-auth", "it presents no credential (the default)")
    .option(
      "--device <id>",
      "it signs with this stored device's key (id, prefix, or owner); default: a new, never-paired device",
    )
    .option("--no-device", "it connects without a device identity")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--json", "print {decision, reason, trace:[{rule, explanation}], remedy, ...} as JSON")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  gatehouse explain 6f1c2a9e-…                         why request 6f1c2a9e-… is waiting",
        "                                                       (a node surface request: what it adds, who may approve)",
        "  gatehouse explain 3fa85f64a1b2                       the last connect attempt of a device",
        "  gatehouse explain --from 172.17.0.3 --token --scope operator.read",
        "                                                       a CLI in another container with the token",
        "  gatehouse explain --no-device --client gateway-client --token --scope operator.admin",
        "                                                       a local backend call without a device",
      ].join("\n"),
    )
    .action((target: string | undefined, opts: ExplainOptions) =>
      run(() => explain(target, opts, createReporter(!!opts.json)), !!opts.json),
    );
}

/** Runs `gatehouse explain`. */
export async function explain(
  target: string | undefined,
  opts: ExplainOptions,
  out: Reporter,
): Promise<number> {
  const hypothetical = isHypothetical(opts);
  if (target !== undefined && hypothetical) {
    throw new CliError(
      "INVALID_FLAG",
      "give either a requestId/deviceId or flags describing a connection, not both",
      EXIT.usage,
    );
  }
  if (target === undefined && !hypothetical) {
    throw new CliError(
      "INVALID_FLAG",
      "nothing to explain: give a requestId, a device id, or describe a connection (--from, --client, --scope, --token, …)",
      EXIT.usage,
      "see: gatehouse explain --help",
    );
  }
  const config = loadConfig({ stateDir: opts.stateDir });
  const report = hypothetical ? explainHypothetical(opts, config) : explainRecorded(target!, config);
  out.result(report, () => formatReport(report));
  return Promise.resolve(EXIT.ok);
}

function withStore<T>(config: ResolvedConfig, fn: (store: Store | null) => T): T {
  const store = openLocalStore(config.stateDir);
  try {
    return fn(store);
  } finally {
    store?.close();
  }
}

function explainRecorded(target: string, config: ResolvedConfig): ExplainReport {
  return withStore(config, (store) => {
    if (!store) {
      throw new CliError(
        "STORE_MISSING",
        `there is no pairing store in ${config.stateDir} yet, so nothing was recorded`,
        EXIT.failed,
        "describe a connection with flags instead: gatehouse explain --from <address> …",
      );
    }
    const now = Date.now();
    const isRequest = UUID_RE.test(target.trim());
    const surface = isRequest ? explainSurfaceRequest(store, target.trim()) : null;
    if (surface) return surfaceReport(surface);
    const resolved = isRequest ? resolvedSurfaceRequest(store, target.trim(), SURFACE_AUDIT_SCAN) : null;
    if (resolved) throw resolved;
    const rec = isRequest
      ? explainRequest(store, target.trim(), now)
      : explainDevice(store, resolveDeviceId(store, target, now), now);
    return recordedReport(rec, isRequest ? "request" : "device", config);
  });
}

function recordedReport(
  rec: RecordedDecision,
  source: "request" | "device",
  config: ResolvedConfig,
): ExplainReport {
  const { row } = rec;
  const trace = row.trace ?? [];
  const scopes = rec.decision === "reject" ? null : (row.scopes ?? null);
  const remedy = remedyFor({
    decision: rec.decision,
    reason: rec.reason,
    trace,
    scopes,
    request: rec.request,
    deviceId: row.deviceId,
    role: row.role,
    fromThisHost: row.peer !== null && isThisHostsAddress(row.peer),
    port: config.gateway.port,
    revoked: rec.revoked,
  });
  return {
    decision: rec.decision,
    reason: rec.decision === "admit" || rec.decision === "approve-then-admit" ? null : rec.reason,
    trace: explainTrace(trace),
    remedy,
    source,
    scopes,
    requestId: row.requestId,
    deviceId: row.deviceId,
    connection: {
      peer: row.peer,
      ...(rec.origin !== null ? { origin: rec.origin } : {}),
      client: row.client,
      role: row.role,
      scopes: row.scopes,
      ...proxyUserOf(row.actor),
      at: new Date(row.tsMs).toISOString(),
      ...(row.id > 0 ? { auditId: row.id } : {}),
    },
  };
}

/** A pending node-surface request as explain reports it: the policy's trace, and the approve command. */
function surfaceReport(s: SurfaceExplanation): ExplainReport {
  const keeps =
    s.approved === null ? "it then exposes no command" : `it keeps exposing only ${listOrNone(s.exposed)}`;
  return {
    decision: "pend",
    reason: s.reason,
    trace: explainTrace(s.trace),
    remedy: {
      command: nodesApproveCommand(s.requestId),
      explanation:
        `Approve it from ${s.approvers}. Approving pins exactly the commands it declares. ` +
        `Or reject it (gatehouse nodes reject ${s.requestId}): ${keeps}.`,
    },
    source: "surface-request",
    scopes: null,
    requestId: s.requestId,
    deviceId: s.nodeId,
    connection: {
      peer: s.peer,
      client: s.client,
      role: "node",
      scopes: null,
      at: new Date(s.refreshedAtMs).toISOString(),
    },
    surface: s,
  };
}

/** `system.run [exec], camera.snap`: exec-capable commands marked. */
function marked(commands: readonly string[], exec: (c: string) => boolean): string {
  return listOrNone(commands.map((c) => (exec(c) ? `${c} [exec]` : c)));
}

/** The text view of a node-surface request. */
function formatSurface(r: ExplainReport, s: SurfaceExplanation): string {
  const exec = (c: string) => s.execCommands.includes(c);
  const rows: Array<[string, string]> = [
    ["decision", `${r.decision} — ${r.reason ?? ""}`],
    [
      "source",
      `node command surface request, asked ${new Date(s.askedAtMs).toISOString()}, last asked again ${new Date(s.refreshedAtMs).toISOString()}`,
    ],
    [
      "node",
      `${s.displayName ? `${JSON.stringify(s.displayName)} ` : ""}${s.nodeId}${s.client ? `, ${s.client}` : ""}${s.peer ? ` from ${s.peer}` : ""}`,
    ],
    ["request", s.requestId],
    ["approved", s.approved === null ? "nothing yet" : listOrNone(s.approved)],
    ["declares", marked(s.commands, isExecCapableCommand)],
    ["new", marked(s.added, exec)],
    [
      "exec",
      s.execCommands.length > 0 ? `${listOrNone(s.execCommands)} (exec-capable)` : "none of the new commands",
    ],
    ["exposes", `${listOrNone(s.exposed)} until it is approved`],
    ["approvers", s.approvers],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push("", "rules:");
  r.trace.forEach((t, i) => lines.push(`  ${i + 1}. ${t.rule}: ${t.explanation}`));
  lines.push("", "what to do:", `  ${r.remedy.explanation}`);
  if (r.remedy.command) lines.push(`  $ ${r.remedy.command}`);
  return lines.join("\n");
}

/** The proxy user an audit row's actor names (`proxy-user:…` verified, `proxy-claimed:…` refused). */
function proxyUserOf(actor: string | null): { proxyUser?: { user: string; verified: boolean } } {
  const m = actor === null ? null : /^proxy-(user|claimed):(.*)$/s.exec(actor);
  return m ? { proxyUser: { user: m[2]!, verified: m[1] === "user" } } : {};
}

/** The device the flags name, with its stored record, token states and pending request. */
function chooseDevice(
  opts: ExplainOptions,
  config: ResolvedConfig,
  store: Store | null,
  now: number,
): DeviceChoice {
  if (opts.device === false) return { kind: "none" };
  if (opts.device === undefined || opts.device === true) return { kind: "new" };
  const given = opts.device.trim();
  const owner = ownerDeviceId(config.stateDir);
  let deviceId: string;
  let publicKey: string | null = null;
  if (given.toLowerCase() === "owner") {
    if (!owner) {
      throw new CliError(
        "NO_OWNER_IDENTITY",
        `there is no owner identity in ${config.stateDir} yet`,
        EXIT.failed,
        "start the gateway once first: gatehouse gateway run",
      );
    }
    deviceId = owner;
    publicKey = loadIdentity(join(statePaths(config.stateDir).identityDir, "device.json")).publicKey;
  } else {
    if (!store) {
      throw new CliError(
        "STORE_MISSING",
        `there is no pairing store in ${config.stateDir} yet, so no device ${given} is known`,
        EXIT.failed,
        "leave out --device to explain a new device",
      );
    }
    deviceId = resolveDeviceId(store, given, now);
  }
  // The same reader the gateway gathers its facts with; the pending record adds the metadata a
  // device that was never approved claimed.
  const state = store ? readDeviceState(store, deviceId, now) : null;
  const record = state?.stored ?? null;
  const pending = store?.pending.getByDevice(deviceId, now) ?? null;
  publicKey = record?.publicKey ?? pending?.publicKey ?? publicKey;
  if (publicKey === null) {
    throw new CliError(
      "DEVICE_NOT_FOUND",
      `device ${shortId(deviceId)} is neither paired nor pending, so its key is unknown`,
      EXIT.failed,
      "leave out --device to explain a new device, or see the devices with: gatehouse devices list",
    );
  }
  return {
    kind: "known",
    deviceId,
    publicKey,
    platform: record?.platform ?? pending?.platform ?? null,
    deviceFamily: record?.deviceFamily ?? pending?.deviceFamily ?? null,
    ownerKey: deviceId === owner,
    stored: record,
    pending: state?.pending ?? null,
  };
}

function explainHypothetical(opts: ExplainOptions, config: ResolvedConfig): ExplainReport {
  const conn = describeConnection(opts, config.gateway.port);
  const now = Date.now();
  const needsStore = typeof opts.device === "string";
  const device = needsStore
    ? withStore(config, (store) => chooseDevice(opts, config, store, now))
    : chooseDevice(opts, config, null, now);
  const { decision } = decideHypothetical(conn, config.gateway, device);
  let request: RequestState | null = null;
  let scopes: string[] | null = null;
  if (decision.kind === "pend") {
    scopes = decision.ask.scopes;
    const pending = device.kind === "known" ? device.pending : null;
    // The store refreshes a live request with the same ask and supersedes one with a different ask.
    const same =
      pending !== null &&
      pending.publicKey === (device.kind === "known" ? device.publicKey : "") &&
      encodeSet(pending.roles) === encodeSet(decision.ask.roles) &&
      encodeSet(pending.scopes) === encodeSet(decision.ask.scopes);
    request = {
      kind: "would-wait",
      refreshes: same ? pending.requestId : null,
      supersedes: !same && pending ? pending.requestId : null,
    };
  } else if (decision.kind !== "reject") {
    scopes = decision.scopes;
  }
  const reason =
    decision.kind === "pend" ? decision.reason : decision.kind === "reject" ? decision.code : null;
  const deviceId = device.kind === "none" ? null : device.kind === "new" ? "new" : device.deviceId;
  return {
    decision: decision.kind,
    reason,
    trace: explainTrace(decision.trace),
    remedy: remedyFor({
      decision: decision.kind,
      reason,
      trace: decision.trace,
      scopes,
      request,
      deviceId: device.kind === "known" ? device.deviceId : null,
      role: conn.role,
      fromThisHost: isThisHostsAddress(conn.transport.peerAddress),
      port: config.gateway.port,
    }),
    source: "hypothetical",
    scopes,
    requestId: null,
    deviceId,
    connection: connectionFields(conn),
  };
}

function connectionFields(conn: DescribedConnection): ExplainReport["connection"] {
  return {
    peer: conn.transport.peerAddress,
    host: conn.transport.host,
    origin: conn.transport.origin,
    forwarded: conn.transport.hasProxyHeaders,
    client: `${conn.client.id}/${conn.client.mode}`,
    role: conn.role,
    scopes: conn.scopes,
  };
}

/** True for a non-loopback address of one of this host's interfaces. */
export function isThisHostsAddress(address: string): boolean {
  const ip = canonicalIp(address);
  if (!ip || isLoopbackIp(ip)) return false;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (canonicalIp(a.address) === ip) return true;
    }
  }
  return false;
}

function describeDevice(report: ExplainReport): string {
  if (report.deviceId === null) return "no device identity";
  if (report.deviceId === "new") return "a new device (never paired)";
  const owner = report.trace.some((t) => t.rule === "credential-owner-key");
  return owner ? `${report.deviceId} (the gateway owner's key)` : report.deviceId;
}

/** The text view. */
export function formatReport(r: ExplainReport): string {
  if (r.surface) return formatSurface(r, r.surface);
  const head = r.reason ? `${r.decision} — ${r.reason}` : r.decision;
  const c = r.connection;
  const rows: Array<[string, string]> = [["decision", head]];
  rows.push([
    "source",
    r.source === "hypothetical"
      ? "hypothetical connection, decided by the gateway's policy"
      : `recorded connect at ${c.at}${c.auditId ? ` (audit #${c.auditId})` : ""}`,
  ]);
  const where = [
    c.peer ? `from ${c.peer}` : null,
    c.host ? `Host ${c.host}` : null,
    c.origin ? `Origin ${c.origin}` : null,
    c.forwarded ? "with proxy headers" : null,
  ]
    .filter((s) => s !== null)
    .join(", ");
  rows.push([
    "client",
    `${c.client ?? "?"}${where ? ` ${where}` : ""}; role ${c.role ?? "?"}; scopes ${listOrNone(c.scopes ?? [])}`,
  ]);
  if (c.proxyUser) {
    rows.push([
      "user",
      c.proxyUser.verified
        ? `${c.proxyUser.user} (verified by the trusted proxy)`
        : `${c.proxyUser.user} (named by the proxy's headers; not verified)`,
    ]);
  }
  rows.push(["device", describeDevice(r)]);
  if (r.requestId) rows.push(["request", r.requestId]);
  if (r.scopes && r.decision === "pend") rows.push(["asks for", listOrNone(r.scopes)]);
  if (r.scopes && r.decision !== "pend") rows.push(["granted", listOrNone(r.scopes)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push("", "rules:");
  if (r.trace.length === 0) lines.push("  (no rule trace was recorded for this decision)");
  r.trace.forEach((t, i) => lines.push(`  ${i + 1}. ${t.rule}: ${t.explanation}`));
  lines.push("", "what to do:", `  ${r.remedy.explanation}`);
  if (r.remedy.command) lines.push(`  $ ${r.remedy.command}`);
  return lines.join("\n");
}
