/**
 * `cron.*`: scheduled work. A job runs as a session with a runtime token carrying the job's scopes,
 * which never exceed what its creator held when creating it (C25). Thin handlers over the scheduler.
 */
import { createHash } from "node:crypto";
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
/**
 * OpenClaw's `cron list` paging: `includeDisabled: false` leaves disabled jobs out (absent: all
 * jobs, as before), `offset`/`limit` page through them in their usual order.
 */
export const CronListParams = Type.Object(
  {
    includeDisabled: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
);

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
const parseList = paramsParser(CronListParams);

/** INVALID_PARAMS for an id that names no job. */
export function unknownCronJob(id: string): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: `unknown cron job ${JSON.stringify(id)} (gatehouse cron list shows them)`,
    details: { field: "id" },
  });
}

/**
 * Names one state of the job list, so a client paging through it can tell when it changed between
 * pages (OpenClaw's `cron list` restarts then).
 */
function snapshotRevision(jobs: readonly CronJobView[]): string {
  const h = createHash("sha256");
  for (const j of jobs) h.update(`${j.id}:${j.updatedAtMs}:${j.enabled ? 1 : 0}\n`);
  return `sha256:${h.digest("base64url")}`;
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
      const { includeDisabled, limit, offset = 0 } = parseList(params);
      const all = service.list().filter((j) => includeDisabled !== false || j.enabled);
      const jobs = all.slice(offset, limit === undefined ? undefined : offset + limit);
      const next = offset + jobs.length;
      return {
        jobs,
        snapshotRevision: snapshotRevision(all),
        total: all.length,
        offset,
        limit: limit ?? Math.max(1, jobs.length),
        hasMore: next < all.length,
        nextOffset: next < all.length ? next : null,
      };
    },
    "cron.run": async (ctx, params): Promise<CronRunResult> => {
      const { id } = parseId(params);
      const session = await service.run(id, runtimeCaller(ctx));
      return { jobId: id, sessionId: session.id, session };
    },
  };
}
