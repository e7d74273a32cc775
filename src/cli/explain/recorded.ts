/**
 * Decisions the gateway recorded: the audit row of a request (by requestId) or of a device's last
 * connect attempt, and where the request stands now (pending, approved, rejected, gone).
 */
import type { AuditRecord, Store } from "../../store/index.js";
import { CliError, EXIT } from "../output.js";
import type { ExplainedDecision, RequestState } from "./remedy.js";

/** The audit table's bound: a scan of this many rows sees all of it. */
const AUDIT_SCAN = 10_000;
const MIN_PREFIX = 8;

/** A recorded connect decision and the request's current state. */
export interface RecordedDecision {
  row: AuditRecord;
  decision: ExplainedDecision;
  reason: string | null;
  request: RequestState | null;
  /**
   * The browser page the recorded request was made from, while that request is pending (the
   * audit row does not keep it); null otherwise.
   */
  origin: string | null;
  /** The revoke behind a pending role upgrade: the role asked for is approved but its token was revoked. */
  revoked: RevokedRole | null;
}

/** A device's role whose token was revoked: when, and by whom (the audit's actor, when recorded). */
export interface RevokedRole {
  role: string;
  atMs: number;
  by: string | null;
}

/** The revoked role a pending `role-upgrade` asks back, if that is what it asks; null otherwise. */
export function revokedRoleOf(
  store: Store,
  row: Pick<AuditRecord, "deviceId" | "role">,
  reason: string | null,
  rows: AuditRecord[],
): RevokedRole | null {
  if (reason !== "role-upgrade" || !row.deviceId || !row.role) return null;
  const device = store.devices.get(row.deviceId);
  const asked = row.role.split(",");
  const token = store.tokens
    .list(row.deviceId)
    .find((t) => asked.includes(t.role) && t.revokedAtMs !== null && device?.roles.includes(t.role));
  if (!token || token.revokedAtMs === null) return null;
  const audit = rows.find((r) => r.kind === "revoke" && r.deviceId === row.deviceId && r.role === token.role);
  return { role: token.role, atMs: token.revokedAtMs, by: audit?.actor ?? null };
}

/** The policy's name for an audit decision. */
export function decisionOf(row: AuditRecord): ExplainedDecision {
  switch (row.decision) {
    case "admit":
      return "admit";
    case "approve-silently":
    case "approve-setup-code":
      return "approve-then-admit";
    case "pend":
    case "pend-refused":
      return "pend";
    default:
      return "reject";
  }
}

/** Where `requestId` stands now: still pending, resolved by someone, or gone. */
export function requestState(
  store: Store,
  requestId: string,
  nowMs: number,
  rows?: AuditRecord[],
): RequestState {
  if (store.pending.get(requestId, nowMs)) return { kind: "live", requestId };
  const all = rows ?? store.audit.list({ limit: AUDIT_SCAN });
  const resolution = all.find(
    (r) => r.requestId === requestId && (r.kind === "approve" || r.kind === "reject"),
  );
  if (resolution?.kind === "approve") {
    return { kind: "approved", requestId, by: resolution.actor, atMs: resolution.tsMs };
  }
  if (resolution?.kind === "reject") {
    return { kind: "rejected", requestId, by: resolution.actor, atMs: resolution.tsMs };
  }
  return { kind: "gone", requestId };
}

function recorded(store: Store, row: AuditRecord, nowMs: number, rows: AuditRecord[]): RecordedDecision {
  const decision = decisionOf(row);
  let request: RequestState | null = null;
  if (decision === "pend") {
    // The device may have a newer request than the one recorded (it asked for more since).
    const live = row.deviceId ? store.pending.getByDevice(row.deviceId, nowMs) : null;
    if (row.requestId) request = requestState(store, row.requestId, nowMs, rows);
    if (live && request?.kind !== "approved" && request?.kind !== "rejected") {
      request = { kind: "live", requestId: live.requestId };
    }
  }
  const origin = row.requestId ? (store.pending.get(row.requestId, nowMs)?.browserOrigin ?? null) : null;
  const revoked = decision === "pend" ? revokedRoleOf(store, row, row.reason, rows) : null;
  return { row, decision, reason: row.reason, request, origin, revoked };
}

/** The connect decision that opened (or last refreshed) `requestId`. */
export function explainRequest(store: Store, requestId: string, nowMs: number): RecordedDecision {
  const rows = store.audit.list({ limit: AUDIT_SCAN });
  const row = rows.find((r) => r.kind === "connect" && r.requestId === requestId);
  if (row) return recorded(store, row, nowMs, rows);
  const pending = store.pending.get(requestId, nowMs);
  if (pending) {
    // The audit row was pruned (the table is bounded); the request itself says what was asked.
    const synthetic: AuditRecord = {
      id: 0,
      tsMs: pending.refreshedAtMs,
      kind: "connect",
      decision: "pend",
      reason: pending.reason,
      deviceId: pending.deviceId,
      requestId,
      peer: pending.remoteIp,
      client: pending.clientId && pending.clientMode ? `${pending.clientId}/${pending.clientMode}` : null,
      role: pending.roles.join(","),
      scopes: pending.scopes,
      trace: null,
      actor: null,
    };
    return {
      row: synthetic,
      decision: "pend",
      reason: pending.reason,
      request: { kind: "live", requestId },
      origin: pending.browserOrigin,
      revoked: revokedRoleOf(store, synthetic, pending.reason, rows),
    };
  }
  throw new CliError(
    "UNKNOWN_REQUEST",
    `no connect attempt with requestId ${requestId} is recorded in the audit log, and no such request is pending`,
    EXIT.failed,
    "see the current requests with: gatehouse devices list (the audit log keeps the newest 10,000 rows)",
  );
}

/** Resolves a full device id or a unique prefix (≥ 8 hex characters) among known and audited devices. */
export function resolveDeviceId(store: Store, given: string, nowMs: number): string {
  const id = given.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(id)) return id;
  if (id.length < MIN_PREFIX || !/^[0-9a-f]+$/.test(id)) {
    throw new CliError(
      "INVALID_DEVICE_ID",
      `${JSON.stringify(given)}: give a requestId, a full device id, or a device id prefix of at least ${MIN_PREFIX} hex characters`,
      EXIT.usage,
      "see the ids with: gatehouse devices list",
    );
  }
  const known = new Set<string>([
    ...store.devices.list().map((d) => d.deviceId),
    ...store.pending.list(nowMs).map((p) => p.deviceId),
    ...store.audit
      .list({ limit: AUDIT_SCAN })
      .map((r) => r.deviceId)
      .filter((d): d is string => d !== null),
  ]);
  const matches = [...known].filter((d) => d.startsWith(id));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new CliError(
      "DEVICE_NOT_FOUND",
      `no device matching ${given} is paired, pending or in the audit log`,
      EXIT.failed,
      "see the devices with: gatehouse devices list",
    );
  }
  throw new CliError(
    "AMBIGUOUS_DEVICE_ID",
    `${given} matches ${matches.length} devices; give more characters`,
    EXIT.usage,
    undefined,
    {
      lines: matches.map((d) => `  ${d}`),
      fields: { matches },
    },
  );
}

/** The device's most recent connect attempt. */
export function explainDevice(store: Store, deviceId: string, nowMs: number): RecordedDecision {
  const rows = store.audit.list({ deviceId, limit: AUDIT_SCAN });
  const row = rows.find((r) => r.kind === "connect");
  if (!row) {
    throw new CliError(
      "NO_ATTEMPT_RECORDED",
      `no connect attempt of device ${deviceId} is recorded in the audit log`,
      EXIT.failed,
      "explain a connection it would make instead: gatehouse explain --device <id> --from <address> …",
    );
  }
  return recorded(store, row, nowMs, store.audit.list({ limit: AUDIT_SCAN }));
}
