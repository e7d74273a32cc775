/**
 * The empty OpenClaw status summary `status` answers with, apart from its schema in
 * openclaw-compat.ts: the gateway builds this on every `status` and needs no schema library for it.
 */
import type { OpenClawStatusSummary } from "./openclaw-compat.js";
import { TASK_AUDIT_CODES, TASK_RUNTIMES, TASK_STATUSES } from "./task-vocabulary.js";

const zeros = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0]));

/** The summary of a gateway with no agents, channels or tasks. */
export function emptyStatusSummary(version: string): OpenClawStatusSummary {
  return {
    runtimeVersion: version,
    heartbeat: { defaultAgentId: null, agents: [] },
    channelSummary: [],
    queuedSystemEvents: [],
    degradedSecretOwners: [],
    degradedPlugins: [],
    tasks: {
      total: 0,
      active: 0,
      terminal: 0,
      failures: 0,
      byStatus: zeros(TASK_STATUSES),
      byRuntime: zeros(TASK_RUNTIMES),
    },
    taskAudit: { total: 0, warnings: 0, errors: 0, byCode: zeros(TASK_AUDIT_CODES) },
    sessions: {
      paths: [],
      count: 0,
      defaults: { model: null, contextTokens: null },
      recent: [],
      byAgent: [],
    },
  };
}
