/**
 * Result payloads of `cron.*`: scheduled work. One declaration, used by the scheduler that produces
 * them, the handlers and the CLI that reads them.
 */
import { Type, type Static } from "@sinclair/typebox";
import { SessionSchema } from "./sessions.js";
import { MISSED_POLICIES } from "./work-vocabulary.js";

export { MISSED_POLICIES, type MissedPolicy } from "./work-vocabulary.js";

const nullableString = Type.Union([Type.String(), Type.Null()]);
const nullableInt = Type.Union([Type.Integer(), Type.Null()]);

/** A job as callers see it: its record plus when it runs next (null when disabled or never again). */
export const CronJobSchema = Type.Object({
  id: Type.String(),
  name: nullableString,
  /** Cron expression (5 or 6 fields, croner syntax). */
  schedule: Type.String(),
  /** IANA zone the schedule is read in; null: the gateway's local time. */
  timezone: nullableString,
  command: Type.Array(Type.String()),
  cwd: nullableString,
  /** Scopes each run's runtime token carries. */
  scopes: Type.Array(Type.String()),
  createdBy: Type.String(),
  /** The device whose authority it rests on (re-checked at every run); null: a root (shared secret). */
  creatorDeviceId: nullableString,
  /** The creator's scopes at creation: the ceiling for `scopes`, enforced again at every run. */
  creatorScopes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  /** Why the gateway disabled it (its creator's authority ended); null otherwise. */
  disabledReason: nullableString,
  missedPolicy: Type.Union(MISSED_POLICIES.map((p) => Type.Literal(p))),
  /** Per-run time limit; null: none. */
  timeoutMs: nullableInt,
  lastRunAtMs: nullableInt,
  lastSessionId: nullableString,
  createdAtMs: Type.Integer(),
  updatedAtMs: Type.Integer(),
  nextRunAtMs: nullableInt,
});
export type CronJobInfo = Static<typeof CronJobSchema>;

/** A page of jobs, with OpenClaw's paging fields (`total` counts every job the filter kept). */
export const CronListResultSchema = Type.Object({
  jobs: Type.Array(CronJobSchema),
  /** Changes whenever the filtered list does: a pager that sees it change starts over. */
  snapshotRevision: Type.String({ minLength: 1 }),
  total: Type.Integer({ minimum: 0 }),
  offset: Type.Integer({ minimum: 0 }),
  /** The page size asked for (at least 1; the whole list when none was asked for). */
  limit: Type.Integer({ minimum: 1 }),
  hasMore: Type.Boolean(),
  nextOffset: nullableInt,
});
export type CronListResult = Static<typeof CronListResultSchema>;

export const CronRemoveResultSchema = Type.Object({ id: Type.String(), removed: Type.Boolean() });
export type CronRemoveResult = Static<typeof CronRemoveResultSchema>;

export const CronRunResultSchema = Type.Object({
  jobId: Type.String(),
  sessionId: Type.String(),
  session: SessionSchema,
});
export type CronRunResult = Static<typeof CronRunResultSchema>;
