/**
 * An embedder's own RPC methods: each comes with the role and scope it needs, is admitted by the
 * policy ({@link checkCustomMethod}) and then dispatched and checked exactly like a built-in one.
 */
import type { MethodHandler, MethodTable } from "../gateway/methods.js";
import {
  checkCustomMethod,
  CUSTOM_METHOD_REFUSALS,
  type CustomMethodRequirements,
  type MethodRequirement,
} from "../policy/method-scopes.js";
import { GatewayStartError } from "./start-errors.js";

/** One custom method: who may call it, and what it does. */
export interface CustomMethodEntry {
  requirement: MethodRequirement;
  /** Null when the embedder gave no function (plain JS callers): registration refuses it. */
  handler: MethodHandler | null;
}

/** Custom methods by name. */
export type CustomMethodEntries = Readonly<Record<string, CustomMethodEntry>>;

/** Splits custom methods into handlers and requirements; throws METHOD_REFUSED for the first bad one. */
export function registerCustomMethods(
  entries: CustomMethodEntries,
  builtins: readonly string[],
): { handlers: MethodTable; requirements: CustomMethodRequirements } {
  const handlers: Record<string, MethodHandler> = {};
  const requirements = new Map<string, MethodRequirement>();
  for (const [name, entry] of Object.entries(entries)) {
    // Copied, so a caller mutating its object later cannot widen a method's access.
    const need: MethodRequirement = { role: entry.requirement.role, scope: entry.requirement.scope };
    const refusal = checkCustomMethod(name, need, builtins);
    if (refusal) {
      throw new GatewayStartError(
        "METHOD_REFUSED",
        `custom method ${JSON.stringify(name)} refused: ${CUSTOM_METHOD_REFUSALS[refusal]}`,
        { subject: name },
      );
    }
    if (entry.handler === null) {
      throw new GatewayStartError(
        "METHOD_REFUSED",
        `custom method ${JSON.stringify(name)} has no handler function`,
        {
          subject: name,
        },
      );
    }
    handlers[name] = entry.handler;
    requirements.set(name, Object.freeze(need));
  }
  return { handlers, requirements };
}
