/**
 * What is worth warning about in a scope set, read through the lattice here so that no other
 * layer reads scope names: doctor's findings and the gateway's start-up warning only report these.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import { scopeSatisfied } from "./scopes.js";

/** Trusted-proxy auto-approval that hands every device it approves operator.admin. */
export function autoApprovesAdmin(autoApprove: { enabled: boolean; scopes: readonly string[] }): boolean {
  return autoApprove.enabled && scopeSatisfied(autoApprove.scopes, OPERATOR_SCOPES.admin);
}

/**
 * The scopes an OpenClaw store's pre-2026.2.19 set leaves out beside operator.admin (read, write,
 * which admin covers all the same); empty when the set holds no admin or names them.
 */
export function legacyAdminGaps(scopes: readonly string[]): string[] {
  // Named, not covered (admin covers them): the finding is about what the record lists.
  if (!scopes.includes(OPERATOR_SCOPES.admin)) return [];
  return [OPERATOR_SCOPES.read, OPERATOR_SCOPES.write].filter((s) => !scopes.includes(s));
}
