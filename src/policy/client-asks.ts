/**
 * Which scopes a client of the gateway (the CLI) asks for when it connects to act. The gateway
 * decides every grant; the client only chooses its request, and that choice is a who-may-do-what
 * decision too: asking beyond this device's approval opens an upgrade request for the very device
 * that wants to act, which it can never approve itself (S46), unless the gateway approves it
 * silently (direct-local with the shared secret, as it approved the device before).
 */
import { CLI_DEFAULT_OPERATOR_SCOPES, OPERATOR_SCOPES } from "../protocol/scopes.js";
import type { SetupCodeProfile } from "../protocol/setup-code.js";
import {
  decideManagement,
  type CallerAuthority,
  type ManagementAction,
  type TargetDevice,
} from "./device-management.js";
import type { ManagementRuleId } from "./management-rules.js";
import { methodRequirement } from "./method-scopes.js";
import type { RuleId } from "./rules.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";
import { nodeCommandScope } from "./node-commands.js";
import { profileGrant } from "./setup-codes.js";

/** The rules of a client's ask. */
export type AskRuleId = Extract<RuleId, `ask-${string}`>;

/** What the client knows when it chooses what to ask for. */
export interface AskFacts {
  /** The scopes the action needs (the gateway checks them again). */
  needed: readonly string[];
  /** What this device is approved for, as last seen; null when it holds no approval yet. */
  approved: readonly string[] | null;
  /** How its approval came about (`approvedVia` of its record: "silent", "approved", ...), if known. */
  approvedVia: string | null;
  /** The connection goes straight to a loopback address. */
  loopback: boolean;
  /** The connection carries the gateway's shared secret (token or password). */
  sharedSecret: boolean;
  /** The scopes the session already open holds, if one is. */
  held?: readonly string[];
}

/**
 * The scopes to ask for, those needed but not asked (the action would be refused), whether the
 * open session must be reopened to ask (it does not hold them all), and why.
 */
export interface AskDecision {
  scopes: string[];
  unasked: string[];
  reopen: boolean;
  trace: AskRuleId[];
}

const sorted = (scopes: Iterable<string>) => [...new Set(scopes)].sort();

/** Decides which of the needed scopes a device asks for. Pure: same facts, same decision. */
export function decideAsk(facts: AskFacts): AskDecision {
  const needed = sorted(facts.needed);
  const ask = (scopes: string[], unasked: string[], rule: AskRuleId): AskDecision => ({
    scopes,
    unasked,
    reopen: facts.held === undefined || missingScopes(facts.held, scopes).length > 0,
    trace: [rule],
  });
  if (facts.approved === null) return ask(needed, [], "ask-first-contact");
  const beyond = missingScopes(facts.approved, needed);
  if (beyond.length === 0) return ask(needed, [], "ask-within-approval");
  if (facts.approvedVia === "silent" && facts.loopback && facts.sharedSecret) {
    return ask(needed, [], "ask-silent-upgrade");
  }
  const approved = facts.approved;
  return ask(
    needed.filter((s) => scopeSatisfied(approved, s)),
    beyond,
    "ask-capped-at-approval",
  );
}

/**
 * Whether how this device's approval came about could change the ask: only a silent approval,
 * asked again direct-local with the shared secret, is widened silently. When it could and is not
 * known, the client learns it (the device's own record) before choosing; else it need not ask.
 */
export function approvalSourceMatters(facts: AskFacts): boolean {
  if (facts.approvedVia !== null) return false;
  return (
    decideAsk(facts).unasked.length > 0 && decideAsk({ ...facts, approvedVia: "silent" }).unasked.length === 0
  );
}

/** The scope invoking a node command asks for (exec-capable: operator.admin; else operator.write). */
export function invokeAsk(command: string): { scopes: string[]; trace: AskRuleId[] } {
  const scope = nodeCommandScope(command);
  return {
    scopes: [scope],
    trace: [scope === OPERATOR_SCOPES.admin ? "ask-invoke-exec-admin" : "ask-invoke-write"],
  };
}

/** The scopes minting a setup code asks for: pairing plus the profile's grant, admin alone when it is in it. */
export function mintAsk(required: readonly string[]): { scopes: string[]; trace: AskRuleId[] } {
  const all = sorted([OPERATOR_SCOPES.pairing, ...required]);
  return all.includes(OPERATOR_SCOPES.admin)
    ? { scopes: [OPERATOR_SCOPES.admin], trace: ["ask-admin-covers-all"] }
    : { scopes: all, trace: ["ask-within-approval"] };
}

/**
 * Whether a status read also asks for operator.pairing (to show the pairing list): the owner on
 * the gateway host may; another device only when its approval covers it.
 */
export function statusAsk(facts: {
  withPairing: boolean;
  ownerOnHost: boolean;
  approved: readonly string[] | null;
}): { scopes: string[]; withPairing: boolean; trace: AskRuleId[] } {
  const read = [OPERATOR_SCOPES.read];
  if (!facts.withPairing) return { scopes: read, withPairing: false, trace: ["ask-status-read-only"] };
  const covered =
    facts.ownerOnHost || (facts.approved !== null && scopeSatisfied(facts.approved, OPERATOR_SCOPES.pairing));
  return covered
    ? { scopes: [...read, OPERATOR_SCOPES.pairing], withPairing: true, trace: ["ask-status-pairing-list"] }
    : { scopes: read, withPairing: false, trace: ["ask-status-read-only"] };
}

/** The device-management actions a client performs over an RPC of its own, by that RPC. */
const MANAGEMENT_METHODS = {
  approve: "device.pair.approve",
  reject: "device.pair.reject",
  remove: "device.pair.remove",
  rename: "device.pair.rename",
  rotate: "device.token.rotate",
  revoke: "device.token.revoke",
} as const;

/** An action a client asks scopes for: one with an RPC of its own. */
export type AskedAction = Extract<ManagementAction, { kind: keyof typeof MANAGEMENT_METHODS }>;

/** The scopes a management action needs, and the rules they come from (management rules, then the ask's). */
export interface ManagementNeeds {
  scopes: string[];
  trace: Array<ManagementRuleId | AskRuleId>;
}

/**
 * The scopes a session must hold for the gateway to allow a management action: the RPC's scope,
 * plus every scope the gateway's own management decision finds missing, until it allows (or
 * refuses whatever the caller holds, which the gateway then says itself). Derived from
 * {@link decideManagement}, so the client asks for what the gateway checks and no second copy of
 * the rules exists.
 */
export function managementNeeds(
  caller: Omit<CallerAuthority, "scopes">,
  target: TargetDevice | null,
  action: AskedAction,
): ManagementNeeds {
  const method = methodRequirement(MANAGEMENT_METHODS[action.kind]).scope;
  const methodScopes = method === null ? [] : [method];
  let scopes = methodScopes;
  const trace: ManagementRuleId[] = [];
  // Each round adds at least one scope the decision named, so this ends within the lattice's size.
  for (;;) {
    const decision = decideManagement({ ...caller, scopes }, target, action);
    if (decision.allow) return { scopes: narrowest(scopes), trace: [...trace, "ask-management-needs"] };
    const missing = missingScopes(scopes, decision.missingScopes);
    if (missing.length === 0) {
      // Refused whatever is held: asking for more would only risk an upgrade request for nothing.
      return { scopes: methodScopes, trace: [...trace, decision.rule, "ask-management-refused-anyway"] };
    }
    trace.push(decision.rule);
    scopes = [...scopes, ...missing];
  }
}

/** The scopes not covered by the others (admin alone covers every operator scope; write covers read). */
function narrowest(scopes: readonly string[]): string[] {
  const all = sorted(scopes);
  return all.filter((s, i) => !scopeSatisfied([...all.slice(0, i), ...all.slice(i + 1)], s));
}

/** A device other than the caller's, for the `see` rule (which asks only whose it is). */
function anotherThan(caller: { deviceId: string | null }): TargetDevice {
  return {
    deviceId: `another than ${caller.deviceId ?? "none"}`,
    owner: false,
    roles: [],
    scopes: [],
    tokens: {},
  };
}

/** Whether a session sees devices other than its own in the lists (the gateway's `see` rule). */
export function seesOtherDevices(caller: CallerAuthority): boolean {
  return decideManagement(caller, anotherThan(caller), { kind: "see" }).allow;
}

/**
 * What listing devices would ask for to show every device: the method's scope, plus what the
 * gateway's `see` rule needs of this caller (operator.admin for a device-token session). The
 * client asks for the extra only within its approval: without it, it still lists its own device.
 */
export function listingNeeds(caller: Omit<CallerAuthority, "scopes">): ManagementNeeds {
  const method = methodsAsk(["device.pair.list"]);
  const seen = decideManagement({ ...caller, scopes: method.scopes }, anotherThan(caller), { kind: "see" });
  if (seen.allow) return method;
  return {
    scopes: narrowest([...method.scopes, ...seen.missingScopes]),
    trace: [...method.trace, seen.rule],
  };
}

/** The scopes a gateway's own answer says an action needs (a node surface request's requiredApproveScopes). */
export function statedAsk(stated: readonly string[]): ManagementNeeds {
  return { scopes: sorted(stated), trace: ["ask-stated-by-gateway"] };
}

/** What a command that only calls `methods` asks for: each one's scope in the method table. */
export function methodsAsk(methods: readonly string[]): { scopes: string[]; trace: AskRuleId[] } {
  const scopes = methods.flatMap((m) => methodRequirement(m).scope ?? []);
  return { scopes: sorted(scopes), trace: ["ask-method-scopes"] };
}

/**
 * What a CLI redeeming a setup code of `profile` asks for: the profile's grant (a code approves
 * exactly that, and asking beyond it is refused), within what a CLI ever asks for.
 */
export function redeemAsk(profile: SetupCodeProfile): { scopes: string[]; trace: AskRuleId[] } {
  const grant = profileGrant(profile).scopes;
  return {
    scopes: sorted(grant.filter((s) => CLI_DEFAULT_OPERATOR_SCOPES.includes(s))),
    trace: ["ask-redeem-profile"],
  };
}
