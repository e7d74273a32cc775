/**
 * Session records: one row per process the gateway started (a sub-agent or a cron run), with its
 * command, scopes, lineage, status and the tail of its output. The table is bounded: only the
 * newest ended sessions are kept (running ones always are). The child's environment is never
 * stored: it may hold secrets the caller handed to it.
 */
import type { Statement } from "better-sqlite3";
import { SESSION_STATUSES, type SessionStatus } from "../protocol/work-vocabulary.js";
import { decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";

export { SESSION_STATUSES, type SessionStatus };

/** A stored session. */
export interface SessionRecord {
  id: string;
  label: string | null;
  /** The program and its arguments, as passed to the OS (no shell). */
  command: string[];
  cwd: string | null;
  scopes: string[];
  parentSessionId: string | null;
  cronJobId: string | null;
  /** Who asked: `device:<id>`, `cli/cli`, `cron:<jobId>`, `session:<id>`, ... */
  createdBy: string;
  /**
   * The device whose authority this session rests on (its creator's, or its parent session's, or its
   * cron job's creator's); null for roots: the shared secret or a previous release's record.
   */
  authorityDeviceId: string | null;
  status: SessionStatus;
  exitCode: number | null;
  signal: string | null;
  pid: number | null;
  startedAtMs: number;
  endedAtMs: number | null;
  stdoutTail: string | null;
  stderrTail: string | null;
  /** Why the gateway ended it, when it did (killed by whom or what, timed out); null otherwise. */
  endReason: string | null;
}

/** How a session ended. */
export interface SessionEnd {
  status: Exclude<SessionStatus, "running">;
  exitCode: number | null;
  signal: string | null;
  endedAtMs: number;
  stdoutTail: string | null;
  stderrTail: string | null;
  endReason: string | null;
}

export interface SessionQuery {
  status?: SessionStatus;
  cronJobId?: string;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
}

interface Row {
  id: string;
  label: string | null;
  command_json: string;
  cwd: string | null;
  scopes_json: string;
  parent_session_id: string | null;
  cron_job_id: string | null;
  created_by: string;
  authority_device_id: string | null;
  status: string;
  exit_code: number | null;
  signal: string | null;
  pid: number | null;
  started_at_ms: number;
  ended_at_ms: number | null;
  stdout_tail: string | null;
  stderr_tail: string | null;
  end_reason: string | null;
}

/** How many ended sessions are kept by default. */
export const DEFAULT_SESSIONS_KEEP_ENDED = 1000;
const MAX_LIST = 1000;

const COLUMNS = `id, label, command_json, cwd, scopes_json, parent_session_id, cron_job_id, created_by,
  authority_device_id, status, exit_code, signal, pid, started_at_ms, ended_at_ms, stdout_tail, stderr_tail,
  end_reason`;

/** Session table access. */
export class SessionRepo {
  readonly #ctx: StoreContext;
  readonly #keepEnded: number;
  readonly #insert: Statement<[Row]>;
  readonly #get: Statement<[string], Row>;
  readonly #setPid: Statement<[number, string]>;
  readonly #finish: Statement<[Record<string, unknown>]>;
  readonly #list: Statement<[{ status: string | null; cron: string | null; limit: number }], Row>;
  readonly #running: Statement<[], { id: string }>;
  readonly #markLost: Statement<[number]>;
  readonly #prune: Statement<[number]>;

  constructor(ctx: StoreContext, keepEnded: number = DEFAULT_SESSIONS_KEEP_ENDED) {
    this.#ctx = ctx;
    this.#keepEnded = keepEnded;
    const db = ctx.db;
    this.#insert = db.prepare(
      `INSERT INTO sessions (${COLUMNS})
       VALUES (@id, @label, @command_json, @cwd, @scopes_json, @parent_session_id, @cron_job_id, @created_by,
         @authority_device_id, @status, @exit_code, @signal, @pid, @started_at_ms, @ended_at_ms, @stdout_tail,
         @stderr_tail, @end_reason)`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE id = ?`);
    this.#setPid = db.prepare("UPDATE sessions SET pid = ? WHERE id = ?");
    // Only a running session can end; a second end (exit after kill, say) changes nothing.
    this.#finish = db.prepare(
      `UPDATE sessions SET status = @status, exit_code = @exit_code, signal = @signal,
         ended_at_ms = @ended_at_ms, stdout_tail = @stdout_tail, stderr_tail = @stderr_tail,
         end_reason = @end_reason
       WHERE id = @id AND status = 'running'`,
    );
    this.#list = db.prepare(
      `SELECT ${COLUMNS} FROM sessions
       WHERE (@status IS NULL OR status = @status) AND (@cron IS NULL OR cron_job_id = @cron)
       ORDER BY started_at_ms DESC, rowid DESC LIMIT @limit`,
    );
    this.#running = db.prepare("SELECT id FROM sessions WHERE status = 'running' ORDER BY started_at_ms");
    this.#markLost = db.prepare(
      "UPDATE sessions SET status = 'lost', ended_at_ms = ?, end_reason = 'its gateway stopped without ending it' WHERE status = 'running'",
    );
    this.#prune = db.prepare(
      `DELETE FROM sessions WHERE rowid IN (
         SELECT rowid FROM sessions WHERE status <> 'running'
         ORDER BY started_at_ms DESC, rowid DESC LIMIT -1 OFFSET ?)`,
    );
  }

  /** Records a new session (normally `running`, or `failed-to-start` with its end filled in). */
  insert(record: SessionRecord): void {
    this.#ctx.write(() => this.#insert.run(toRow(record)));
  }

  /** Sets the OS process id once the process exists. */
  setPid(id: string, pid: number): void {
    this.#ctx.write(() => this.#setPid.run(pid, id));
  }

  /**
   * Records how a running session ended and prunes old ended sessions. False when the session was
   * not running (already ended, or unknown).
   */
  finish(id: string, end: SessionEnd): boolean {
    return this.#ctx.write(() => {
      const changed =
        this.#finish.run({
          id,
          status: end.status,
          exit_code: end.exitCode,
          signal: end.signal,
          ended_at_ms: end.endedAtMs,
          stdout_tail: end.stdoutTail,
          stderr_tail: end.stderrTail,
          end_reason: end.endReason,
        }).changes > 0;
      if (changed) this.#prune.run(this.#keepEnded);
      return changed;
    });
  }

  get(id: string): SessionRecord | null {
    const row = this.#ctx.read(() => this.#get.get(id));
    return row ? fromRow(row) : null;
  }

  /** Sessions newest first, optionally by status or cron job. */
  list(query: SessionQuery = {}): SessionRecord[] {
    const limit = Math.max(1, Math.min(MAX_LIST, Math.trunc(query.limit ?? 100)));
    return this.#ctx
      .read(() => this.#list.all({ status: query.status ?? null, cron: query.cronJobId ?? null, limit }))
      .map(fromRow);
  }

  /** Ids of sessions the store believes are running. */
  runningIds(): string[] {
    return this.#ctx.read(() => this.#running.all()).map((r) => r.id);
  }

  /**
   * Marks every `running` session `lost` (their processes belonged to a previous gateway run) and
   * returns their ids.
   */
  markLost(nowMs: number): string[] {
    return this.#ctx.write(() => {
      const ids = this.#running.all().map((r) => r.id);
      if (ids.length > 0) this.#markLost.run(nowMs);
      this.#prune.run(this.#keepEnded);
      return ids;
    });
  }
}

function toRow(r: SessionRecord): Row {
  return {
    id: r.id,
    label: r.label,
    command_json: JSON.stringify(r.command),
    cwd: r.cwd,
    scopes_json: encodeSet(r.scopes),
    parent_session_id: r.parentSessionId,
    cron_job_id: r.cronJobId,
    created_by: r.createdBy,
    authority_device_id: r.authorityDeviceId,
    status: r.status,
    exit_code: r.exitCode,
    signal: r.signal,
    pid: r.pid,
    started_at_ms: r.startedAtMs,
    ended_at_ms: r.endedAtMs,
    stdout_tail: r.stdoutTail,
    stderr_tail: r.stderrTail,
    end_reason: r.endReason,
  };
}

function fromRow(row: Row): SessionRecord {
  return {
    id: row.id,
    label: row.label,
    command: decodeCommand(row.command_json),
    cwd: row.cwd,
    scopes: decodeSet(row.scopes_json),
    parentSessionId: row.parent_session_id,
    cronJobId: row.cron_job_id,
    createdBy: row.created_by,
    authorityDeviceId: row.authority_device_id,
    status: (SESSION_STATUSES as readonly string[]).includes(row.status)
      ? (row.status as SessionStatus)
      : "lost",
    exitCode: row.exit_code,
    signal: row.signal,
    pid: row.pid,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms,
    stdoutTail: row.stdout_tail,
    stderrTail: row.stderr_tail,
    endReason: row.end_reason,
  };
}

/** A `command_json` column: an array of strings; anything else reads as empty. */
export function decodeCommand(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
