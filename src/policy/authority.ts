/**
 * Authority is derived and dies with its source (design principle 7): work that rests on a device —
 * a cron job it created, sessions it or its sessions spawned — may act only while that device still
 * holds what the work does. Pure: the runtime gathers the creator's current record and asks here
 * before every cron run.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { CallerProof } from "./device-management.js";
import type { ManagementRuleId } from "./management-rules.js";
import { missingScopes } from "./scopes.js";

/** The device a piece of work rests on, as it stands now. */
export type CreatorFacts =
  /** No device: the shared secret or a record from before authority was tracked. */
  | { kind: "root" }
  | { kind: "removed"; deviceId: string }
  | {
      kind: "device";
      deviceId: string;
      /** Approved roles and whether the operator role's token slot is revoked. */
      roles: readonly GatewayRole[];
      operatorRevoked: boolean;
      /** The approved scope baseline. */
      scopes: readonly string[];
    };

export type AuthorityDecision =
  | { ok: true; trace: ManagementRuleId[] }
  | { ok: false; rule: ManagementRuleId; missingScopes: string[]; trace: ManagementRuleId[] };

/** May work carrying `scopes` still act on its creator's authority? */
export function decideCreatorAuthority(creator: CreatorFacts, scopes: readonly string[]): AuthorityDecision {
  const deny = (rule: ManagementRuleId, missing: string[] = []): AuthorityDecision => ({
    ok: false,
    rule,
    missingScopes: missing,
    trace: [rule],
  });
  switch (creator.kind) {
    case "root":
      return { ok: true, trace: ["authority-root"] };
    case "removed":
      return deny("authority-creator-removed");
    case "device": {
      if (!creator.roles.includes("operator") || creator.operatorRevoked) {
        return deny("authority-creator-role-revoked");
      }
      const missing = missingScopes(creator.scopes, scopes);
      if (missing.length > 0) return deny("authority-creator-narrowed", missing);
      return { ok: true, trace: ["authority-creator-covers"] };
    }
  }
}

/** The authority a grant (a setup code) rests on, and ends with. */
export type GrantSource =
  | { kind: "session"; sessionId: string }
  | { kind: "device"; deviceId: string }
  /** The shared secret without a device, the offline owner: nothing revocable. */
  | { kind: "root" };

/**
 * What a caller's grant rests on: a runtime-token caller acts as its session (what it mints ends
 * when the session ends, and with whatever the session rests on), a device as itself, anyone else
 * is a root.
 */
export function grantSource(caller: {
  proof: CallerProof;
  deviceId: string | null;
  runtimeJobId: string | null;
}): GrantSource {
  if (caller.proof === "runtime-token" && caller.runtimeJobId !== null) {
    return { kind: "session", sessionId: caller.runtimeJobId };
  }
  if (caller.deviceId !== null) return { kind: "device", deviceId: caller.deviceId };
  return { kind: "root" };
}

/** How the store records a revocable source, so that its end finds what rests on it. */
export function grantSourceKey(source: Exclude<GrantSource, { kind: "root" }>): string {
  return source.kind === "session" ? `session:${source.sessionId}` : `device:${source.deviceId}`;
}
