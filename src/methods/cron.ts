/**
 * `cron.*`: scheduled work. A job runs as a session with a runtime token carrying the job's scopes,
 * which never exceed what its creator held when creating it (C25). Thin handlers over the scheduler.
 */
import { createHash } from "node:crypto";
import type { MethodHandler } from "../gateway/methods.js";
import { GatewayError } from "../protocol/errors.js";
import {
  type CronJobInfo,
  type CronListResult,
  type CronRemoveResult,
  type CronRunResult,
} from "../protocol/cron.js";
import type { CronAddRequest, CronUpdateRequest } from "../protocol/method-params.js";
import { paramsParser, runtimeCaller, type RuntimeCaller } from "./params.js";
import type { SessionView } from "./sessions.js";

export type { CronAddRequest, CronUpdateRequest } from "../protocol/method-params.js";

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

const parseAdd = paramsParser("CronAddParams");
const parseUpdate = paramsParser("CronUpdateParams");
const parseId = paramsParser("WorkIdParams");
const parseList = paramsParser("CronListParams");

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
