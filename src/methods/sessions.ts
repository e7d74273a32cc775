/**
 * `sessions.*`: processes the gateway runs on a caller's behalf (sub-agents). Thin handlers: params
 * are validated here, the scope ceiling and the process work are the session service's.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { MethodHandler } from "../gateway/methods.js";
import { GatewayError } from "../protocol/errors.js";
import {
  SessionStatusSchema,
  type SessionInfo,
  type SessionListResult,
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
}

const parseSpawn = paramsParser(SpawnParams);
const parseList = paramsParser(ListParams);
const parseId = paramsParser(IdParams);

function notFound(id: string): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: `unknown session ${JSON.stringify(id)} (see sessions.list)`,
    details: { field: "id" },
  });
}

/** `sessions.spawn`, `sessions.list`, `sessions.get`, `sessions.kill` over a session service. */
export function createSessionMethods(service: SessionService): Readonly<Record<string, MethodHandler>> {
  return {
    "sessions.spawn": (ctx, params) => service.spawn(parseSpawn(params), runtimeCaller(ctx)),
    "sessions.list": (_ctx, params): SessionListResult => {
      const sessions = service.list(parseList(params)).map(withoutOutput);
      return { sessions };
    },
    "sessions.get": (_ctx, params) => {
      const { id } = parseId(params);
      const session = service.get(id);
      if (!session) throw notFound(id);
      return session;
    },
    "sessions.kill": async (ctx, params) => {
      const { id } = parseId(params);
      if (!service.get(id)) throw notFound(id);
      return service.kill(id, runtimeCaller(ctx));
    },
  };
}

/** Lists stay small: output is for `sessions.get`. */
function withoutOutput(s: SessionView): SessionSummary {
  const { stdoutTail: _o, stderrTail: _e, ...rest } = s;
  return rest;
}
