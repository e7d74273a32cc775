/**
 * The cron scheduler: persisted jobs, scheduled with croner, each run a session whose runtime token
 * carries the job's scopes. A job's scopes never exceed what its creator held when creating it
 * (stored as the job's ceiling and enforced again at every run, C25), and a job rests on its
 * creator's device: every run re-checks that device's current authority (the policy's
 * `decideCreatorAuthority`), and a job whose creator was revoked or removed is disabled with the
 * reason instead of run. Whoever covers its scopes may re-enable it; it then rests on them.
 *
 * Missed runs — times that fell while the gateway was down — follow the job's `missedPolicy`:
 * - `skip` (default): they are not replayed; the next run is the next scheduled time.
 * - `run-once`: when the gateway starts and at least one scheduled time passed since the job last
 *   ran (or was created), it runs once at start, however many were missed; then on schedule.
 * A scheduled time that comes while the job's previous run is still running is skipped, so runs of
 * one job never pile up.
 */
import { createRequire } from "node:module";
import type { Cron } from "croner";
import { silentLogger, type GatewayLogger } from "../gateway/log.js";
import type { CronAddRequest, CronJobView, CronService, CronUpdateRequest } from "../methods/cron.js";
import { unknownCronJob } from "../methods/cron.js";
import type { RuntimeCaller } from "../methods/params.js";
import type { SessionView } from "../methods/sessions.js";
import { decideCreatorAuthority, type CreatorFacts } from "../policy/authority.js";
import { managementRuleSentence } from "../policy/management-rules.js";
import { decideCronEdit, decideCronEnable, decideCronRun, decideNewWork } from "../policy/work.js";
import { GatewayError } from "../protocol/errors.js";
import { normalizeSet } from "../store/codec.js";
import type { CronJobRecord } from "../store/cron.js";
import type { Store } from "../store/db.js";
import { newId, workRefused, type SessionManager } from "./sessions.js";

let cronClass: typeof Cron | undefined;
/** croner, loaded when a schedule is first read: a gateway with no cron jobs never loads it. */
function croner(): typeof Cron {
  cronClass ??= (createRequire(import.meta.url)("croner") as { Cron: typeof Cron }).Cron;
  return cronClass;
}

export interface CronSchedulerOptions {
  store: Store;
  sessions: SessionManager;
  logger?: GatewayLogger;
  now?: () => number;
  /** Jobs at most; default 1000. */
  maxJobs?: number;
}

/** Why a run started. */
export type CronRunReason = "schedule" | "manual" | "missed";

const DEFAULT_MAX_JOBS = 1000;

/** Schedules and runs cron jobs. */
export class CronScheduler implements CronService {
  readonly #store: Store;
  readonly #sessions: SessionManager;
  readonly #logger: GatewayLogger;
  readonly #now: () => number;
  readonly #maxJobs: number;
  readonly #timers = new Map<string, Cron>();
  /** Jobs whose scheduled run is being started right now (between the tick and the spawn). */
  readonly #starting = new Set<string>();
  #started = false;

  constructor(options: CronSchedulerOptions) {
    this.#store = options.store;
    this.#sessions = options.sessions;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS;
  }

  /** Schedules every enabled job and applies each one's missed-run policy. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const now = this.#now();
    for (const job of this.#store.cron.list()) {
      if (!job.enabled) continue;
      this.#schedule(job);
      const missed = missedSince(job, now);
      if (missed === null) continue;
      if (job.missedPolicy === "run-once") {
        this.#logger.log("info", "cron missed run: running once now", { job: job.id, missedAtMs: missed });
        void this.#fire(job.id, "missed");
      } else {
        this.#logger.log("info", "cron missed run skipped", { job: job.id, missedAtMs: missed });
      }
    }
  }

  /** Stops scheduling (running sessions are the session manager's to stop). */
  stop(): void {
    this.#started = false;
    for (const timer of this.#timers.values()) timer.stop();
    this.#timers.clear();
  }

  add(request: CronAddRequest, caller: RuntimeCaller): CronJobView {
    if (this.#store.cron.count() >= this.#maxJobs) {
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: `too many cron jobs (${this.#maxJobs}); remove some first`,
        details: { reason: "cron-limit", limit: this.#maxJobs },
      });
    }
    const timezone = request.timezone ?? null;
    checkSchedule(request.schedule, timezone);
    const work = decideNewWork(caller.scopes, request.scopes);
    if (!work.allow) throw workRefused(work, "cron job");
    const scopes = normalizeSet(work.scopes);
    const now = this.#now();
    const job: CronJobRecord = {
      id: newId("cron"),
      name: request.name ?? null,
      schedule: request.schedule,
      timezone,
      command: [request.command, ...(request.args ?? [])],
      cwd: request.cwd ?? null,
      scopes,
      createdBy: caller.actor,
      creatorDeviceId: this.#sessions.authorityOf(caller),
      creatorScopes: normalizeSet(caller.scopes),
      enabled: request.enabled ?? true,
      disabledReason: null,
      missedPolicy: request.missedPolicy ?? "skip",
      timeoutMs: request.timeoutMs ?? null,
      lastRunAtMs: null,
      lastSessionId: null,
      createdAtMs: now,
      updatedAtMs: now,
    };
    this.#store.cron.insert(job);
    this.#logger.log("info", "cron job added", { job: job.id, by: caller.actor, scopes: job.scopes });
    if (this.#started && job.enabled) this.#schedule(job);
    return this.#view(job);
  }

  /**
   * Changes a job. Its scopes may only move within its stored ceiling (never widened), and the
   * caller must hold every scope the job ends up with: nobody edits a job into work they could not
   * have created. Enabling a disabled job is the policy's `decideCronEnable`: it keeps resting on
   * its creator while the creator's authority holds its scopes; when that ended it comes back only
   * as the caller's work, resting on the caller's authority and ceiling from then on.
   */
  update(request: CronUpdateRequest, caller: RuntimeCaller): CronJobView {
    const job = this.#store.cron.get(request.id);
    if (!job) throw unknownCronJob(request.id);
    const next: CronJobRecord = { ...job };
    if (request.enabled === true && !job.enabled) {
      const callerAuthority = this.#sessions.authorityOf(caller);
      const enable = decideCronEnable({
        jobScopes: request.scopes ?? job.scopes,
        creator: this.#creator(job.creatorDeviceId),
        callerScopes: caller.scopes,
        callerAuthority: this.#creator(callerAuthority),
      });
      if (!enable.allow) {
        const scopes = enable.missingScopes.join(", ");
        throw new GatewayError("FORBIDDEN_ACTION", {
          message:
            enable.rule === "work-exceeds-caller"
              ? `cannot enable cron job ${job.id}: it runs with ${scopes}, which the caller does not hold`
              : `cannot enable cron job ${job.id}: neither the device it rested on nor the caller's own authority still holds ${scopes || "its scopes"}`,
          details: {
            reason: "scope-ceiling",
            rule: enable.rule,
            missingScopes: enable.missingScopes,
            trace: enable.trace,
          },
        });
      }
      if (enable.restsOn === "caller") {
        next.createdBy = caller.actor;
        next.creatorDeviceId = callerAuthority;
        next.creatorScopes = normalizeSet(caller.scopes);
      }
      next.disabledReason = null;
    }
    if (request.schedule !== undefined) next.schedule = request.schedule;
    if (request.timezone !== undefined) next.timezone = request.timezone;
    if (request.name !== undefined) next.name = request.name;
    if (request.command !== undefined || request.args !== undefined) {
      next.command = [request.command ?? job.command[0] ?? "", ...(request.args ?? job.command.slice(1))];
    }
    if (request.cwd !== undefined) next.cwd = request.cwd;
    if (request.scopes !== undefined) next.scopes = normalizeSet(request.scopes);
    if (request.missedPolicy !== undefined) next.missedPolicy = request.missedPolicy;
    if (request.timeoutMs !== undefined) next.timeoutMs = request.timeoutMs;
    if (request.enabled !== undefined) next.enabled = request.enabled;
    if (next.schedule !== job.schedule || next.timezone !== job.timezone) {
      checkSchedule(next.schedule, next.timezone);
    }
    const edit = decideCronEdit({
      ceiling: next.creatorScopes,
      callerScopes: caller.scopes,
      scopes: next.scopes,
    });
    if (!edit.allow) throw workRefused(edit, "cron job");
    next.updatedAtMs = this.#now();
    this.#store.cron.update(next);
    this.#unschedule(job.id);
    if (this.#started && next.enabled) this.#schedule(next);
    this.#logger.log("info", "cron job updated", { job: job.id, by: caller.actor });
    return this.#view(next);
  }

  /** Deletes a job; its running session, if any, runs on. */
  remove(id: string, caller: RuntimeCaller): boolean {
    this.#unschedule(id);
    const removed = this.#store.cron.remove(id);
    if (removed) this.#logger.log("info", "cron job removed", { job: id, by: caller.actor });
    return removed;
  }

  list(): CronJobView[] {
    return this.#store.cron.list().map((j) => this.#view(j));
  }

  get(id: string): CronJobView | null {
    const job = this.#store.cron.get(id);
    return job ? this.#view(job) : null;
  }

  /** Runs a job now, whether or not it is enabled. The caller must hold the job's scopes. */
  async run(id: string, caller: RuntimeCaller): Promise<SessionView> {
    const job = this.#store.cron.get(id);
    if (!job) throw unknownCronJob(id);
    const work = decideCronRun(caller.scopes, job.scopes);
    if (!work.allow) {
      const missing = work.missingScopes;
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: `cannot run cron job ${id}: it runs with ${missing.join(", ")}, which the caller does not hold`,
        details: {
          reason: "scope-ceiling",
          missingScopes: missing,
          callerScopes: work.ceiling,
          trace: work.trace,
        },
      });
    }
    this.#logger.log("info", "cron run requested", { job: id, by: caller.actor });
    return this.#runJob(job);
  }

  /** A scheduled (or missed) time came: run unless disabled, removed, or still running. */
  async #fire(id: string, reason: CronRunReason): Promise<void> {
    const job = this.#store.cron.get(id);
    if (!job || !job.enabled || this.#starting.has(id)) return;
    if (job.lastSessionId !== null && this.#sessions.isRunning(job.lastSessionId)) {
      this.#logger.log("info", "cron run skipped: previous run still running", {
        job: id,
        session: job.lastSessionId,
      });
      return;
    }
    this.#starting.add(id);
    try {
      await this.#runJob(job);
    } catch (err) {
      this.#logger.log("error", "cron run failed", {
        job: id,
        reason,
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      this.#starting.delete(id);
    }
  }

  /** Disables and unschedules every enabled job resting on a device whose authority ended (the store did it). */
  authorityRevoked(jobIds: readonly string[]): void {
    for (const id of jobIds) this.#unschedule(id);
    if (jobIds.length > 0)
      this.#logger.log("info", "cron jobs disabled with their creator", { jobs: jobIds });
  }

  /**
   * One run: a session whose creator is the job itself, holding exactly the job's creator's scopes
   * at creation, resting on the creator's device. The creator's current authority is checked
   * first: a job whose creator was revoked, removed or narrowed is disabled with the reason and
   * does not run. The session manager refuses any job scope beyond the ceiling, so a job edited in
   * the store by hand still cannot run wider than its creator was.
   */
  async #runJob(job: CronJobRecord): Promise<SessionView> {
    const [command, ...args] = job.command;
    if (!command) throw new GatewayError("INVALID_PARAMS", { message: `cron job ${job.id} has no command` });
    const authority = decideCreatorAuthority(this.#creator(job.creatorDeviceId), job.scopes);
    if (!authority.ok) {
      // A reason given when the device's end disabled the job says more (which device, how): keep it.
      const reason =
        job.disabledReason ?? `${managementRuleSentence(authority.rule)} (device ${job.creatorDeviceId})`;
      const now = this.#now();
      this.#store.cron.update({ ...job, enabled: false, disabledReason: reason, updatedAtMs: now });
      this.#unschedule(job.id);
      this.#logger.log("warn", "cron job disabled: its creator's authority ended", {
        job: job.id,
        creator: job.creatorDeviceId ?? undefined,
        rule: authority.rule,
      });
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: `cron job ${job.id} was disabled: ${reason}; someone who holds its scopes may re-enable it: gatehouse cron enable ${job.id}`,
        details: { reason: "creator-authority-ended", rule: authority.rule, jobId: job.id },
      });
    }
    const session = await this.#sessions.spawn(
      {
        command,
        args,
        ...(job.cwd !== null ? { cwd: job.cwd } : {}),
        scopes: job.scopes,
        ...(job.timeoutMs !== null ? { timeoutMs: job.timeoutMs } : {}),
        label: job.name ?? `cron ${job.id}`,
      },
      {
        scopes: job.creatorScopes,
        actor: `cron:${job.id}`,
        runtimeJobId: null,
        deviceId: job.creatorDeviceId,
      },
      { cronJobId: job.id },
    );
    this.#store.cron.recordRun(job.id, session.startedAtMs, session.id);
    return session;
  }

  /** The job's creator device as it stands now. */
  #creator(deviceId: string | null): CreatorFacts {
    if (deviceId === null) return { kind: "root" };
    const record = this.#store.devices.get(deviceId);
    if (!record) return { kind: "removed", deviceId };
    return {
      kind: "device",
      deviceId,
      roles: record.roles,
      operatorRevoked: this.#store.tokens.states(deviceId).operator?.revoked ?? false,
      scopes: record.scopes,
    };
  }

  #schedule(job: CronJobRecord): void {
    this.#unschedule(job.id);
    const timer = new (croner())(
      job.schedule,
      { ...(job.timezone ? { timezone: job.timezone } : {}), unref: true, catch: true },
      () => this.#fire(job.id, "schedule"),
    );
    this.#timers.set(job.id, timer);
  }

  #unschedule(id: string): void {
    this.#timers.get(id)?.stop();
    this.#timers.delete(id);
  }

  #view(job: CronJobRecord): CronJobView {
    let next: Date | null = null;
    if (job.enabled) {
      try {
        next = new (croner())(job.schedule, {
          ...(job.timezone ? { timezone: job.timezone } : {}),
          paused: true,
        }).nextRun(new Date(this.#now()));
      } catch {
        next = null;
      }
    }
    return { ...job, nextRunAtMs: next ? next.getTime() : null };
  }
}

/** INVALID_PARAMS naming the field unless the expression parses, fires at least once and the zone exists. */
export function checkSchedule(schedule: string, timezone: string | null): void {
  let next: Date | null;
  try {
    next = new (croner())(schedule, { ...(timezone ? { timezone } : {}), paused: true }).nextRun();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const field = /time ?zone/i.test(message) ? "timezone" : "schedule";
    throw new GatewayError("INVALID_PARAMS", {
      message:
        field === "timezone"
          ? `timezone: ${JSON.stringify(timezone)} is not a known IANA time zone`
          : `schedule: invalid cron expression ${JSON.stringify(schedule)} (${message})`,
      details: { field },
    });
  }
  if (next === null) {
    throw new GatewayError("INVALID_PARAMS", {
      message: `schedule: cron expression ${JSON.stringify(schedule)} never fires`,
      details: { field: "schedule" },
    });
  }
}

/** The first scheduled time after the job last ran (or was created) that is already past, or null. */
export function missedSince(job: CronJobRecord, nowMs: number): number | null {
  const from = job.lastRunAtMs ?? job.createdAtMs;
  try {
    const next = new (croner())(job.schedule, {
      ...(job.timezone ? { timezone: job.timezone } : {}),
      paused: true,
    }).nextRun(new Date(from));
    return next !== null && next.getTime() <= nowMs ? next.getTime() : null;
  } catch {
    return null;
  }
}
