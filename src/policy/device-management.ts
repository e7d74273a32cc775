/**
 * Who may approve, reject, remove, rename, rotate, revoke, see and mint setup codes for what
 * (reference §6.1, C09, C10, S46, issue "Authority is one lifecycle"): one pure function of the
 * caller's authority, the target record and the action, with the trace of rules that decided it.
 *
 * Two kinds of rights meet here. Granting (approve, the scopes of a rotated token, minting a setup
 * code) is bounded by what the caller's session holds: nobody grants a scope they did not ask for
 * and prove. Taking away (remove, revoke, and rotation, which kills the old token) needs covering
 * what the target holds — its whole baseline and the token's scopes — so that a narrow caller
 * cannot undo a wide device; the owner on the gateway host (owner key, or the shared secret without
 * a device, direct-local) covers every device for that purpose.
 * Only the owner key touches the owner device, and a revoked role comes back only through an
 * approval by someone who covers that role's baseline.
 */
import type { Credential } from "./admission-facts.js";
import { isBrowserUiClient, type GatewayRole } from "../protocol/client-info.js";
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import type { SetupCodeProfile } from "../protocol/setup-code.js";
import type { ManagementRuleId } from "./management-rules.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";
import { mintRequirement } from "./setup-codes.js";

/** How the caller proved itself, as management needs to know it. */
export type CallerProof =
  | "owner-key"
  | "device-token"
  | "shared-secret"
  | "runtime-token"
  | "none"
  /** The offline break-glass CLI: it opened the state dir, which is ownership. */
  | "state-dir";

/** The caller's authority: its session's scopes, its own device, its proof and where it is. */
export interface CallerAuthority {
  scopes: readonly string[];
  /** The caller's own device, when it connected with one. */
  deviceId: string | null;
  proof: CallerProof;
  /** Direct-local: loopback peer, loopback Host, no forwarding headers, no browser Origin. */
  onHost: boolean;
}

/** A paired device as management needs it. */
export interface TargetDevice {
  deviceId: string;
  /** It is the gateway host's owner identity. */
  owner: boolean;
  roles: readonly GatewayRole[];
  /** The approved scope baseline. */
  scopes: readonly string[];
  /** Token state per role (a role with no row has never had a token minted). */
  tokens: Readonly<Record<string, { revoked: boolean; scopes: readonly string[] }>>;
}

/** A pending request as management needs it. */
export interface RequestFacts {
  deviceId: string;
  roles: readonly GatewayRole[];
  scopes: readonly string[];
  /** The request's key is the one stored for its device: approving it unions into that record. */
  sameKeyAsRecord: boolean;
}

/** What the caller wants to do. Approve and reject carry the request; the target is its device's record. */
export type ManagementAction =
  | { kind: "see" }
  | { kind: "approve"; request: RequestFacts }
  | { kind: "reject"; request: RequestFacts }
  | { kind: "remove" }
  | { kind: "rename" }
  | { kind: "rotate"; role: GatewayRole; scopes?: readonly string[] }
  | { kind: "revoke"; role: GatewayRole }
  | { kind: "mint-setup-code"; profile: SetupCodeProfile }
  | { kind: "retire-stale-browser"; device: RetireFacts };

/**
 * What retiring a browser device needs to know about it: which client it is, whether a session
 * of it is open, when it was last active, and the idle limit the caller chose.
 */
export interface RetireFacts {
  clientId: string | null;
  clientMode: string | null;
  connected: boolean;
  /** Last seen, or the approval when it was never seen. */
  lastActiveAtMs: number;
  nowMs: number;
  idleLimitMs: number;
}

export type ManagementActionKind = ManagementAction["kind"];

export type ManagementDecision =
  | {
      allow: true;
      trace: ManagementRuleId[];
      /** `rotate`: the scopes the new token carries. */
      tokenScopes?: string[];
    }
  | {
      allow: false;
      code: "MISSING_SCOPE" | "FORBIDDEN_ACTION";
      /** The rule that refused (the last of the trace). */
      rule: ManagementRuleId;
      /** Scopes the caller would need, when that is the reason. */
      missingScopes: string[];
      trace: ManagementRuleId[];
    };

/** The proof a connection's `auth.method` stands for. */
export function proofOf(authMethod: Credential): CallerProof {
  switch (authMethod) {
    case "owner-key":
      return "owner-key";
    case "device-token":
    case "setup-code":
      // A setup-code session is a freshly paired device speaking with its new token's rights.
      return "device-token";
    case "token":
    case "password":
    case "trusted-proxy":
      // Behind a trusted proxy the verified identity is the connection's shared-secret proof.
      return "shared-secret";
    case "runtime-token":
      return "runtime-token";
    case "none":
      return "none";
  }
}

/**
 * The owner on the gateway host: the owner key or the device-less shared secret, direct-local, or
 * the state dir itself. A paired device that also presents the shared secret acts as that device:
 * its own record bounds it (C09), wherever it is.
 */
export function isOwnerOnHost(caller: CallerAuthority): boolean {
  if (caller.proof === "state-dir") return true;
  if (!caller.onHost) return false;
  return caller.proof === "owner-key" || (caller.proof === "shared-secret" && caller.deviceId === null);
}

const ADMIN = OPERATOR_SCOPES.admin;
const isAdmin = (scopes: readonly string[]) => scopeSatisfied(scopes, ADMIN);
/** node.* scopes are governed by the node-role rule (admin), not by the operator lattice. */
const operatorPart = (scopes: readonly string[]) => scopes.filter((s) => !s.startsWith("node."));
const roleBaseline = (device: TargetDevice, role: GatewayRole) =>
  device.scopes.filter((s) => s.startsWith(role === "operator" ? "operator." : `${role}.`));

/** Decides one management action. Pure: same facts, same decision. */
export function decideManagement(
  caller: CallerAuthority,
  target: TargetDevice | null,
  action: ManagementAction,
): ManagementDecision {
  const trace: ManagementRuleId[] = [];
  const deny = (
    rule: ManagementRuleId,
    missing: readonly string[] = [],
    code: "MISSING_SCOPE" | "FORBIDDEN_ACTION" = missing.length > 0 ? "MISSING_SCOPE" : "FORBIDDEN_ACTION",
  ): ManagementDecision => ({
    allow: false,
    code,
    rule,
    missingScopes: [...missing],
    trace: [...trace, rule],
  });
  const allow = (rule: ManagementRuleId, tokenScopes?: string[]): ManagementDecision => ({
    allow: true,
    trace: [...trace, rule],
    ...(tokenScopes ? { tokenScopes } : {}),
  });
  /** Grants are bounded by the session: node roles need admin, every other scope held. */
  const grant = (roles: readonly GatewayRole[], scopes: readonly string[]): ManagementDecision | null => {
    if (roles.some((r) => r !== "operator") && !isAdmin(caller.scopes))
      return deny("manage-node-role-needs-admin", [ADMIN]);
    const missing = missingScopes(caller.scopes, operatorPart(scopes));
    return missing.length > 0 ? deny("manage-grant-exceeds-caller", missing) : null;
  };
  /** Taking rights away needs covering the device's whole baseline (and the token's scopes). */
  const cover = (device: TargetDevice, tokenScopes: readonly string[]): ManagementDecision | null => {
    if (isOwnerOnHost(caller)) {
      trace.push("manage-caller-owner-on-host");
      return null;
    }
    if (device.roles.some((r) => r !== "operator") && !isAdmin(caller.scopes))
      return deny("manage-node-role-needs-admin", [ADMIN]);
    const missing = missingScopes(caller.scopes, operatorPart([...device.scopes, ...tokenScopes]));
    if (missing.length > 0) return deny("manage-target-wider-than-caller", missing);
    trace.push("manage-covers-target");
    return null;
  };

  if (action.kind === "mint-setup-code") {
    const missing = missingScopes(caller.scopes, mintRequirement(action.profile));
    return missing.length > 0
      ? deny("manage-mint-exceeds-caller", missing)
      : allow("manage-mint-within-caller");
  }

  const targetId =
    action.kind === "approve" || action.kind === "reject" ? action.request.deviceId : target?.deviceId;
  if (targetId === undefined) return deny("manage-target-unknown");
  const own = caller.deviceId !== null && caller.deviceId === targetId;
  if (caller.proof === "device-token" && !isAdmin(caller.scopes) && !own) {
    // Admin is what lifts it: the client's ask (client-asks.ts) reads that from here.
    return deny("manage-token-session-own-device-only", [ADMIN], "FORBIDDEN_ACTION");
  }

  switch (action.kind) {
    case "see":
      return allow("manage-see");

    case "approve": {
      const { request } = action;
      if (own) return deny("manage-self-approval-refused");
      const refused = grant(request.roles, request.scopes);
      if (refused) return refused;
      const revived =
        target && request.sameKeyAsRecord ? request.roles.filter((r) => target.tokens[r]?.revoked) : [];
      for (const role of revived) {
        const baseline = roleBaseline(target!, role);
        if (role !== "operator" && !isAdmin(caller.scopes))
          return deny("manage-revival-needs-baseline-cover", [ADMIN]);
        const missing = missingScopes(caller.scopes, operatorPart(baseline));
        if (missing.length > 0) return deny("manage-revival-needs-baseline-cover", missing);
      }
      if (revived.length > 0) trace.push("manage-revival-by-approval");
      return allow("manage-grant-within-caller");
    }

    case "reject": {
      if (action.request.roles.some((r) => r !== "operator") && !isAdmin(caller.scopes))
        return deny("manage-node-role-needs-admin", [ADMIN]);
      return allow("manage-reject-allowed");
    }

    case "remove": {
      if (!target) return deny("manage-target-unknown");
      if (target.owner) return deny("manage-owner-device-not-removable");
      if (own) return allow("manage-own-device");
      return cover(target, []) ?? allow("manage-covers-target");
    }

    case "retire-stale-browser": {
      if (!target) return deny("manage-target-unknown");
      if (target.owner) return deny("manage-owner-device-not-removable");
      const d = action.device;
      if (!isBrowserUiClient(d.clientId ?? "", d.clientMode ?? "")) return deny("manage-retire-not-browser");
      if (own) return deny("manage-retire-own-device");
      if (d.connected) return deny("manage-retire-connected");
      if (d.nowMs - d.lastActiveAtMs < d.idleLimitMs) return deny("manage-retire-recently-active");
      return cover(target, []) ?? allow("manage-retire-stale-browser");
    }

    case "rename": {
      if (!target) return deny("manage-target-unknown");
      if (target.owner && !ownerKey(caller)) return deny("manage-owner-device-owner-key-only");
      if (own) return allow("manage-own-device");
      if (!isOwnerOnHost(caller) && target.roles.some((r) => r !== "operator") && !isAdmin(caller.scopes))
        return deny("manage-node-role-needs-admin", [ADMIN]);
      return allow("manage-rename-allowed");
    }

    case "revoke": {
      if (!target) return deny("manage-target-unknown");
      if (target.owner) return deny("manage-owner-roles-not-revocable");
      if (own) return allow("manage-own-device");
      const refused = cover(target, target.tokens[action.role]?.scopes ?? []);
      if (refused) return refused;
      if (action.role !== "operator" && !isOwnerOnHost(caller) && !isAdmin(caller.scopes))
        return deny("manage-node-role-needs-admin", [ADMIN]);
      return allow("manage-covers-target");
    }

    case "rotate": {
      if (!target) return deny("manage-target-unknown");
      const { role } = action;
      if (target.owner && !ownerKey(caller)) return deny("manage-owner-device-owner-key-only");
      if (!target.roles.includes(role)) return deny("manage-role-not-approved");
      const slot = target.tokens[role];
      if (slot?.revoked) return deny("manage-revoked-slot-needs-approval");
      const newScopes = [...(action.scopes ?? slot?.scopes ?? roleBaseline(target, role))];
      if (missingScopes(target.scopes, newScopes).length > 0) return deny("manage-rotation-outside-baseline");
      if (own) trace.push("manage-own-device");
      else {
        // Rotating kills the old token: as much a taking-away as a revoke, whatever the new scopes.
        const refused = cover(target, slot?.scopes ?? []);
        if (refused) return refused;
      }
      const refused = grant([role], role === "operator" ? newScopes : []);
      return refused ?? allow("manage-grant-within-caller", newScopes);
    }
  }
}

/** The owner key itself (or the state dir it lives in). */
function ownerKey(caller: CallerAuthority): boolean {
  return caller.proof === "owner-key" || caller.proof === "state-dir";
}

/** A denial's reason as one line: the rule's sentence and what the caller lacks. */
export function denialReason(
  decision: Extract<ManagementDecision, { allow: false }>,
  sentence: (id: ManagementRuleId) => string,
): string {
  const lacks =
    decision.missingScopes.length > 0 ? ` (caller lacks ${decision.missingScopes.join(", ")})` : "";
  return `${sentence(decision.rule)}${lacks}`;
}
