/**
 * Result payloads of `sessions.*`: processes the gateway runs on a caller's behalf. One declaration,
 * used by the runtime that produces them, the handlers and the CLI that reads them.
 */
import { Type, type Static } from "@sinclair/typebox";

import { SESSION_EVENTS } from "./events.js";
import { SESSION_REDACTED_FIELDS, SESSION_STATUSES } from "./work-vocabulary.js";

export {
  MAX_SESSION_TIMEOUT_MS,
  SESSION_REDACTED_FIELDS,
  SESSION_STATUSES,
  type SessionStatus,
} from "./work-vocabulary.js";

export const SessionStatusSchema = Type.Union(SESSION_STATUSES.map((s) => Type.Literal(s)));

const nullableString = Type.Union([Type.String(), Type.Null()]);
const nullableInt = Type.Union([Type.Integer(), Type.Null()]);

const sessionFields = {
  id: Type.String(),
  label: nullableString,
  /** The program and its arguments, as passed to the OS (no shell). */
  command: Type.Array(Type.String()),
  cwd: nullableString,
  scopes: Type.Array(Type.String()),
  parentSessionId: nullableString,
  cronJobId: nullableString,
  /** Who asked: `device:<id>`, `cli/cli`, `cron:<jobId>`, `session:<id>`, ... */
  createdBy: Type.String(),
  /** The device whose authority it rests on; revoking or removing that device ends it. Null: a root. */
  authorityDeviceId: nullableString,
  status: SessionStatusSchema,
  exitCode: nullableInt,
  signal: nullableString,
  pid: nullableInt,
  startedAtMs: Type.Integer(),
  endedAtMs: nullableInt,
  /** Why the gateway ended it (killed by a caller, its parent ended, its authority was revoked, ...). */
  endReason: nullableString,
  /** Set when it failed to start. */
  error: Type.Optional(Type.String()),
};

/** A session with the tail of its output (`sessions.spawn`, `.get`, `.kill`; `cron.run` → `session`). */
export const SessionSchema = Type.Object({
  ...sessionFields,
  stdoutTail: nullableString,
  stderrTail: nullableString,
});
export type SessionInfo = Static<typeof SessionSchema>;

/** A session as lists show it: no output (that is for `sessions.get`). */
export const SessionSummarySchema = Type.Object(sessionFields);
export type SessionSummary = Static<typeof SessionSummarySchema>;

/** A session as a reader outside its chain of creators sees it: {@link SESSION_REDACTED_FIELDS}. */
export const SessionRedactedSchema = Type.Object({
  ...Type.Pick(SessionSummarySchema, [...SESSION_REDACTED_FIELDS]).properties,
  redacted: Type.Literal(true),
});
export type SessionRedacted = Static<typeof SessionRedactedSchema>;

/** `sessions.get`: the whole session for its creator chain and admins, else its state only. */
export const SessionReadResultSchema = Type.Union([SessionSchema, SessionRedactedSchema]);
export type SessionReadResult = Static<typeof SessionReadResultSchema>;

export const SessionListResultSchema = Type.Object({
  sessions: Type.Array(Type.Union([SessionSummarySchema, SessionRedactedSchema])),
});
export type SessionListResult = Static<typeof SessionListResultSchema>;

/**
 * What a session event tells every listener: the fields anyone who may list sessions sees of it
 * ({@link SESSION_REDACTED_FIELDS}); the rest is for `sessions.list` and `.get` to show by reader.
 */
export const SessionEventSessionSchema = Type.Pick(SessionSummarySchema, [...SESSION_REDACTED_FIELDS]);

/** `session.started`: a process the gateway runs is running. */
export const SessionStartedEventSchema = Type.Object({ session: SessionEventSessionSchema });
export type SessionStartedEvent = Static<typeof SessionStartedEventSchema>;

/** `session.ended`: it is over; `reason` is how it ended (its final status). */
export const SessionEndedEventSchema = Type.Object({
  session: SessionEventSessionSchema,
  reason: SessionStatusSchema,
});
export type SessionEndedEvent = Static<typeof SessionEndedEventSchema>;

interface SessionPayloadByName {
  "session.started": SessionStartedEvent;
  "session.ended": SessionEndedEvent;
}
export type SessionEventName = (typeof SESSION_EVENTS)[number];
/** The payload each session event carries (a listed name without one fails to compile). */
export type SessionEventPayloads = { [E in SessionEventName]: SessionPayloadByName[E] };
export { SESSION_EVENTS };
