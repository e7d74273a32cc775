// OpenClaw's task vocabulary, counted in its status summary: the schema (openclaw-compat.ts) and the
// empty summary the gateway answers with (status-summary.ts) both take it from here.

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
