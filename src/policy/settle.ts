/**
 * Settling a decision with what applying it found. Applying happens in one store transaction and
 * can meet facts the decision could not see: the setup code it rests on was redeemed by a racing
 * device a moment earlier, or the pending table is full. What that means for the connect is
 * decided here, purely, and traced like every other rule; the gateway only reports what it found.
 */
import type { Decision, DecisionCommon } from "./admission-facts.js";

/** What the gateway found while applying a decision. */
export type ApplyResult =
  /** Carried out as decided (or nothing to carry out). */
  | { kind: "done" }
  /** The pending request was opened or refreshed under this id. */
  | { kind: "pending"; requestId: string }
  /** No pending request could be opened: a cap was reached (C18). */
  | { kind: "pending-full"; limit: "total" | "per-ip" }
  /** The setup code the approval rests on could not be spent: another device redeemed it first. */
  | { kind: "setup-code-spent" };

/** A pend as applied: the request that waits, or the cap that kept it from opening. */
export type SettledPend = Extract<Decision, { kind: "pend" }> & {
  requestId: string | null;
  full: "total" | "per-ip" | null;
};

/** The final outcome of a connect: what the client is told and the audit log records. */
export type Settled = Exclude<Decision, { kind: "pend" }> | SettledPend;

/** The final outcome; pure and total over every (decision, result) pair. */
export function settle(decision: Decision, applied: ApplyResult): Settled {
  if (
    decision.kind === "approve-then-admit" &&
    decision.credential === "setup-code" &&
    applied.kind === "setup-code-spent"
  ) {
    const common: DecisionCommon = {
      trace: [...decision.trace, "setup-code-redeemed-concurrently"],
      // A code that was live a moment ago is no guess; the race is not charged, nor forgiven.
      charge: [...decision.charge],
      clear: decision.clear.filter((k) => k !== "setup-code"),
      ...(decision.proxyUser ? { proxyUser: decision.proxyUser } : {}),
    };
    return { kind: "reject", code: "AUTH_BOOTSTRAP_TOKEN_INVALID", ...common };
  }
  if (decision.kind !== "pend") return decision;
  if (applied.kind === "pending") return { ...decision, requestId: applied.requestId, full: null };
  if (applied.kind !== "pending-full") return { ...decision, requestId: null, full: null };
  return {
    ...decision,
    requestId: null,
    full: applied.limit,
    trace: [...decision.trace, "pending-limit-reached"],
  };
}
