/**
 * Who may call a method, invoke a node command, and start, change, run or re-enable work (sub-agent
 * sessions, cron jobs) with which scopes: pure decisions with the trace of rules that took them. The
 * gateway and the runtime gather the facts (the caller's session, the job's record, its creator's
 * record as it stands now) and carry out what is decided here; they compare no scopes themselves.
 *
 * One principle runs through all of them: work never carries more than whoever starts, changes or
 * runs it holds, and a cron job never more than its creator held when creating it (its ceiling).
 */
import { decideCreatorAuthority, type CreatorFacts } from "./authority.js";
import type { ManagementRuleId } from "./management-rules.js";
import type { MethodRequirement } from "./method-scopes.js";
import { nodeCommandScope } from "./node-commands.js";
import type { RuleId } from "./rules.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";
import { OPERATOR_SCOPES } from "../protocol/scopes.js";

/** A rule id of this module's decisions. */
export type WorkRuleId = Extract<RuleId, `call-${string}` | `invoke-${string}` | `work-${string}`>;

/** A call as dispatch sees it: the connection's role and scopes. */
export interface CallerSession {
  role: "operator" | "node";
  scopes: readonly string[];
}

/** May this connection call a method with this requirement? */
export type CallDecision =
  | { allow: true; trace: WorkRuleId[] }
  | { allow: false; refusal: "role"; requiredRole: "operator" | "node"; trace: WorkRuleId[] }
  | { allow: false; refusal: "scope"; missingScope: string; trace: WorkRuleId[] };

/** The method-level check every request passes before its handler runs. */
export function decideMethodCall(session: CallerSession, need: MethodRequirement): CallDecision {
  if (need.role !== session.role) {
    return { allow: false, refusal: "role", requiredRole: need.role, trace: ["call-role-not-allowed"] };
  }
  if (need.scope !== null && !scopeSatisfied(session.scopes, need.scope)) {
    return { allow: false, refusal: "scope", missingScope: need.scope, trace: ["call-missing-scope"] };
  }
  return { allow: true, trace: ["call-allowed"] };
}

/** May a caller holding `scopes` invoke `command` on a node? */
export type InvokeDecision =
  | { allow: true; requiredScope: string; trace: WorkRuleId[] }
  | { allow: false; requiredScope: string; trace: WorkRuleId[] };

/** `node.invoke`'s params-aware check: exec-capable commands need admin, the rest write. */
export function decideNodeInvoke(scopes: readonly string[], command: string): InvokeDecision {
  const requiredScope = nodeCommandScope(command);
  const need: WorkRuleId =
    requiredScope === OPERATOR_SCOPES.admin ? "invoke-exec-needs-admin" : "invoke-needs-write";
  if (!scopeSatisfied(scopes, requiredScope)) {
    return { allow: false, requiredScope, trace: [need, "invoke-not-covered"] };
  }
  return { allow: true, requiredScope, trace: [need, "invoke-covered"] };
}

/** Whether work may carry the scopes it would, and if not which scopes are beyond whom. */
export type WorkDecision =
  | { allow: true; scopes: string[]; trace: WorkRuleId[] }
  | {
      allow: false;
      rule: "work-exceeds-caller" | "work-exceeds-job-ceiling";
      missingScopes: string[];
      /** The set that does not cover them: the caller's scopes, or the job's ceiling. */
      ceiling: string[];
      trace: WorkRuleId[];
    };

function within(
  ceiling: readonly string[],
  scopes: readonly string[],
  rule: "work-exceeds-caller" | "work-exceeds-job-ceiling",
  trace: WorkRuleId[],
): WorkDecision | null {
  const missing = missingScopes(ceiling, scopes);
  if (missing.length === 0) return null;
  return { allow: false, rule, missingScopes: missing, ceiling: [...ceiling], trace: [...trace, rule] };
}

/**
 * A new session or cron job: the scopes asked for, or the caller's own when none were, and never a
 * scope the caller's session does not hold.
 */
export function decideNewWork(callerScopes: readonly string[], requested?: readonly string[]): WorkDecision {
  const trace: WorkRuleId[] = requested === undefined ? ["work-scopes-default-to-caller"] : [];
  const scopes = [...(requested ?? callerScopes)];
  return (
    within(callerScopes, scopes, "work-exceeds-caller", trace) ?? {
      allow: true,
      scopes,
      trace: [...trace, "work-within-caller"],
    }
  );
}

/**
 * A cron job as it would stand after a change (scopes, schedule, command, enabled or not): within
 * its ceiling, and within the caller, so nobody edits a job into work they could not have created.
 */
export function decideCronEdit(input: {
  ceiling: readonly string[];
  callerScopes: readonly string[];
  scopes: readonly string[];
}): WorkDecision {
  return (
    within(input.ceiling, input.scopes, "work-exceeds-job-ceiling", []) ??
    within(input.callerScopes, input.scopes, "work-exceeds-caller", ["work-within-job-ceiling"]) ?? {
      allow: true,
      scopes: [...input.scopes],
      trace: ["work-within-job-ceiling", "work-within-caller"],
    }
  );
}

/** `cron.run`: running a job now is starting its work, so the caller must hold the job's scopes. */
export function decideCronRun(callerScopes: readonly string[], jobScopes: readonly string[]): WorkDecision {
  return (
    within(callerScopes, jobScopes, "work-exceeds-caller", []) ?? {
      allow: true,
      scopes: [...jobScopes],
      trace: ["work-within-caller"],
    }
  );
}

/** What enabling a disabled cron job needs to know. */
export interface CronEnableFacts {
  /** The scopes each run carries. */
  jobScopes: readonly string[];
  /** The device the job rests on, as it stands now. */
  creator: CreatorFacts;
  /** The caller's session scopes. */
  callerScopes: readonly string[];
  /** The device the caller's own authority rests on (its device, or its session's), as it stands now. */
  callerAuthority: CreatorFacts;
}

export type CronEnableDecision =
  | {
      allow: true;
      /** `creator`: the job rests on its creator still; `caller`: it rests on the caller from now on. */
      restsOn: "creator" | "caller";
      trace: Array<WorkRuleId | ManagementRuleId>;
    }
  | {
      allow: false;
      rule: WorkRuleId | ManagementRuleId;
      missingScopes: string[];
      trace: Array<WorkRuleId | ManagementRuleId>;
    };

/**
 * Enabling a disabled job (whether by hand or because its creator's authority ended): the caller
 * must hold the job's scopes, and the job must rest on an authority that still holds them. While
 * its creator's does, it keeps resting there; when that ended (revoked, removed, narrowed) it comes
 * back only as the caller's own work, on the caller's authority — which must hold them too. Nothing
 * but a covering authority revives a job.
 */
export function decideCronEnable(facts: CronEnableFacts): CronEnableDecision {
  const missing = missingScopes(facts.callerScopes, facts.jobScopes);
  if (missing.length > 0) {
    return {
      allow: false,
      rule: "work-exceeds-caller",
      missingScopes: missing,
      trace: ["work-exceeds-caller"],
    };
  }
  const creator = decideCreatorAuthority(facts.creator, facts.jobScopes);
  if (creator.ok) {
    return { allow: true, restsOn: "creator", trace: [...creator.trace, "work-enable-creator-covers"] };
  }
  const caller = decideCreatorAuthority(facts.callerAuthority, facts.jobScopes);
  if (!caller.ok) {
    const trace = [...creator.trace, ...caller.trace, "work-enable-no-authority" as const];
    return { allow: false, rule: "work-enable-no-authority", missingScopes: caller.missingScopes, trace };
  }
  return {
    allow: true,
    restsOn: "caller",
    trace: [...creator.trace, ...caller.trace, "work-enable-rests-on-caller"],
  };
}
