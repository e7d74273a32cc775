/**
 * Cron jobs: a schedule, a command, the scopes each run gets, and the scopes its creator held when
 * creating it (the ceiling a run can never exceed, C25). A job stores no environment: values there
 * may be secrets, and the store keeps secrets only as hashes.
 */
import type { Statement } from "better-sqlite3";
import { MISSED_POLICIES, type MissedPolicy } from "../protocol/work-vocabulary.js";
import { decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { decodeCommand } from "./sessions.js";

export { MISSED_POLICIES, type MissedPolicy };

/** A stored cron job. */
export interface CronJobRecord {
  id: string;
  name: string | null;
  /** Cron expression (5 or 6 fields, croner syntax). */
  schedule: string;
  /** IANA zone the schedule is read in; null: the gateway's local time. */
  timezone: string | null;
  /** The program and its arguments (no shell). */
  command: string[];
  cwd: string | null;
  /** Scopes each run's runtime token carries. */
  scopes: string[];
  createdBy: string;
  /**
   * The device whose authority the job rests on (its creator's, or its creating session's); null for
   * a root (the shared secret). Every run re-checks it; revoking or removing the device disables the job.
   */
  creatorDeviceId: string | null;
  /** The creator's scopes at creation: the ceiling for `scopes`, enforced again at every run. */
  creatorScopes: string[];
  enabled: boolean;
  /** Why the gateway disabled it (its creator's authority ended); null when enabled or disabled by hand. */
  disabledReason: string | null;
  missedPolicy: MissedPolicy;
  /** Per-run time limit; null: none. */
  timeoutMs: number | null;
  lastRunAtMs: number | null;
  lastSessionId: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

interface Row {
  id: string;
  name: string | null;
  schedule: string;
  timezone: string | null;
  command_json: string;
  cwd: string | null;
  scopes_json: string;
  created_by: string;
  creator_device_id: string | null;
  creator_scopes_json: string;
  enabled: number;
  disabled_reason: string | null;
  missed_policy: string;
  timeout_ms: number | null;
  last_run_at_ms: number | null;
  last_session_id: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

const COLUMNS = `id, name, schedule, timezone, command_json, cwd, scopes_json, created_by, creator_device_id,
  creator_scopes_json, enabled, disabled_reason, missed_policy, timeout_ms, last_run_at_ms, last_session_id,
  created_at_ms, updated_at_ms`;

/** Cron-job table access. */
export class CronRepo {
  readonly #ctx: StoreContext;
  readonly #insert: Statement<[Row]>;
  readonly #replace: Statement<[Row]>;
  readonly #get: Statement<[string], Row>;
  readonly #list: Statement<[], Row>;
  readonly #remove: Statement<[string]>;
  readonly #recordRun: Statement<[number, string, string]>;
  readonly #count: Statement<[], { n: number }>;
  readonly #disableByCreator: Statement<[string, number, string]>;
  readonly #enabledByCreator: Statement<[string], { id: string }>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    const values = `@id, @name, @schedule, @timezone, @command_json, @cwd, @scopes_json, @created_by,
      @creator_device_id, @creator_scopes_json, @enabled, @disabled_reason, @missed_policy, @timeout_ms,
      @last_run_at_ms, @last_session_id, @created_at_ms, @updated_at_ms`;
    this.#insert = db.prepare(`INSERT INTO cron_jobs (${COLUMNS}) VALUES (${values})`);
    this.#replace = db.prepare(
      `UPDATE cron_jobs SET name = @name, schedule = @schedule, timezone = @timezone,
         command_json = @command_json, cwd = @cwd, scopes_json = @scopes_json, created_by = @created_by,
         creator_device_id = @creator_device_id, creator_scopes_json = @creator_scopes_json, enabled = @enabled,
         disabled_reason = @disabled_reason, missed_policy = @missed_policy,
         timeout_ms = @timeout_ms, last_run_at_ms = @last_run_at_ms, last_session_id = @last_session_id,
         created_at_ms = @created_at_ms, updated_at_ms = @updated_at_ms
       WHERE id = @id`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM cron_jobs WHERE id = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM cron_jobs ORDER BY created_at_ms, id`);
    this.#remove = db.prepare("DELETE FROM cron_jobs WHERE id = ?");
    this.#recordRun = db.prepare("UPDATE cron_jobs SET last_run_at_ms = ?, last_session_id = ? WHERE id = ?");
    this.#count = db.prepare("SELECT COUNT(*) AS n FROM cron_jobs");
    this.#enabledByCreator = db.prepare(
      "SELECT id FROM cron_jobs WHERE creator_device_id = ? AND enabled = 1 ORDER BY created_at_ms, id",
    );
    this.#disableByCreator = db.prepare(
      `UPDATE cron_jobs SET enabled = 0, disabled_reason = ?, updated_at_ms = ?
       WHERE creator_device_id = ? AND enabled = 1`,
    );
  }

  insert(job: CronJobRecord): void {
    this.#ctx.write(() => this.#insert.run(toRow(job)));
  }

  /** Replaces every column of an existing job. False if there is no such job. */
  update(job: CronJobRecord): boolean {
    return this.#ctx.write(() => this.#replace.run(toRow(job)).changes > 0);
  }

  get(id: string): CronJobRecord | null {
    const row = this.#ctx.read(() => this.#get.get(id));
    return row ? fromRow(row) : null;
  }

  /** Every job, oldest first. */
  list(): CronJobRecord[] {
    return this.#ctx.read(() => this.#list.all()).map(fromRow);
  }

  count(): number {
    return this.#ctx.read(() => this.#count.get()!.n);
  }

  /** Deletes a job. False if there was none. */
  remove(id: string): boolean {
    return this.#ctx.write(() => this.#remove.run(id).changes > 0);
  }

  /**
   * Disables every enabled job resting on a device's authority, saying why; returns their ids. The
   * jobs stay (someone who covers their scopes may re-enable them, and then they rest on that caller).
   */
  disableByCreator(deviceId: string, reason: string, nowMs: number): string[] {
    return this.#ctx.write(() => {
      const ids = this.#enabledByCreator.all(deviceId).map((r) => r.id);
      if (ids.length > 0) this.#disableByCreator.run(reason, nowMs, deviceId);
      return ids;
    });
  }

  /** Notes a run: when it started and which session it is. */
  recordRun(id: string, atMs: number, sessionId: string): void {
    this.#ctx.write(() => this.#recordRun.run(atMs, sessionId, id));
  }
}

function toRow(j: CronJobRecord): Row {
  return {
    id: j.id,
    name: j.name,
    schedule: j.schedule,
    timezone: j.timezone,
    command_json: JSON.stringify(j.command),
    cwd: j.cwd,
    scopes_json: encodeSet(j.scopes),
    created_by: j.createdBy,
    creator_device_id: j.creatorDeviceId,
    creator_scopes_json: encodeSet(j.creatorScopes),
    enabled: j.enabled ? 1 : 0,
    disabled_reason: j.disabledReason,
    missed_policy: j.missedPolicy,
    timeout_ms: j.timeoutMs,
    last_run_at_ms: j.lastRunAtMs,
    last_session_id: j.lastSessionId,
    created_at_ms: j.createdAtMs,
    updated_at_ms: j.updatedAtMs,
  };
}

function fromRow(row: Row): CronJobRecord {
  return {
    id: row.id,
    name: row.name,
    schedule: row.schedule,
    timezone: row.timezone,
    command: decodeCommand(row.command_json),
    cwd: row.cwd,
    scopes: decodeSet(row.scopes_json),
    createdBy: row.created_by,
    creatorDeviceId: row.creator_device_id,
    creatorScopes: decodeSet(row.creator_scopes_json),
    enabled: row.enabled !== 0,
    disabledReason: row.disabled_reason,
    // An unknown policy reads as the conservative one: missed runs are not replayed.
    missedPolicy: row.missed_policy === "run-once" ? "run-once" : "skip",
    timeoutMs: row.timeout_ms,
    lastRunAtMs: row.last_run_at_ms,
    lastSessionId: row.last_session_id,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}
