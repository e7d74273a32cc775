/**
 * `sessions.*`: processes the gateway runs on a caller's behalf (sub-agents). Thin handlers: params
 * are validated here, the scope ceiling and the process work are the session service's.
 */
import type { MethodHandler } from "../gateway/methods.js";
import { sessionVisibility } from "../policy/session-visibility.js";
import { GatewayError } from "../protocol/errors.js";
import type {
  SessionInfo,
  SessionListResult,
  SessionReadResult,
  SessionRedacted,
  SessionStatus,
  SessionSummary,
} from "../protocol/sessions.js";
import { SESSION_REDACTED_FIELDS } from "../protocol/work-vocabulary.js";
import type { SpawnRequest } from "../protocol/method-params.js";
import { paramsParser, runtimeCaller, type RuntimeCaller } from "./params.js";

export { MAX_SESSION_TIMEOUT_MS } from "../protocol/work-vocabulary.js";
export type { SpawnRequest } from "../protocol/method-params.js";

/** A session as callers see it: the record, plus `error` when it failed to start (the wire schema). */
export type SessionView = SessionInfo;

/** What the `sessions.*` handlers need from the runtime. */
export interface SessionService {
  /** Starts a process; resolves once it runs (status `running`) or failed to start. */
  spawn(request: SpawnRequest, caller: RuntimeCaller): Promise<SessionView>;
  list(query: { status?: SessionStatus; cronJobId?: string; limit?: number }): SessionView[];
  /** The record with its output so far (live for a running session); null if unknown. */
  get(id: string): SessionView | null;
  /** Stops a running session (SIGTERM, then SIGKILL); resolves with the ended record. */
  kill(id: string, caller: RuntimeCaller): Promise<SessionView>;
  /** Who created the session, who created them, and so on: nearest first. */
  creatorChain(id: string): string[];
}

const parseSpawn = paramsParser("SpawnParams");
const parseList = paramsParser("SessionListParams");
const parseId = paramsParser("WorkIdParams");

function notFound(id: string): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: `unknown session ${JSON.stringify(id)} (gatehouse sessions list shows them)`,
    details: { field: "id" },
  });
}

/** `sessions.spawn`, `sessions.list`, `sessions.get`, `sessions.kill` over a session service. */
export function createSessionMethods(service: SessionService): Readonly<Record<string, MethodHandler>> {
  return {
    "sessions.spawn": (ctx, params) => service.spawn(parseSpawn(params), runtimeCaller(ctx)),
    "sessions.list": (ctx, params): SessionListResult => {
      const reader = runtimeCaller(ctx);
      const sessions = service
        .list(parseList(params))
        .map((s) => visibleTo(reader, s, service, withoutOutput));
      return { sessions };
    },
    "sessions.get": (ctx, params): SessionReadResult => {
      const { id } = parseId(params);
      const session = service.get(id);
      if (!session) throw notFound(id);
      return visibleTo(runtimeCaller(ctx), session, service, (s) => s);
    },
    "sessions.kill": async (ctx, params) => {
      const { id } = parseId(params);
      if (!service.get(id)) throw notFound(id);
      return service.kill(id, runtimeCaller(ctx));
    },
  };
}

/** The session as `reader` may see it: `whole(s)` for its creator chain and admins, else its state. */
function visibleTo<T>(
  reader: RuntimeCaller,
  s: SessionView,
  service: SessionService,
  whole: (s: SessionView) => T,
): T | SessionRedacted {
  if (sessionVisibility(reader, s.id, service.creatorChain(s.id)).full) return whole(s);
  return {
    ...pick(s, SESSION_REDACTED_FIELDS),
    redacted: true,
  };
}

function pick<T, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = obj[k];
  return out;
}

/** Lists stay small: output is for `sessions.get`. */
function withoutOutput(s: SessionView): SessionSummary {
  const { stdoutTail: _o, stderrTail: _e, ...rest } = s;
  return rest;
}
