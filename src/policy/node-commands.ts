/**
 * Which operator scope invoking a node command needs (`node.invoke`'s params-aware exception,
 * reference §3.2, §6.1). Running, preparing or approving processes, proxying a browser and touching
 * files on a node is exec on that machine: admin. Everything else: write, like `node.invoke` itself.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";

const ADMIN_COMMANDS: ReadonlySet<string> = new Set(["system.run", "system.run.prepare"]);
const ADMIN_PREFIXES = ["system.execApprovals.", "browser.proxy", "fs."];

/** The scope a caller of `node.invoke` needs for `command`. */
export function nodeCommandScope(command: string): string {
  if (ADMIN_COMMANDS.has(command) || ADMIN_PREFIXES.some((p) => command.startsWith(p))) {
    return OPERATOR_SCOPES.admin;
  }
  return OPERATOR_SCOPES.write;
}
