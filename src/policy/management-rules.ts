/**
 * The device-management and authority part of the rule vocabulary (src/policy/rules.ts holds every
 * id with its one sentence): the ids a management decision's or an authority check's trace can hold.
 */
import { RULE_SENTENCES, type RuleId } from "./rules.js";

/** A device-management rule id. */
export type ManagementRuleId = Extract<RuleId, `manage-${string}` | `authority-${string}`>;

const isManagementRule = (id: string): id is ManagementRuleId =>
  id.startsWith("manage-") || id.startsWith("authority-");

/** The management ids with their sentences (a view of the one table). */
export const MANAGEMENT_RULES: Readonly<Record<ManagementRuleId, string>> = Object.fromEntries(
  Object.entries(RULE_SENTENCES).filter(([id]) => isManagementRule(id)),
) as Record<ManagementRuleId, string>;

/** The one sentence that says what a rule means. */
export function managementRuleSentence(id: ManagementRuleId): string {
  return RULE_SENTENCES[id];
}
