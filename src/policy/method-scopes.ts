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
  // The handler also requires what the profile grants (operator.admin for operator-full and node).
  "device.pair.setupCode": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "audit.list": { role: "operator", scope: OPERATOR_SCOPES.admin },
  // Spawning or killing a process is exec on the gateway host: admin, like system.run.
  "sessions.spawn": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "sessions.kill": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "sessions.list": { role: "operator", scope: OPERATOR_SCOPES.read },
  "sessions.get": { role: "operator", scope: OPERATOR_SCOPES.read },
  // Jobs later run with their creator's scopes, so creating one is admin (S04 review, C25).
  "cron.add": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "cron.update": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "cron.remove": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "cron.run": { role: "operator", scope: OPERATOR_SCOPES.admin },
  "cron.list": { role: "operator", scope: OPERATOR_SCOPES.read },
  "node.list": { role: "operator", scope: OPERATOR_SCOPES.read },
  // node.invoke of system.run additionally needs admin; the handler checks the command.
  "node.invoke": { role: "operator", scope: OPERATOR_SCOPES.write },
  "node.invoke.result": { role: "node", scope: null },
  "node.event": { role: "node", scope: null },
};

/** The requirement for a method; unknown methods default to admin. */
export function methodRequirement(method: string): MethodRequirement {
  return TABLE[method] ?? { role: "operator", scope: OPERATOR_SCOPES.admin };
}
