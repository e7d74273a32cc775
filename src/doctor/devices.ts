/**
 * What the store holds: devices with legacy shapes or scope sets (they still work, but are worth
 * knowing about) and pending requests left past their expiry.
 */
import { shownName } from "../devices/naming.js";
import { legacyAdminGaps } from "../policy/scope-findings.js";
import type { DeviceRecord, PendingRecord } from "../store/index.js";
import { integrityOk } from "./files.js";
import type { Check, Finding } from "./types.js";

const short = (id: string) => id.slice(0, 12);

function name(d: DeviceRecord): string {
  const shown = shownName(d.label, d.displayName) || d.clientId;
  return shown ? `${short(d.deviceId)} (${shown})` : short(d.deviceId);
}

/** Findings about paired devices' records (the owner's record is the gateway's own and skipped). */
export function checkDeviceRecords(
  devices: readonly DeviceRecord[],
  ownerDeviceId: string | null,
): Finding[] {
  const out: Finding[] = [];
  for (const d of devices) {
    if (d.deviceId === ownerDeviceId) continue;
    if (d.roles.length === 0) {
      out.push({
        id: "device-no-roles",
        severity: "warn",
        subject: d.deviceId,
        message: `device ${name(d)} is paired with no roles, so it can never be admitted (fails closed).`,
        fix: `remove it (gatehouse devices remove ${d.deviceId}); its next connect opens a pairing request to approve`,
      });
    }
    const lacking = legacyAdminGaps(d.scopes);
    // Only OpenClaw's old stores hold the pre-2026.2.19 set. A device Gatehouse paired holds what it
    // asked for — the Control UI asks for admin, pairing and read — and that is not legacy.
    if (lacking.length > 0 && d.approvedVia === "imported") {
      out.push({
        id: "device-legacy-scopes",
        severity: "info",
        subject: d.deviceId,
        message:
          `device ${name(d)} holds the pre-2026.2.19 scope set (${d.scopes.join(", ")}): no ${lacking.join(" or ")}. ` +
          "It still works: operator.admin covers every operator scope.",
        fix: "nothing to do",
      });
    }
    if (d.approvedVia === "imported") {
      out.push({
        id: "device-imported",
        severity: "info",
        subject: d.deviceId,
        message: `device ${name(d)} was imported from OpenClaw with roles ${d.roles.join(", ") || "(none)"} and scopes ${d.scopes.join(", ") || "(none)"}.`,
        fix: `if you do not recognize it: gatehouse devices remove ${d.deviceId}`,
      });
    }
  }
  return out;
}

export const devicesCheck: Check = {
  id: "devices",
  title: "paired devices have usable records (legacy shapes reported)",
  run(facts) {
    const s = facts.store;
    if (s.state !== "ok") return { skipped: "the store is missing or unusable" };
    return checkDeviceRecords(s.devices, s.ownerDeviceId);
  },
};

/** One finding for all expired pending requests still stored. */
export function checkExpiredPending(
  expired: readonly PendingRecord[],
  storePath: string,
  nowMs: number,
): Finding[] {
  if (expired.length === 0) return [];
  const oldest = Math.min(...expired.map((p) => p.expiresAtMs));
  const days = Math.floor((nowMs - oldest) / 86_400_000);
  return [
    {
      id: "pending-expired",
      severity: "warn",
      subject: storePath,
      message:
        `${expired.length} pending request${expired.length === 1 ? "" : "s"} expired but still stored ` +
        `(the oldest expired ${days > 0 ? `${days} day${days === 1 ? "" : "s"}` : "less than a day"} ago); ` +
        "they can no longer be approved and only take room.",
      fix: "gatehouse doctor --fix (deletes them; their devices ask again on their next connect)",
      repair: { kind: "prune-expired-pending", storePath },
    },
  ];
}

export const pendingCheck: Check = {
  id: "pending-expired",
  title: "no expired pending requests left in the store",
  run(facts) {
    const s = facts.store;
    if (s.state !== "ok") return { skipped: "the store is missing or unusable" };
    if (!integrityOk(s.integrity)) return { skipped: "the store failed its integrity check" };
    return checkExpiredPending(s.expiredPending, s.path, facts.nowMs);
  },
};
