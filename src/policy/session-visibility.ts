/**
 * Who may read a session's command line and output (issue 12, item 3). A sub-agent's output is
 * model output and tool results: it belongs to whoever started the work. Pure: the caller gathers
 * the session's chain of creators; this decides, with the rule that decided it.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import type { RuleId } from "./rules.js";

/** Why a reader sees a session whole, or only as a summary (sentences in the one rule table). */
export type SessionVisibilityRule = Extract<
  RuleId,
  "session-admin" | "session-self" | "session-creator-chain" | "session-summary-only"
>;

/** The reader, as the runtime names callers (`device:<id>`, `session:<id>`, `cli/cli`, ...). */
export interface SessionReader {
  actor: string;
  scopes: readonly string[];
  /** The session whose runtime token the reader holds, if any. */
  runtimeJobId: string | null;
}

/**
 * Whether `reader` may see session `sessionId` whole. `creators` is its chain of creators, nearest
 * first: the session's `createdBy`, then whoever created that (a parent session's creator, a cron
 * job's creator), and so on.
 */
export function sessionVisibility(
  reader: SessionReader,
  sessionId: string,
  creators: readonly string[],
): { full: boolean; rule: SessionVisibilityRule } {
  if (reader.scopes.includes(OPERATOR_SCOPES.admin)) return { full: true, rule: "session-admin" };
  if (reader.runtimeJobId === sessionId) return { full: true, rule: "session-self" };
  if (creators.includes(reader.actor)) return { full: true, rule: "session-creator-chain" };
  return { full: false, rule: "session-summary-only" };
}
