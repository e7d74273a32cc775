/**
 * The empty OpenClaw status summary `status` answers with, apart from its schema in
 * openclaw-compat.ts: the gateway builds this on every `status` and needs no schema library for it.
 */
import type { OpenClawStatusSummary } from "./openclaw-compat.js";

/** OpenClaw's task states: each counted (as 0) in `tasks.byStatus`. */
export const TASK_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "lost",
] as const;
/** OpenClaw's task runtimes: each counted in `tasks.byRuntime`. */
export const TASK_RUNTIMES = ["subagent", "acp", "cli", "cron"] as const;
/** OpenClaw's task audit codes: each counted in `taskAudit.byCode`. */
export const TASK_AUDIT_CODES = [
  "stale_queued",
  "stale_running",
  "lost",
  "delivery_failed",
  "missing_cleanup",
  "inconsistent_timestamps",
] as const;

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
