/**
 * The audit log: one row per admission decision or management action, with the decision trace.
 * Bounded: the oldest rows are pruned in the same transaction that appends, so the table never
 * holds more than `maxRows`.
 */
import type { Statement } from "better-sqlite3";
import type { RuleId } from "../policy/rules.js";
import type { GatewayRole } from "../protocol/client-info.js";
import { encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { corruptStore } from "./errors.js";

/** What an audit row records: a connect or a refused upgrade, a management action, or a doctor repair or import. */
export const AUDIT_KINDS = [
  "connect",
  "upgrade",
  "approve",
  "reject",
  "remove",
  "rename",
  "rotate",
  "revoke",
  "retire",
  "node-surface",
  "setup-code",
  "doctor",
  "import",
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** How it ended: a connect's decision, or the management action's past tense. */
export const AUDIT_DECISIONS = [
  "admit",
  "approve-silently",
  "approve-setup-code",
  "pend",
  "pend-refused",
  "reject",
  "approved",
  "rejected",
  "removed",
  "renamed",
  "rotated",
  "revoked",
  "minted",
  "pinned",
  "pruned",
  "imported",
] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

const kindSet: ReadonlySet<string> = new Set(AUDIT_KINDS);
const decisionSet: ReadonlySet<string> = new Set(AUDIT_DECISIONS);
const isAuditKind = (s: string): s is AuditKind => kindSet.has(s);
const isAuditDecision = (s: string): s is AuditDecision => decisionSet.has(s);

/** What to record. Never put a token, hash or signature in any field. */
export interface AuditEntry {
  kind: AuditKind;
  decision: AuditDecision;
  reason?: string | undefined;
  deviceId?: string | undefined;
  requestId?: string | undefined;
  peer?: string | undefined;
  client?: string | undefined;
  /** The role asked for or acted on; several (an approval of both) are stored joined by commas. */
  role?: GatewayRole | readonly GatewayRole[] | undefined;
  scopes?: readonly string[] | undefined;
  /** Rules in the order they fired; kept in that order. */
  trace?: readonly RuleId[] | undefined;
  actor?: string | undefined;
}

/** A stored audit row. */
export interface AuditRecord {
  id: number;
  tsMs: number;
  kind: AuditKind;
  decision: AuditDecision;
  reason: string | null;
  deviceId: string | null;
  requestId: string | null;
  peer: string | null;
  client: string | null;
  /** Display text: one role, or the roles joined by commas. */
  role: string | null;
  scopes: string[] | null;
  /** As recorded: ids from an older version may no longer be in today's rule table. */
  trace: string[] | null;
  actor: string | null;
}

/** Filters for {@link AuditLog.list}. */
export interface AuditQuery {
  deviceId?: string;
  /** At most this many rows (default 100). */
  limit?: number;
  /** Rows after this id, oldest first (for following the log); without it, newest first. */
  afterId?: number;
  /** Rows before this id, newest first (for paging back). */
  beforeId?: number;
  /** Only rows with one of these decisions. */
  decisions?: readonly string[];
  /** Only rows where a client was kept out (see {@link isRefusalDecision}). */
  refusalsOnly?: boolean;
  /** Leave out the routine rows (see {@link isRoutine}). */
  hideRoutine?: boolean;
}

/** A decision that kept a client out: refused, or made to wait for approval. */
export function isRefusalDecision(decision: string): boolean {
  return decision === "reject" || decision.startsWith("pend");
}

/**
 * The row every connect that its approval already covers leaves — one per CLI command. Views
 * hide these by default (and say how many they hid).
 */
export function isRoutine(row: Pick<AuditRecord, "kind" | "decision">): boolean {
  return row.kind === "connect" && row.decision === "admit";
}

const REFUSAL_SQL = "(decision = 'reject' OR decision LIKE 'pend%')";
const ROUTINE_SQL = "(kind = 'connect' AND decision = 'admit')";

/** Default bound on the audit table. */
export const DEFAULT_AUDIT_MAX_ROWS = 10_000;
const DEFAULT_LIST_LIMIT = 100;

interface AuditRow {
  id: number;
  ts_ms: number;
  kind: string;
  decision: string;
  reason: string | null;
  device_id: string | null;
  request_id: string | null;
  peer: string | null;
  client: string | null;
  role: string | null;
  scopes_json: string | null;
  trace_json: string | null;
  actor: string | null;
}

type InsertRow = Omit<AuditRow, "id">;

const COLUMNS =
  "id, ts_ms, kind, decision, reason, device_id, request_id, peer, client, role, scopes_json, trace_json, actor";

/** Audit-log table access. */
export class AuditLog {
  readonly #ctx: StoreContext;
  readonly #maxRows: number;
  readonly #insert: Statement<[InsertRow]>;
  readonly #prune: Statement<[number]>;
  readonly #newest: Statement<[number], AuditRow>;
  readonly #newestForDevice: Statement<[string, number], AuditRow>;
  readonly #after: Statement<[number, number], AuditRow>;
  readonly #afterForDevice: Statement<[string, number, number], AuditRow>;
  /** Statements for the filter combinations actually used, prepared once each. */
  readonly #statements = new Map<string, Statement>();

  constructor(ctx: StoreContext, maxRows: number = DEFAULT_AUDIT_MAX_ROWS) {
    if (!Number.isInteger(maxRows) || maxRows < 1)
      throw new RangeError("auditMaxRows must be a positive integer");
    this.#ctx = ctx;
    this.#maxRows = maxRows;
    const db = ctx.db;
    this.#insert = db.prepare(
      `INSERT INTO audit_log (ts_ms, kind, decision, reason, device_id, request_id, peer, client, role,
         scopes_json, trace_json, actor)
       VALUES (@ts_ms, @kind, @decision, @reason, @device_id, @request_id, @peer, @client, @role,
         @scopes_json, @trace_json, @actor)`,
    );
    // Ids only grow (AUTOINCREMENT), so "id <= newest - max" is exactly the overflow; the primary
    // key makes it one range seek that usually deletes nothing or a single row.
    this.#prune = db.prepare("DELETE FROM audit_log WHERE id <= ?");
    this.#newest = db.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?`);
    this.#newestForDevice = db.prepare(
      `SELECT ${COLUMNS} FROM audit_log WHERE device_id = ? ORDER BY id DESC LIMIT ?`,
    );
    this.#after = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`);
    this.#afterForDevice = db.prepare(
      `SELECT ${COLUMNS} FROM audit_log WHERE device_id = ? AND id > ? ORDER BY id LIMIT ?`,
    );
  }

  /** Appends one row (pruning the oldest beyond the bound); returns its id. */
  append(entry: AuditEntry, nowMs: number): number {
    return this.#ctx.write(() => {
      const id = this.#insertRow(entry, nowMs);
      if (id > this.#maxRows) this.#prune.run(id - this.#maxRows);
      return id;
    });
  }

  /**
   * Appends rows in one transaction, pruning once after the last: what `append` in a loop does,
   * without a savepoint and a prune per row (the gateway's batched connect rows).
   */
  appendMany(rows: ReadonlyArray<{ entry: AuditEntry; ts: number }>): void {
    if (rows.length === 0) return;
    this.#ctx.write(() => {
      let id = 0;
      for (const { entry, ts } of rows) id = this.#insertRow(entry, ts);
      if (id > this.#maxRows) this.#prune.run(id - this.#maxRows);
    });
  }

  #insertRow(entry: AuditEntry, nowMs: number): number {
    return Number(
      this.#insert.run({
        ts_ms: nowMs,
        kind: entry.kind,
        decision: entry.decision,
        reason: entry.reason ?? null,
        device_id: entry.deviceId ?? null,
        request_id: entry.requestId ?? null,
        peer: entry.peer ?? null,
        client: entry.client ?? null,
        role:
          entry.role === undefined
            ? null
            : typeof entry.role === "string"
              ? entry.role
              : entry.role.join(","),
        scopes_json: entry.scopes ? encodeSet(entry.scopes) : null,
        trace_json: entry.trace ? JSON.stringify([...entry.trace]) : null,
        actor: entry.actor ?? null,
      }).lastInsertRowid,
    );
  }

  /** Rows matching the query: newest first, or oldest first after `afterId`. */
  list(query: AuditQuery = {}): AuditRecord[] {
    const requested =
      query.limit !== undefined && Number.isFinite(query.limit)
        ? Math.trunc(query.limit)
        : DEFAULT_LIST_LIMIT;
    const limit = Math.max(1, Math.min(requested, this.#maxRows));
    if (filtered(query)) return this.#filtered(query, limit);
    const rows = this.#ctx.read(() => {
      if (query.afterId !== undefined) {
        return query.deviceId !== undefined
          ? this.#afterForDevice.all(query.deviceId, query.afterId, limit)
          : this.#after.all(query.afterId, limit);
      }
      return query.deviceId !== undefined
        ? this.#newestForDevice.all(query.deviceId, limit)
        : this.#newest.all(limit);
    });
    return rows.map((row) => fromRow(row, this.#ctx.path));
  }

  /** How many rows match the query's filters (its limit and paging ignored). */
  count(query: Omit<AuditQuery, "limit" | "afterId" | "beforeId"> = {}): number {
    const { where, args } = whereOf(query);
    const sql = `SELECT COUNT(*) AS n FROM audit_log${where}`;
    return this.#ctx.read(() => (this.#prepared(sql).get(...args) as { n: number }).n);
  }

  /** The distinct decisions in the log, for filter menus. */
  decisions(): AuditDecision[] {
    const sql = "SELECT DISTINCT decision FROM audit_log ORDER BY decision";
    return this.#ctx.read(() =>
      (this.#prepared(sql).all() as Array<{ decision: string }>)
        .map((r) => r.decision)
        .filter(isAuditDecision),
    );
  }

  #filtered(query: AuditQuery, limit: number): AuditRecord[] {
    const { where, args } = whereOf(query);
    const order = query.afterId !== undefined ? "ASC" : "DESC";
    const sql = `SELECT ${COLUMNS} FROM audit_log${where} ORDER BY id ${order} LIMIT ?`;
    const rows = this.#ctx.read(() => this.#prepared(sql).all(...args, limit) as AuditRow[]);
    return rows.map((row) => fromRow(row, this.#ctx.path));
  }

  #prepared(sql: string): Statement {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#ctx.db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }
}

function filtered(q: AuditQuery): boolean {
  return q.beforeId !== undefined || q.decisions !== undefined || !!q.refusalsOnly || !!q.hideRoutine;
}

/** The WHERE clause (with its arguments) for a query's filters; decisions are bound, never spliced. */
function whereOf(q: AuditQuery): { where: string; args: Array<string | number> } {
  const clauses: string[] = [];
  const args: Array<string | number> = [];
  if (q.deviceId !== undefined) {
    clauses.push("device_id = ?");
    args.push(q.deviceId);
  }
  if (q.afterId !== undefined) {
    clauses.push("id > ?");
    args.push(q.afterId);
  }
  if (q.beforeId !== undefined) {
    clauses.push("id < ?");
    args.push(q.beforeId);
  }
  if (q.decisions !== undefined) {
    if (q.decisions.length === 0) clauses.push("0");
    else {
      clauses.push(`decision IN (${q.decisions.map(() => "?").join(", ")})`);
      args.push(...q.decisions);
    }
  }
  if (q.refusalsOnly) clauses.push(REFUSAL_SQL);
  if (q.hideRoutine) clauses.push(`NOT ${ROUTINE_SQL}`);
  return { where: clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "", args };
}

/** Only this module writes the table, so a kind or decision outside the unions means a damaged file. */
function fromRow(row: AuditRow, path: string): AuditRecord {
  const { kind, decision } = row;
  if (!isAuditKind(kind) || !isAuditDecision(decision)) {
    throw corruptStore(path, `audit row ${row.id} has unknown kind ${kind} or decision ${decision}`);
  }
  return {
    id: row.id,
    tsMs: row.ts_ms,
    kind,
    decision,
    reason: row.reason,
    deviceId: row.device_id,
    requestId: row.request_id,
    peer: row.peer,
    client: row.client,
    role: row.role,
    scopes: row.scopes_json === null ? null : (JSON.parse(row.scopes_json) as string[]),
    trace: row.trace_json === null ? null : (JSON.parse(row.trace_json) as string[]),
    actor: row.actor,
  };
}
