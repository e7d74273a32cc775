/**
 * `sessions.*`: processes the gateway runs on a caller's behalf (sub-agents). Thin handlers: params
 * are validated here, the scope ceiling and the process work are the session service's.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { MethodHandler } from "../gateway/methods.js";
import { sessionVisibility } from "../policy/session-visibility.js";
import { GatewayError } from "../protocol/errors.js";
import {
  SESSION_REDACTED_FIELDS,
  SessionStatusSchema,
  type SessionInfo,
  type SessionListResult,
  type SessionReadResult,
  type SessionRedacted,
  type SessionStatus,
  type SessionSummary,
} from "../protocol/sessions.js";
import { paramsParser, runtimeCaller, SCOPE_PATTERN, type RuntimeCaller } from "./params.js";

const closed = { additionalProperties: false } as const;

/** Longest time limit a session may ask for: 7 days. */
export const MAX_SESSION_TIMEOUT_MS = 7 * 24 * 60 * 60_000;

export const SpawnParams = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 4096 }),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 32_768 }), { maxItems: 1024 })),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), Type.String({ maxLength: 32_768 }), {
        maxProperties: 256,
        additionalProperties: false,
      }),
    ),
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: SCOPE_PATTERN, maxLength: 64 }), { maxItems: 32 }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SESSION_TIMEOUT_MS })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  closed,
);
export type SpawnRequest = Static<typeof SpawnParams>;

const ListParams = Type.Object(
  {
    status: Type.Optional(SessionStatusSchema),
    cronJobId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  closed,
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);

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

const parseSpawn = paramsParser(SpawnParams);
const parseList = paramsParser(ListParams);
const parseId = paramsParser(IdParams);

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
