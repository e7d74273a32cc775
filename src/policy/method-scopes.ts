/**
 * Which role and scope each method needs. Unlisted methods need `operator.admin` (default deny);
 * locality never enters here: a local caller has no more method rights than a remote one (C22).
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";

export interface MethodRequirement {
  role: "operator" | "node";
  /** null: any connected client of that role may call it. */
  scope: string | null;
}

const TABLE: Readonly<Record<string, MethodRequirement>> = {
  health: { role: "operator", scope: OPERATOR_SCOPES.read },
  status: { role: "operator", scope: OPERATOR_SCOPES.read },
  "device.pair.list": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.approve": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.reject": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.remove": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.rename": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.token.rotate": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.token.revoke": { role: "operator", scope: OPERATOR_SCOPES.pairing },
};

/** The requirement for a method; unknown methods default to admin. */
export function methodRequirement(method: string): MethodRequirement {
  return TABLE[method] ?? { role: "operator", scope: OPERATOR_SCOPES.admin };
}
