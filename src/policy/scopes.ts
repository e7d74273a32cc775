/** The scope lattice: `operator.admin` covers every `operator.*`, `operator.write` covers `operator.read`. */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";

/** True when the granted set satisfies one required scope. */
export function scopeSatisfied(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  if (!required.startsWith("operator.")) return false;
  if (granted.includes(OPERATOR_SCOPES.admin)) return true;
  return required === OPERATOR_SCOPES.read && granted.includes(OPERATOR_SCOPES.write);
}

/** The required scopes the granted set does not cover, in the order given. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((s) => !scopeSatisfied(granted, s));
}
