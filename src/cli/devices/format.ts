/** How `gatehouse devices` shows pending requests and paired devices as text. */
import { shownName } from "../../devices/naming.js";
import { approveCommand, listOrNone } from "../output.js";
import { formatDuration } from "../commands/health.js";
import type { PairedDevice, PairList, PendingRequest, TokenSummary } from "./types.js";

/** Characters of a device id shown in lists; any unique prefix of 8 or more is accepted back. */
export const SHORT_ID_LENGTH = 12;

export function shortId(deviceId: string): string {
  return deviceId.slice(0, SHORT_ID_LENGTH);
}

/** {@link shownName}, then clientId, then the short deviceId (OpenClaw's precedence). */
export function deviceName(d: {
  deviceId: string;
  label?: string | null;
  displayName?: string | null;
  clientId?: string | null;
}): string {
  return shownName(d.label, d.displayName) || d.clientId || shortId(d.deviceId);
}

/** `12s ago`, or `never`. */
export function ago(atMs: number | null | undefined, nowMs: number): string {
  if (atMs === null || atMs === undefined) return "never";
  return `${formatDuration(Math.max(0, nowMs - atMs))} ago`;
}

/** `operator: active, last used 3s ago` / `node: revoked 1m02s ago`. */
export function tokenSummary(t: TokenSummary, nowMs: number): string {
  const state = t.revokedAtMs ? `revoked ${ago(t.revokedAtMs, nowMs)}` : "active";
  const used = t.lastUsedAtMs ? `last used ${ago(t.lastUsedAtMs, nowMs)}` : "never used";
  return `${t.role}: ${state}, ${used}`;
}

/** Key/value lines with the keys padded to one width. */
function fields(rows: Array<[string, string]>, indent: string): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`);
}

function client(p: { clientId?: string | null; clientMode?: string | null }): string {
  if (!p.clientId && !p.clientMode) return "unknown client";
  return `${p.clientId ?? "?"}/${p.clientMode ?? "?"}`;
}

/**
 * One pending request: who asks (and from which browser page), what for, against what is approved,
 * and the exact command.
 */
export function formatPending(p: PendingRequest, paired: readonly PairedDevice[], nowMs: number): string[] {
  const current = paired.find((d) => d.deviceId === p.deviceId);
  const who = [
    shortId(p.deviceId),
    client(p),
    ...(p.displayName ? [JSON.stringify(p.displayName)] : []),
    `from ${p.remoteIp ?? "unknown address"}`,
    `asked ${ago(p.ts, nowMs)}`,
  ].join("  ");
  return [
    `  ${p.requestId}`,
    ...fields(
      [
        ["device", who],
        ...(p.browserOrigin ? [["origin", `${p.browserOrigin} (a browser page)`] as [string, string]] : []),
        ["reason", p.reason],
        ["requested", `roles ${listOrNone(p.roles)}; scopes ${listOrNone(p.scopes)}`],
        [
          "approved",
          current
            ? `roles ${listOrNone(current.roles)}; scopes ${listOrNone(current.scopes)}`
            : "nothing yet (not paired)",
        ],
        ...(p.commands
          ? [
              [
                "commands",
                `${listOrNone(p.commands.map((c) => (p.execCommands?.includes(c) ? `${c} [exec]` : c)))} (pinned as its command surface when approved)`,
              ] as [string, string],
            ]
          : []),
        ["approve", approveCommand(p.requestId)],
      ],
      "    ",
    ),
  ];
}

/** One paired device. */
export function formatPaired(d: PairedDevice, nowMs: number): string[] {
  const tokens = d.tokens.length > 0 ? d.tokens.map((t) => tokenSummary(t, nowMs)).join(" · ") : "(none)";
  const seen =
    d.lastSeenAtMs === null || d.lastSeenAtMs === undefined
      ? "never"
      : `${ago(d.lastSeenAtMs, nowMs)}${d.lastSeenIp ? ` from ${d.lastSeenIp}` : ""}`;
  return [
    `  ${deviceName(d)}${d.owner ? " [owner]" : ""}  ${shortId(d.deviceId)}`,
    ...fields(
      [
        ...(d.clientId || d.clientMode ? [["client", client(d)] as [string, string]] : []),
        ["roles", listOrNone(d.roles)],
        ["scopes", listOrNone(d.scopes)],
        ["tokens", tokens],
        ["last seen", seen],
        ["connected", d.connected ? "yes" : "no"],
        ["approved", `via ${d.approvedVia}, ${ago(d.approvedAtMs, nowMs)}`],
      ],
      "    ",
    ),
  ];
}

/** The pending half of `devices list` (all of `devices pending`). */
export function formatPendingList(list: PairList, nowMs: number): string[] {
  if (list.pending.length === 0) return ["Pending requests: none"];
  return [
    `Pending requests (${list.pending.length})`,
    ...list.pending.flatMap((p) => formatPending(p, list.paired, nowMs)),
  ];
}

/** The whole `devices list` text. */
export function formatList(list: PairList, nowMs: number): string {
  const out: string[] = formatPendingList(list, nowMs);
  out.push("");
  if (list.paired.length === 0) {
    out.push("Paired devices: none");
  } else {
    out.push(`Paired devices (${list.paired.length})`);
    for (const d of list.paired) out.push(...formatPaired(d, nowMs));
  }
  return out.join("\n");
}

/** One line per pending request (its page's Origin too) with its exact approve command (approve without an id). */
export function pendingChoices(list: PairList, nowMs: number): string[] {
  return list.pending.map(
    (p) =>
      `  ${p.requestId}  ${deviceName(p)} (${shortId(p.deviceId)}, ${client(p)}, from ${p.remoteIp ?? "?"}, ` +
      (p.browserOrigin ? `page ${p.browserOrigin}, ` : "") +
      `${ago(p.ts, nowMs)}) asks roles ${listOrNone(p.roles)}; scopes ${listOrNone(p.scopes)}\n` +
      `      ${approveCommand(p.requestId)}`,
  );
}
