/**
 * The closed vocabularies of the work the gateway runs (sessions, cron jobs): kept apart from the
 * payload schemas in sessions.ts and cron.ts so the store and the runtime can use them without
 * loading the schema library at start.
 */

/** Where a session is in its life. `lost`: it was running under a gateway that is gone. */
export const SESSION_STATUSES = [
  "running",
  "exited",
  "killed",
  "timed-out",
  "failed-to-start",
  "lost",
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/**
 * What a reader outside a session's chain of creators sees of it (without `operator.admin`): that
 * it exists, who started it, its state and exit code — not its command line, working directory,
 * label or output (issue 12).
 */
export const SESSION_REDACTED_FIELDS = [
  "id",
  "scopes",
  "parentSessionId",
  "cronJobId",
  "createdBy",
  "status",
  "exitCode",
  "signal",
  "startedAtMs",
  "endedAtMs",
] as const;

/** Longest time limit a session may ask for: 7 days. */
export const MAX_SESSION_TIMEOUT_MS = 7 * 24 * 60 * 60_000;

/** What happens to runs missed while the gateway was down. */
export const MISSED_POLICIES = ["skip", "run-once"] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];
