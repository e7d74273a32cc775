/**
 * A node's command surface: the commands it may expose, approved and pinned apart from its device
 * pairing (OpenClaw's second approval layer, reference §6.1 and C19). Device pairing admits a node's
 * socket; only an approved surface lets an operator invoke its commands. A node that reconnects
 * declaring more than was approved pends for the wider surface and meanwhile exposes only the
 * approved commands it still declares. Approving a surface with exec-capable commands needs
 * `operator.admin`; other commands `operator.pairing` + `operator.write`; none, `operator.pairing`.
 * Pure: the caller gathers the facts, this decides, with the trace of rules that decided.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import type { CallerProof } from "./device-management.js";
import type { RuleId } from "./rules.js";
import { missingScopes } from "./scopes.js";

/** The surface part of the rule vocabulary (sentences in src/policy/rules.ts). */
export type SurfaceRuleId = Extract<RuleId, `surface-${string}`>;

const { pairing: PAIRING, write: WRITE, admin: ADMIN } = OPERATOR_SCOPES;

const EXEC_COMMANDS: ReadonlySet<string> = new Set(["system.which"]);
const EXEC_PREFIXES = ["system.run", "browser.proxy", "fs.", "system.execApprovals."];

/**
 * True when exposing `command` is exec on the node: running or preparing processes
 * (`system.run*`), probing its executables (`system.which`), proxying its browser
 * (`browser.proxy*`), touching its files (`fs.*`) or changing its exec approvals.
 */
export function isExecCapableCommand(command: string): boolean {
  return EXEC_COMMANDS.has(command) || EXEC_PREFIXES.some((p) => command.startsWith(p));
}

/** A command list as a set: trimmed, no blanks, no repeats, sorted. */
export function normalizeCommands(commands: Iterable<string>): string[] {
  return [...new Set([...commands].map((c) => c.trim()).filter((c) => c !== ""))].sort();
}

/** The operator scopes approving a surface of `commands` needs (OpenClaw's `requiredApproveScopes`). */
export function surfaceApproveScopes(commands: readonly string[]): string[] {
  if (commands.some(isExecCapableCommand)) return [PAIRING, ADMIN];
  if (commands.length > 0) return [PAIRING, WRITE];
  return [PAIRING];
}

/**
 * What approving a device request for the node role needs: the node role takes operator.admin
 * (device-management.ts), which also covers the surface it declared; plus any operator scopes asked.
 */
export function nodeRequestApproveScopes(scopes: readonly string[]): string[] {
  return [...new Set([PAIRING, ADMIN, ...scopes.filter((s) => s.startsWith("operator."))])];
}

/** What a node's connect brings to the surface decision. */
export interface SurfaceConnectFacts {
  /** The commands the node declares on this connect. */
  declared: readonly string[];
  /** Its pinned surface; null when none was ever approved. */
  approved: readonly string[] | null;
  /**
   * How this session was admitted, as far as the surface cares: the owner key (which holds
   * operator.admin), a node setup code redeemed on this very connect (minted by an admin), or
   * anything else (a device token, the shared secret, a silent local approval).
   */
  admittedBy: "owner-key" | "setup-code" | "other";
}

export type SurfaceConnectDecision =
  /** Pin `commands` as the approved surface now, without a request. */
  | { kind: "pin"; commands: string[]; effective: string[]; trace: SurfaceRuleId[] }
  /** Declared within the approved surface: expose it; any pending surface request is moot. */
  | { kind: "covered"; effective: string[]; trace: SurfaceRuleId[] }
  /** Pend the declared surface for approval; meanwhile expose `effective` only. */
  | {
      kind: "pend";
      requested: string[];
      effective: string[];
      requiredScopes: string[];
      trace: SurfaceRuleId[];
    };

/**
 * How an admitted node's connect counts for its surface: proven by the owner key, paired on this
 * very connect by a node setup code, or anything else.
 */
export function surfaceAdmission(admitted: {
  kind: "admit" | "approve-then-admit";
  credential: string;
}): SurfaceConnectFacts["admittedBy"] {
  if (admitted.credential === "owner-key") return "owner-key";
  if (admitted.kind === "approve-then-admit" && admitted.credential === "setup-code") return "setup-code";
  return "other";
}

/** Decides what an admitted node's connect does to its surface. */
export function decideSurfaceAtConnect(facts: SurfaceConnectFacts): SurfaceConnectDecision {
  const declared = normalizeCommands(facts.declared);
  if (facts.admittedBy === "owner-key") {
    return { kind: "pin", commands: declared, effective: declared, trace: ["surface-owner-key"] };
  }
  if (facts.admittedBy === "setup-code" && facts.approved === null) {
    return { kind: "pin", commands: declared, effective: declared, trace: ["surface-setup-code-first"] };
  }
  if (facts.approved === null) {
    return {
      kind: "pend",
      requested: declared,
      effective: [],
      requiredScopes: surfaceApproveScopes(declared),
      trace: ["surface-not-approved"],
    };
  }
  const approved = new Set(facts.approved);
  const effective = declared.filter((c) => approved.has(c));
  if (effective.length === declared.length) {
    return { kind: "covered", effective, trace: ["surface-covered"] };
  }
  return {
    kind: "pend",
    requested: declared,
    effective,
    requiredScopes: surfaceApproveScopes(declared),
    trace: ["surface-widened"],
  };
}

/** Who approves a surface, as the policy needs to know them. */
export interface SurfaceApprover {
  scopes: readonly string[];
  deviceId: string | null;
  proof: CallerProof;
}

export type SurfaceApprovalDecision =
  | { allow: true; requiredScopes: string[]; trace: SurfaceRuleId[] }
  | {
      allow: false;
      code: "MISSING_SCOPE" | "FORBIDDEN_ACTION";
      rule: SurfaceRuleId;
      requiredScopes: string[];
      missingScopes: string[];
      trace: SurfaceRuleId[];
    };

/**
 * Who may approve a surface of `commands`: the scopes the approver's session must hold and the
 * rule that says so (exec-capable commands: admin; other commands: write; none: pairing only).
 */
export function surfaceApprovalRequirement(commands: readonly string[]): {
  requiredScopes: string[];
  rule: SurfaceRuleId;
} {
  const requiredScopes = surfaceApproveScopes(commands);
  const rule: SurfaceRuleId = requiredScopes.includes(ADMIN)
    ? "surface-approve-exec-needs-admin"
    : requiredScopes.includes(WRITE)
      ? "surface-approve-needs-write"
      : "surface-approve-commandless";
  return { requiredScopes, rule };
}

/** May `approver` approve the surface `commands` for node `nodeId`? */
export function decideSurfaceApproval(
  approver: SurfaceApprover,
  nodeId: string,
  commands: readonly string[],
): SurfaceApprovalDecision {
  const { requiredScopes, rule: need } = surfaceApprovalRequirement(commands);
  const trace: SurfaceRuleId[] = [need];
  // The owner key holds every scope anyway; any other device widening its own surface is
  // self-approval, which device pairing refuses too.
  if (approver.deviceId === nodeId && approver.proof !== "owner-key" && approver.proof !== "state-dir") {
    const rule = "surface-self-approval-refused";
    return {
      allow: false,
      code: "FORBIDDEN_ACTION",
      rule,
      requiredScopes,
      missingScopes: [],
      trace: [...trace, rule],
    };
  }
  const missing = missingScopes(approver.scopes, requiredScopes);
  if (missing.length > 0) {
    return { allow: false, code: "MISSING_SCOPE", rule: need, requiredScopes, missingScopes: missing, trace };
  }
  return { allow: true, requiredScopes, trace: [...trace, "surface-approve-within-caller"] };
}

/** Why `node.invoke` may or may not reach a command on a connected node. */
export type SurfaceInvokeDecision =
  | { allow: true; rule: Extract<SurfaceRuleId, "surface-command-approved"> }
  | {
      allow: false;
      rule: Extract<SurfaceRuleId, "surface-command-not-declared" | "surface-command-not-approved">;
    };

/** May `command` be sent to a node that declared `declared` and whose pinned surface is `approved`? */
export function decideSurfaceInvoke(
  command: string,
  declared: readonly string[],
  approved: readonly string[] | null,
): SurfaceInvokeDecision {
  if (!declared.includes(command)) return { allow: false, rule: "surface-command-not-declared" };
  if (!approved?.includes(command)) return { allow: false, rule: "surface-command-not-approved" };
  return { allow: true, rule: "surface-command-approved" };
}

/** The commands a node exposes: declared and approved. */
export function effectiveCommands(declared: readonly string[], approved: readonly string[] | null): string[] {
  if (approved === null) return [];
  const pinned = new Set(approved);
  return normalizeCommands(declared).filter((c) => pinned.has(c));
}
