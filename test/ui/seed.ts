/**
 * A store that looks lived-in: 50 paired devices of every kind (CLIs, browsers, phones, node
 * hosts, backends; some labelled, some revoked, some not seen for weeks) and 2,000 audit rows,
 * most of them the `admit` row every CLI command leaves. The Control UI's admin pages are judged
 * against it at real sizes.
 */
import { generateIdentity } from "../../src/identity/keys.js";
import type { GatewayRole } from "../../src/protocol/client-info.js";
import type { AuditEntry } from "../../src/store/audit.js";
import type { Store } from "../../src/store/db.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Kind {
  clientId: string;
  clientMode: string;
  platform: string;
  deviceFamily: string | null;
  roles: GatewayRole[];
  scopes: string[];
  name: (i: number) => string;
}

const KINDS: Kind[] = [
  {
    clientId: "cli",
    clientMode: "cli",
    platform: "linux",
    deviceFamily: null,
    roles: ["operator"],
    scopes: ["operator.read", "operator.write"],
    name: (i) => `ci-runner-${String(i).padStart(2, "0")}`,
  },
  {
    clientId: "openclaw-control-ui",
    clientMode: "webchat",
    platform: "web",
    deviceFamily: "browser",
    roles: ["operator"],
    scopes: ["operator.admin", "operator.pairing", "operator.read"],
    name: () => "Control UI · Chrome on Linux",
  },
  {
    clientId: "openclaw-ios",
    clientMode: "node",
    platform: "ios",
    deviceFamily: "iPhone",
    roles: ["node"],
    scopes: [],
    name: (i) => `iPhone ${i}`,
  },
  {
    clientId: "node-host",
    clientMode: "node",
    platform: "linux",
    deviceFamily: null,
    roles: ["node"],
    scopes: [],
    name: (i) => `build-box-${i}`,
  },
  {
    clientId: "cli",
    clientMode: "cli",
    platform: "darwin",
    deviceFamily: null,
    roles: ["operator"],
    scopes: ["operator.admin"],
    name: (i) => `laptop-${["ana", "bo", "chen", "dee", "eli", "fay", "gus"][i % 7]}`,
  },
  {
    clientId: "gateway-client",
    clientMode: "backend",
    platform: "linux",
    deviceFamily: null,
    roles: ["operator"],
    scopes: ["operator.read"],
    name: (i) => `metrics-exporter-${i}`,
  },
];

export interface SeededStore {
  deviceIds: string[];
  /** deviceIds whose operator token is revoked. */
  revoked: string[];
}

/** Adds `devices` paired devices and `auditRows` audit rows to `store`, deterministically. */
export function seedStore(
  store: Store,
  { devices = 50, auditRows = 2000, nowMs = Date.now() } = {},
): SeededStore {
  const deviceIds: string[] = [];
  const revoked: string[] = [];
  for (let i = 0; i < devices; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const identity = generateIdentity();
    const lastSeen = i % 9 === 8 ? null : nowMs - ((i * 7919 * 60_000) % (40 * DAY));
    store.devices.upsert({
      deviceId: identity.deviceId,
      publicKey: identity.publicKey,
      displayName: kind.name(i),
      label: i % 11 === 3 ? `Rack ${i} (${kind.platform})` : null,
      clientId: kind.clientId,
      clientMode: kind.clientMode,
      platform: kind.platform,
      deviceFamily: kind.deviceFamily,
      roles: kind.roles,
      scopes: kind.scopes,
      approvedVia: i % 5 === 0 ? "setup-code" : i % 3 === 0 ? "silent" : "approved",
      createdAtMs: nowMs - 60 * DAY + i * HOUR,
      approvedAtMs: nowMs - 60 * DAY + i * HOUR,
      lastSeenAtMs: lastSeen,
      lastSeenIp: lastSeen === null ? null : `192.168.1.${10 + i}`,
    });
    for (const role of kind.roles) store.tokens.issue(identity.deviceId, role, kind.scopes, nowMs - 30 * DAY);
    if (i % 13 === 12) {
      store.tokens.revoke(identity.deviceId, kind.roles[0]!, nowMs - 2 * DAY);
      revoked.push(identity.deviceId);
    }
    deviceIds.push(identity.deviceId);
  }
  // Mostly the admit row every CLI command leaves; now and then a pend, a refusal, an approval.
  for (let i = 0; i < auditRows; i++) {
    // Runs of a dozen commands from one device, as a person or a script at a CLI makes them.
    const d = (Math.floor(i / 12) * 7) % deviceIds.length;
    const deviceId = deviceIds[d]!;
    const base = {
      kind: "connect" as const,
      deviceId,
      peer: `192.168.1.${10 + d}`,
      client: "cli/cli",
      role: "operator" as const,
      scopes: ["operator.read"],
      trace: ["client-not-loopback", "credential-device-token", "covered-by-approval"],
    } satisfies Partial<AuditEntry>;
    const entry: AuditEntry =
      i % 97 === 0
        ? {
            ...base,
            decision: "reject",
            reason: "AUTH_DEVICE_TOKEN_MISMATCH",
            trace: ["client-not-loopback", "device-token-wrong", "device-token-rejected"],
          }
        : i % 89 === 0
          ? {
              ...base,
              decision: "pend",
              reason: "scope-upgrade",
              scopes: ["operator.admin"],
              trace: [
                "client-not-loopback",
                "credential-device-token",
                "uncovered-scope-upgrade",
                "remote-needs-approval",
              ],
            }
          : i % 83 === 0
            ? { kind: "approve", decision: "approved", deviceId, actor: `device:${deviceIds[0]}` }
            : { ...base, decision: "admit" };
    store.audit.append(entry, nowMs - (auditRows - i) * 20_000);
  }
  return { deviceIds, revoked };
}
