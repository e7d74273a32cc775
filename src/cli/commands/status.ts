/**
 * `gatehouse status`: one screen with the gateway's state, connected clients by role, pending
 * requests (each with its exact approve command), devices and recent refusals from the audit log.
 * With the local gateway stopped it still works: devices, pending requests and refusals are read
 * from the store directly (read-only) and no client is connected.
 */
import type { Command } from "commander";
import { withClientOptions } from "./client-flags.js";
import { loadConfig, resolveStateDir } from "../../config/index.js";
import type { SandboxReport } from "../../methods/status.js";
import type { Store } from "../../store/index.js";
import { resolveTarget, type CommonOptions } from "../connect.js";
import { ago, deviceName, formatPending, shortId } from "../devices/format.js";
import type { PairedDevice, PairList, PendingRequest } from "../devices/types.js";
import { queryLive, type ClientsSummary } from "../lifecycle/live.js";
import { openLocalStore, pairListFromStore } from "../lifecycle/local-store.js";
import { inspectGateway } from "../lifecycle/state.js";
import { configuredAuth, dashboardLine } from "../lifecycle/dashboard.js";
import { plaintextExposureWarning } from "../lifecycle/exposure.js";
import { approveCommand, CliError, createReporter, EXIT, type Reporter } from "../output.js";
import { auditJson, formatAuditRow, isRefusal, type AuditJsonRow } from "./audit.js";
import {
  errorSummary,
  liveFields,
  probeGateway,
  roleCounts,
  type GatewayStatusReport,
  type RunCommand,
} from "./gateway-lifecycle.js";
import { formatDuration } from "./health.js";
import { formatFingerprint } from "../../protocol/setup-code.js";

export interface StatusOptions extends CommonOptions {
  refusals?: string;
}

export const DEFAULT_REFUSALS = 10;
/** Devices listed in the text view; `gatehouse devices list` shows all. */
const DEVICE_ROWS = 20;
/** The audit table's bound: refusals are looked for among all rows it keeps. */
const AUDIT_SCAN = 10_000;

/** A paired device in the short table. */
export interface DeviceRow {
  deviceId: string;
  name: string;
  owner: boolean;
  roles: string[];
  scopes: string[];
  connected: boolean;
  lastSeenAtMs: number | null;
  lastSeenIp: string | null;
}

export interface StatusReport {
  /** `local`: this state dir's gateway; `remote`: the one dialled (--url, or paired with); `none`: neither. */
  gateway: Omit<GatewayStatusReport, "clients"> & { source: "local" | "remote" | "none" };
  /** Null when the gateway does not list its connections (an OpenClaw gateway). */
  clients: ClientsSummary | null;
  /** Null when this CLI's device may not see pairing state (a device without operator.pairing). */
  pending: Array<PendingRequest & { approveCommand: string }> | null;
  devices: { count: number; list: DeviceRow[] } | null;
  /** The most recent refusals (reject, pend, pend-refused), newest first; null away from the gateway host. */
  refusals: AuditJsonRow[] | null;
  notes: string[];
}

const NO_CLIENTS: ClientsSummary = { total: 0, byRole: { operator: 0, node: 0 }, list: [] };

function deviceRow(d: PairedDevice): DeviceRow {
  return {
    deviceId: d.deviceId,
    name: deviceName(d),
    owner: d.owner,
    roles: d.roles,
    scopes: d.scopes,
    connected: d.connected,
    lastSeenAtMs: d.lastSeenAtMs ?? null,
    lastSeenIp: d.lastSeenIp ?? null,
  };
}

function pairingParts(list: PairList | null): Pick<StatusReport, "pending" | "devices"> {
  if (!list) return { pending: null, devices: null };
  return {
    pending: list.pending.map((p) => ({ ...p, approveCommand: approveCommand(p.requestId) })),
    devices: { count: list.paired.length, list: list.paired.map(deviceRow) },
  };
}

function parseRefusals(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REFUSALS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new CliError(
      "INVALID_FLAG",
      `--refusals: must be an integer of at least 0 (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return n;
}

/** The `n` most recent refusals, newest first. */
export function recentRefusals(store: Store, n: number): AuditJsonRow[] {
  if (n === 0) return [];
  return store.audit.list({ limit: AUDIT_SCAN }).filter(isRefusal).slice(0, n).map(auditJson);
}

/** Builds the report; `failed` when a running gateway did not answer. */
export async function statusReport(
  opts: StatusOptions,
): Promise<{ report: StatusReport; failed: boolean; paired: PairedDevice[] }> {
  const refusalCount = parseRefusals(opts.refusals);
  const target = resolveTarget(opts);
  const notes: string[] = [];
  if (target.urlSource !== "config") {
    // Another gateway than this state dir's: everything comes over the connection.
    const live = await queryLive(opts, target, true);
    const fields = liveFields(live);
    const gateway: StatusReport["gateway"] = {
      source: "remote",
      running: true,
      state: "running",
      stateDir: resolveStateDir({ flag: opts.stateDir }),
      pid: null,
      startedAtMs: fields.startedAtMs ?? null,
      uptimeMs: fields.uptimeMs ?? null,
      url: live.url,
      urls: fields.urls ?? [],
      bind: fields.bind ?? null,
      authMode: fields.authMode ?? null,
      tlsFingerprint: fields.tlsFingerprint ?? null,
      version: fields.version ?? null,
      launchedBy: null,
      pidFile: "",
      logFile: "",
    };
    if (!live.pairList)
      notes.push("pending requests and devices need operator.pairing, which this device lacks");
    notes.push(
      "refusals come from the audit log, which is read on the gateway host (gatehouse status there)",
    );
    return {
      report: { gateway, clients: live.clients, ...pairingParts(live.pairList), refusals: null, notes },
      failed: false,
      paired: live.pairList?.paired ?? [],
    };
  }

  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const state = inspectGateway(stateDir);
  const { report: probed, pairList: livePairs } = await probeGateway(stateDir, opts, state, true);
  const { clients, ...gw } = probed;
  let pairList = livePairs;
  let refusals: AuditJsonRow[] | null = null;
  let store: Store | null = null;
  let noGateway = false;
  try {
    store = openLocalStore(stateDir);
    if (store) {
      pairList ??= pairListFromStore(store, stateDir);
      refusals = recentRefusals(store, refusalCount);
    } else {
      pairList ??= { pending: [], paired: [] };
      refusals = [];
      // No store and nothing running: this machine has no gateway (a laptop), not a stopped one.
      noGateway = !probed.running;
      if (!noGateway)
        notes.push(`no pairing store yet (${stateDir}); start the gateway once: gatehouse gateway start`);
    }
  } catch (err) {
    const e = errorSummary(err);
    notes.push(`cannot read the store: ${e.code}: ${e.message}`);
  } finally {
    store?.close();
  }
  if (probed.running && probed.error) {
    notes.push("the gateway did not answer; devices and pending requests were read from the store");
  }
  const sandbox = gw.sandbox ?? configuredSandbox(stateDir);
  // A running gateway's block shows the line; a stopped one's config still deserves the warning.
  if (sandbox?.state === "off" && !(gw.running && gw.sandbox)) notes.push(sandboxLine(sandbox));
  return {
    report: {
      gateway: { ...gw, sandbox, source: noGateway ? "none" : "local" },
      clients: clients ?? NO_CLIENTS,
      ...pairingParts(pairList),
      refusals,
      notes,
    },
    failed: probed.running && probed.error !== undefined,
    paired: pairList?.paired ?? [],
  };
}

function gatewayLines(
  g: StatusReport["gateway"],
  clients: ClientsSummary | null,
  controlUi: string | undefined,
): string[] {
  if (!g.running && g.source === "none") {
    return [
      `Gateway: none on this machine (state dir ${g.stateDir} holds no gateway) and none paired with yet`,
      "  pair this CLI with a gateway once: gatehouse connect --pair '<link>' (run gatehouse pair code on the gateway host);",
      "  or run a gateway here: gatehouse gateway start",
    ];
  }
  if (!g.running) {
    return [`Gateway: stopped (state dir ${g.stateDir}) — start it with: gatehouse gateway start`];
  }
  const pid = g.pid !== null ? ` (pid ${g.pid})` : "";
  const up = g.uptimeMs !== null ? `, up ${formatDuration(g.uptimeMs)}` : "";
  const lines = [`Gateway: running${pid}${up} — ${g.url ?? "unknown URL"}`];
  const facts = [
    ...(g.bind ? [`bind ${g.bind.hosts.join(", ")} (port ${g.bind.port})`] : []),
    ...(g.authMode ? [`auth ${g.authMode}`] : []),
    ...(g.version ? [`version ${g.version}`] : []),
    ...(g.source === "local" ? [`state dir ${g.stateDir}`] : []),
  ];
  if (facts.length > 0) lines.push(`  ${facts.join(" · ")}`);
  if (controlUi) lines.push(`  ${controlUi}`);
  const exposure = g.bind ? plaintextExposureWarning(g.bind.hosts, (g.url ?? "").startsWith("wss:")) : null;
  if (exposure) lines.push(`  ${exposure}`);
  if (g.tlsFingerprint)
    lines.push(`  TLS certificate sha256 ${formatFingerprint(g.tlsFingerprint)} (clients pin this)`);
  if (g.sandbox) lines.push(`  ${sandboxLine(g.sandbox)}`);
  if (g.error) lines.push(`  NOT ANSWERING: error ${g.error.code}: ${g.error.message}`);
  lines.push("");
  if (!clients) {
    lines.push("Connected clients: not reported by this gateway");
    return lines;
  }
  lines.push(`Connected clients: ${clients.total} (${roleCounts(clients.byRole)}; not counting this query)`);
  for (const c of clients.list) {
    lines.push(
      `  ${c.role.padEnd(8)}  ${c.client}  ${c.deviceId ? shortId(c.deviceId) : "(no device)"}  ${c.clientIp ?? "?"}  for ${formatDuration(c.connectedForMs)}`,
    );
  }
  return lines;
}

/** Where children run: one line, a warning when they are not sandboxed or cannot start. */
export function sandboxLine(s: SandboxReport): string {
  switch (s.state) {
    case "off":
      return 'WARNING: children run unsandboxed (gateway.sandbox.mode "none"): sub-agents and cron runs can read the owner key and the shared secret';
    case "unavailable":
      return `SANDBOX UNAVAILABLE: sub-agents and cron runs are refused — ${s.problem ?? "unknown problem"}`;
    case "ready":
      return `sandbox: bubblewrap, children run as ${s.user ?? "the gateway's user"}`;
    case "unchecked":
      return "sandbox: bubblewrap (checked at the first spawn; gatehouse doctor checks it now)";
  }
}

/** The sandbox as the config sets it, for a gateway that is not answering (null: config invalid). */
function configuredSandbox(stateDir: string): SandboxReport | null {
  try {
    const { mode } = loadConfig({ stateDir }).gateway.sandbox;
    return { mode, state: mode === "none" ? "off" : "unchecked", user: null, problem: null };
  } catch {
    return null;
  }
}

function devicesTable(rows: readonly DeviceRow[], nowMs: number): string[] {
  const shown = rows.slice(0, DEVICE_ROWS);
  const table = [
    ["NAME", "DEVICE", "ROLES", "SCOPES", "CONNECTED", "LAST SEEN"],
    ...shown.map((d) => [
      `${d.name}${d.owner ? " [owner]" : ""}`,
      shortId(d.deviceId),
      d.roles.join(",") || "-",
      d.scopes.map((s) => s.replace(/^operator\./, "")).join(",") || "-",
      d.connected ? "yes" : "no",
      d.lastSeenAtMs === null
        ? "never"
        : `${ago(d.lastSeenAtMs, nowMs)}${d.lastSeenIp ? ` from ${d.lastSeenIp}` : ""}`,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map(
    (r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")}`,
  );
  if (rows.length > shown.length)
    lines.push(`  … and ${rows.length - shown.length} more: gatehouse devices list`);
  return lines;
}

/**
 * The one-screen text; `paired` (the full device records, when known) shows what each request
 * adds; `controlUi` is the line saying where the Control UI is (never part of the JSON report).
 */
export function formatStatus(
  r: StatusReport,
  nowMs: number,
  paired: readonly PairedDevice[] = [],
  controlUi?: string,
): string {
  const out = gatewayLines(r.gateway, r.clients, controlUi);
  out.push("");
  if (r.pending === null) {
    out.push("Pending requests: not visible to this device (needs operator.pairing)");
  } else if (r.pending.length === 0) {
    out.push("Pending requests: none");
  } else {
    out.push(`Pending requests (${r.pending.length})`);
    for (const p of r.pending) out.push(...formatPending(p, paired, nowMs));
  }
  out.push("");
  if (r.devices === null) {
    out.push("Devices: not visible to this device (needs operator.pairing)");
  } else {
    out.push(`Devices (${r.devices.count})`);
    if (r.devices.count > 0) out.push(...devicesTable(r.devices.list, nowMs));
  }
  if (r.refusals !== null) {
    out.push("");
    if (r.refusals.length === 0) {
      out.push("Recent refusals: none");
    } else {
      out.push(`Recent refusals (${r.refusals.length}, newest first; more with: gatehouse audit)`);
      for (const row of r.refusals) out.push(formatAuditRow(row, false, "  "));
    }
  }
  if (r.notes.length > 0) {
    out.push("");
    for (const n of r.notes) out.push(`note: ${n}`);
  }
  return out.join("\n");
}

/** Where this host's gateway's Control UI is; the token only for a person at a terminal. */
function controlUiLine(r: StatusReport): string | undefined {
  const g = r.gateway;
  if (!g.running || g.source !== "local" || !g.url) return undefined;
  const auth = configuredAuth(g.stateDir);
  return auth ? dashboardLine(g.url, auth, process.stdout.isTTY === true) : undefined;
}

/** `gatehouse status`: exit 0, or 1 when the local gateway runs but does not answer. */
export async function status(opts: StatusOptions, out: Reporter): Promise<number> {
  const { report, failed, paired } = await statusReport(opts);
  out.result(report, () => formatStatus(report, Date.now(), paired, controlUiLine(report)));
  return failed ? EXIT.failed : EXIT.ok;
}

/** Adds `gatehouse status`. */
export function registerStatus(program: Command, run: RunCommand): void {
  withClientOptions(
    program
      .command("status")
      .description(
        "one screen: gateway state, connected clients by role, pending requests with their approve commands, devices, recent refusals",
      )
      .option(
        "--refusals <n>",
        `how many recent refusals from the audit log to show (default ${DEFAULT_REFUSALS})`,
      ),
  )
    .addHelpText(
      "after",
      '\nWorks with the local gateway stopped: then gateway.state is "stopped", devices, pending requests and\n' +
        "refusals come from the store (read-only) and no client is connected. Refusals are the most recent\n" +
        "audit rows whose decision is reject, pend or pend-refused (gatehouse audit shows them all).\n" +
        "Exit status: 0, or 1 when the gateway runs but does not answer (the rest is still shown).\n" +
        "For scripts that only need to know whether the gateway runs: gatehouse gateway status (exit 3 when not).",
    )
    .action((opts: StatusOptions) => run(() => status(opts, createReporter(!!opts.json)), !!opts.json));
}
