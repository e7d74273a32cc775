/**
 * `cron.*`: scheduled work. A job runs as a session with a runtime token carrying the job's scopes,
 * which never exceed what its creator held when creating it (C25). Thin handlers over the scheduler.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { MethodHandler } from "../gateway/methods.js";
import { GatewayError } from "../protocol/errors.js";
import {
  MISSED_POLICIES,
  type CronJobInfo,
  type CronListResult,
  type CronRemoveResult,
  type CronRunResult,
} from "../protocol/cron.js";
import { paramsParser, runtimeCaller, SCOPE_PATTERN, type RuntimeCaller } from "./params.js";
import { MAX_SESSION_TIMEOUT_MS, type SessionView } from "./sessions.js";

const closed = { additionalProperties: false } as const;

const fields = {
  schedule: Type.String({ minLength: 1, maxLength: 128 }),
  timezone: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 128 }),
  command: Type.String({ minLength: 1, maxLength: 4096 }),
  args: Type.Array(Type.String({ maxLength: 32_768 }), { maxItems: 1024 }),
  cwd: Type.String({ minLength: 1, maxLength: 4096 }),
  scopes: Type.Array(Type.String({ pattern: SCOPE_PATTERN, maxLength: 64 }), { maxItems: 32 }),
  missedPolicy: Type.Union(MISSED_POLICIES.map((p) => Type.Literal(p))),
  timeoutMs: Type.Integer({ minimum: 1, maximum: MAX_SESSION_TIMEOUT_MS }),
  enabled: Type.Boolean(),
};

export const CronAddParams = Type.Object(
  {
    schedule: fields.schedule,
    timezone: Type.Optional(fields.timezone),
    name: Type.Optional(fields.name),
    command: fields.command,
    args: Type.Optional(fields.args),
    cwd: Type.Optional(fields.cwd),
    scopes: Type.Optional(fields.scopes),
    missedPolicy: Type.Optional(fields.missedPolicy),
    timeoutMs: Type.Optional(fields.timeoutMs),
    enabled: Type.Optional(fields.enabled),
  },
  closed,
);
export type CronAddRequest = Static<typeof CronAddParams>;

/** Every field but `id` optional; `null` clears an optional field. */
export const CronUpdateParams = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    schedule: Type.Optional(fields.schedule),
    timezone: Type.Optional(Type.Union([fields.timezone, Type.Null()])),
    name: Type.Optional(Type.Union([fields.name, Type.Null()])),
    command: Type.Optional(fields.command),
    args: Type.Optional(fields.args),
    cwd: Type.Optional(Type.Union([fields.cwd, Type.Null()])),
    scopes: Type.Optional(fields.scopes),
    missedPolicy: Type.Optional(fields.missedPolicy),
    timeoutMs: Type.Optional(Type.Union([fields.timeoutMs, Type.Null()])),
    enabled: Type.Optional(fields.enabled),
  },
  closed,
);
export type CronUpdateRequest = Static<typeof CronUpdateParams>;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const EmptyParams = Type.Object({}, closed);

/** A job as callers see it: the record plus when it runs next (the wire schema). */
export type CronJobView = CronJobInfo;

/** What the `cron.*` handlers need from the runtime. */
export interface CronService {
  add(request: CronAddRequest, caller: RuntimeCaller): CronJobView;
  update(request: CronUpdateRequest, caller: RuntimeCaller): CronJobView;
  remove(id: string, caller: RuntimeCaller): boolean;
  list(): CronJobView[];
  /** Runs the job now; resolves with the session it started. */
  run(id: string, caller: RuntimeCaller): Promise<SessionView>;
}

const parseAdd = paramsParser(CronAddParams);
const parseUpdate = paramsParser(CronUpdateParams);
const parseId = paramsParser(IdParams);
const parseEmpty = paramsParser(EmptyParams);

/** INVALID_PARAMS for an id that names no job. */
export function unknownCronJob(id: string): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: `unknown cron job ${JSON.stringify(id)} (see cron.list)`,
    details: { field: "id" },
  });
}

/** `cron.add`, `cron.update`, `cron.remove`, `cron.list`, `cron.run` over a cron service. */
export function createCronMethods(service: CronService): Readonly<Record<string, MethodHandler>> {
  return {
    "cron.add": (ctx, params) => service.add(parseAdd(params), runtimeCaller(ctx)),
    "cron.update": (ctx, params) => service.update(parseUpdate(params), runtimeCaller(ctx)),
    "cron.remove": (ctx, params): CronRemoveResult => {
      const { id } = parseId(params);
      if (!service.remove(id, runtimeCaller(ctx))) throw unknownCronJob(id);
      return { id, removed: true };
    },
    "cron.list": (_ctx, params): CronListResult => {
      parseEmpty(params);
      return { jobs: service.list() };
    },
    "cron.run": async (ctx, params): Promise<CronRunResult> => {
      const { id } = parseId(params);
      const session = await service.run(id, runtimeCaller(ctx));
      return { jobId: id, sessionId: session.id, session };
    },
  };
}
