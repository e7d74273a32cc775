/**
 * Which role and scope each method needs. Unlisted methods need `operator.admin` (default deny);
 * locality never enters here: a local caller has no more method rights than a remote one (C22).
 * Methods an embedder registers (createGateway's `methods`) bring their own requirement, admitted
 * here by {@link checkCustomMethod}; the built-in table always wins over them.
 */
import { ALL_OPERATOR_SCOPES, OPERATOR_SCOPES } from "../protocol/scopes.js";

export interface MethodRequirement {
  role: "operator" | "node";
  /** null: any connected client of that role may call it. */
  scope: string | null;
}

/** Requirements of the methods an embedder registered, by method name. */
export type CustomMethodRequirements = ReadonlyMap<string, MethodRequirement>;

const TABLE: Readonly<Record<string, MethodRequirement>> = {
  health: { role: "operator", scope: OPERATOR_SCOPES.read },
  status: { role: "operator", scope: OPERATOR_SCOPES.read },
  "device.pair.list": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.approve": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.reject": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.remove": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.rename": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "device.pair.retireStale": { role: "operator", scope: OPERATOR_SCOPES.pairing },
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
  // Approving a surface additionally needs write, or admin for exec-capable commands (node-surface.ts).
  "node.pair.list": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "node.pair.approve": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "node.pair.reject": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "node.pair.remove": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  // Renaming a node row additionally needs admin unless it is the owner on the host (device-management.ts).
  "node.rename": { role: "operator", scope: OPERATOR_SCOPES.pairing },
  "node.list": { role: "operator", scope: OPERATOR_SCOPES.read },
  // node.invoke of system.run additionally needs admin; the handler checks the command.
  "node.invoke": { role: "operator", scope: OPERATOR_SCOPES.write },
  "node.invoke.result": { role: "node", scope: null },
  "node.event": { role: "node", scope: null },
  // What an OpenClaw node host reports about itself after connecting (methods/node-reports.ts).
  "node.skills.update": { role: "node", scope: null },
  "node.pluginTools.update": { role: "node", scope: null },
  "node.runnerInventory.update": { role: "node", scope: null },
  // OpenClaw's read-only views; their answers carry no secret (methods/openclaw-compat.ts).
  "system-presence": { role: "operator", scope: OPERATOR_SCOPES.read },
  "config.get": { role: "operator", scope: OPERATOR_SCOPES.read },
  "agents.list": { role: "operator", scope: OPERATOR_SCOPES.read },
  "channels.status": { role: "operator", scope: OPERATOR_SCOPES.read },
};

const DEFAULT_REQUIREMENT: MethodRequirement = { role: "operator", scope: OPERATOR_SCOPES.admin };

/** The requirement for a method: built-in table, then registered custom methods, else admin. */
export function methodRequirement(method: string, custom?: CustomMethodRequirements): MethodRequirement {
  if (Object.hasOwn(TABLE, method)) return TABLE[method] ?? DEFAULT_REQUIREMENT;
  return custom?.get(method) ?? DEFAULT_REQUIREMENT;
}

/** Why a custom method cannot be registered. */
export type CustomMethodRefusal =
  "invalid-name" | "shadows-builtin" | "reserved-namespace" | "invalid-role" | "invalid-scope" | "node-scope";

/** What each refusal means, for the error the embedder sees. */
export const CUSTOM_METHOD_REFUSALS: Readonly<Record<CustomMethodRefusal, string>> = {
  "invalid-name": "method names are dot-separated words of letters, digits, _ and - (at most 128 characters)",
  "shadows-builtin": "a built-in method has this name; custom methods cannot replace built-in ones",
  "reserved-namespace":
    "its first segment is a namespace of built-in methods; pick your own prefix (e.g. myapp.)",
  "invalid-role": 'role must be "operator" or "node"',
  "invalid-scope": `scope must be null or one of ${ALL_OPERATOR_SCOPES.join(", ")}`,
  "node-scope": "node sessions hold no operator scopes, so a node method's scope must be null",
};

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/**
 * May `name` be registered with `need`? `builtins` are the method names the gateway serves itself;
 * they, the names in the table above and `connect` are never replaceable, and their first segments
 * (`device`, `sessions`, ...) are reserved, so a later built-in cannot collide with a custom method.
 */
export function checkCustomMethod(
  name: string,
  need: MethodRequirement,
  builtins: Iterable<string>,
): CustomMethodRefusal | null {
  if (name.length > 128 || !METHOD_NAME.test(name)) return "invalid-name";
  const taken = new Set<string>(["connect", ...Object.keys(TABLE), ...builtins]);
  if (taken.has(name)) return "shadows-builtin";
  const namespaces = new Set([...taken].map((m) => m.split(".")[0]));
  if (namespaces.has(name.split(".")[0])) return "reserved-namespace";
  if (need.role !== "operator" && need.role !== "node") return "invalid-role";
  if (need.scope !== null && !ALL_OPERATOR_SCOPES.includes(need.scope)) return "invalid-scope";
  if (need.role === "node" && need.scope !== null) return "node-scope";
  return null;
}

/** The built-in methods and what each needs, in table order (for `gatehouse call --list`). */
export function builtinMethodRequirements(): Array<[string, MethodRequirement]> {
  return Object.entries(TABLE);
}
