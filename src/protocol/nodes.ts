/**
 * `node.*` limits and the `node.list` entry: one declaration, used by the handlers that check
 * them, the runtime that produces them and the CLI that reads them.
 */

/** How long a node may take to answer an invocation when the caller names no limit. */
export const DEFAULT_NODE_INVOKE_TIMEOUT_MS = 30_000;
/** The longest `timeoutMs` a `node.invoke` may ask for: 10 minutes. */
export const MAX_NODE_INVOKE_TIMEOUT_MS = 600_000;

/** A connected node as `node.list` shows it. */
export interface NodeSummary {
  nodeId: string;
  connId: string;
  displayName: string | null;
  platform: string;
  /** The commands it exposes: offered at connect and within its approved surface; only these can be invoked. */
  commands: string[];
  /** Everything it offered at connect, approved or not. */
  declaredCommands: string[];
  /** The id of its pending request to widen the surface, if one waits. */
  surfaceRequestId: string | null;
  connectedAtMs: number;
}
