/**
 * Pending pairing requests: at most one per device. A device that retries with the same ask keeps
 * its requestId (S42); a device that changes what it asks for gets a new one, so an approver can
 * never approve more than what they were shown (C11).
 */
import type { GatewayRole } from "../protocol/client-info.js";
import { randomUUID } from "node:crypto";
import type { Statement } from "better-sqlite3";
import { decodeRoles, decodeSet, encodeSet, normalizeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { sameKey } from "./keys.js";

/** A pending pairing request as shown to approvers. */
export interface PendingRecord {
  requestId: string;
  deviceId: string;
  publicKey: string;
  reason: string;
  roles: GatewayRole[];
  scopes: string[];
  displayName: string | null;
  clientId: string | null;
  clientMode: string | null;
  platform: string | null;
  deviceFamily: string | null;
  remoteIp: string | null;
  /**
   * The Origin of the browser page that asked (normalized), null for a client that is no browser.
   * A different origin is a different ask: the approver sees where the device asks from (C11).
   */
  browserOrigin: string | null;
  /** The device was already paired when it asked (an upgrade or a key change). */
  isRepair: boolean;
  /**
   * The commands a node declared with this request (role node); approving the request pins them as
   * its command surface. Null for a request that carries no node connect.
   */
  commands: string[] | null;
  /** First time this exact ask was made; a refresh keeps it, so retries cannot jump the queue. */
  createdAtMs: number;
  refreshedAtMs: number;
  expiresAtMs: number;
}

/** What a connect asks for; the store assigns the id and the times. */
export type PendingInput = Omit<
  PendingRecord,
  "requestId" | "createdAtMs" | "refreshedAtMs" | "expiresAtMs" | "commands" | "browserOrigin"
> & { commands?: string[] | null; browserOrigin?: string | null };

/** Outcome of {@link PendingRepo.upsertForDevice}. */
export type PendingUpsert =
  | { kind: "refreshed" | "created"; request: PendingRecord; superseded: string[] }
  | { kind: "full"; limit: "total" | "per-ip" };

/** Caps on live requests, counted without the asking device's own request. */
export interface PendingCaps {
  total: number;
  perIp: number;
}

interface PendingRow {
  request_id: string;
  device_id: string;
  public_key: string;
  reason: string;
  roles_json: string;
  scopes_json: string;
  display_name: string | null;
  client_id: string | null;
  client_mode: string | null;
  platform: string | null;
  device_family: string | null;
  remote_ip: string | null;
  browser_origin: string | null;
  is_repair: number;
  commands_json: string | null;
  created_at_ms: number;
  refreshed_at_ms: number;
  expires_at_ms: number;
}

const COLUMNS =
  "request_id, device_id, public_key, reason, roles_json, scopes_json, display_name, client_id, client_mode, " +
  "platform, device_family, remote_ip, browser_origin, is_repair, commands_json, created_at_ms, refreshed_at_ms, " +
  "expires_at_ms";

/** Pending-request table access. Rows past `expires_at_ms` are invisible to every read. */
export class PendingRepo {
  readonly #ctx: StoreContext;
  readonly #byDeviceAny: Statement<[string], PendingRow>;
  readonly #byDevice: Statement<[string, number], PendingRow>;
  readonly #byId: Statement<[string, number], PendingRow>;
  readonly #list: Statement<[number], PendingRow>;
  readonly #countOthers: Statement<[number, string], { n: number }>;
  readonly #countOthersFromIp: Statement<[string, number, string], { n: number }>;
  readonly #insert: Statement<[PendingRow]>;
  readonly #refresh: Statement<[PendingRow]>;
  readonly #remove: Statement<[string]>;
  readonly #removeForDevice: Statement<[string]>;
  readonly #pruneExpired: Statement<[number], { request_id: string }>;
  readonly #listExpired: Statement<[number], PendingRow>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#byDeviceAny = db.prepare(`SELECT ${COLUMNS} FROM pending_requests WHERE device_id = ?`);
    this.#byDevice = db.prepare(
      `SELECT ${COLUMNS} FROM pending_requests WHERE device_id = ? AND expires_at_ms > ?`,
    );
    this.#byId = db.prepare(
      `SELECT ${COLUMNS} FROM pending_requests WHERE request_id = ? AND expires_at_ms > ?`,
    );
    this.#list = db.prepare(
      `SELECT ${COLUMNS} FROM pending_requests WHERE expires_at_ms > ?
       ORDER BY created_at_ms DESC, rowid DESC`,
    );
    this.#countOthers = db.prepare(
      "SELECT COUNT(*) AS n FROM pending_requests WHERE expires_at_ms > ? AND device_id <> ?",
    );
    this.#countOthersFromIp = db.prepare(
      `SELECT COUNT(*) AS n FROM pending_requests
       WHERE remote_ip = ? AND expires_at_ms > ? AND device_id <> ?`,
    );
    this.#insert = db.prepare(
      `INSERT INTO pending_requests (${COLUMNS}) VALUES (@request_id, @device_id, @public_key, @reason,
         @roles_json, @scopes_json, @display_name, @client_id, @client_mode, @platform, @device_family,
         @remote_ip, @browser_origin, @is_repair, @commands_json, @created_at_ms, @refreshed_at_ms, @expires_at_ms)`,
    );
    this.#refresh = db.prepare(
      `UPDATE pending_requests SET reason = @reason, display_name = @display_name, client_id = @client_id,
         client_mode = @client_mode, platform = @platform, device_family = @device_family,
         remote_ip = @remote_ip, is_repair = @is_repair, refreshed_at_ms = @refreshed_at_ms,
         expires_at_ms = @expires_at_ms
       WHERE request_id = @request_id`,
    );
    this.#remove = db.prepare("DELETE FROM pending_requests WHERE request_id = ?");
    this.#removeForDevice = db.prepare("DELETE FROM pending_requests WHERE device_id = ?");
    this.#pruneExpired = db.prepare(
      "DELETE FROM pending_requests WHERE expires_at_ms <= ? RETURNING request_id",
    );
    this.#listExpired = db.prepare(
      `SELECT ${COLUMNS} FROM pending_requests WHERE expires_at_ms <= ? ORDER BY expires_at_ms, rowid`,
    );
  }

  /** The device's live request, or null. */
  getByDevice(deviceId: string, nowMs: number): PendingRecord | null {
    const row = this.#ctx.read(() => this.#byDevice.get(deviceId, nowMs));
    return row ? fromRow(row) : null;
  }

  /** A live request by id, or null (unknown, resolved, superseded or expired). */
  get(requestId: string, nowMs: number): PendingRecord | null {
    const row = this.#ctx.read(() => this.#byId.get(requestId, nowMs));
    return row ? fromRow(row) : null;
  }

  /** Every live request, newest first. */
  list(nowMs: number): PendingRecord[] {
    return this.#ctx.read(() => this.#list.all(nowMs)).map(fromRow);
  }

  /**
   * Records what a device asks for. The same ask (key, roles, scopes, node commands, browser
   * Origin) as its live request refreshes that request in place; a different ask replaces it under
   * a new requestId and reports the old id in `superseded`. A new request is refused ("full") when the caps are reached.
   */
  upsertForDevice(input: PendingInput, nowMs: number, ttlMs: number, caps: PendingCaps): PendingUpsert {
    return this.#ctx.write((): PendingUpsert => {
      const existing = this.#byDeviceAny.get(input.deviceId);
      const live = existing && existing.expires_at_ms > nowMs ? fromRow(existing) : null;
      // A connect that is not a node's (no commands) keeps what the node declared before.
      const commands = input.commands ? decodeSet(encodeSet(input.commands)) : (live?.commands ?? null);
      const expiresAtMs = nowMs + ttlMs;
      const browserOrigin = input.browserOrigin ?? null;
      if (
        live &&
        sameKey(live.publicKey, input.publicKey) &&
        encodeSet(live.roles) === encodeSet(input.roles) &&
        encodeSet(live.scopes) === encodeSet(input.scopes) &&
        sameCommands(live.commands, commands) &&
        live.browserOrigin === browserOrigin
      ) {
        const request: PendingRecord = {
          ...input,
          browserOrigin,
          commands: live.commands,
          requestId: live.requestId,
          publicKey: live.publicKey,
          roles: live.roles,
          scopes: live.scopes,
          createdAtMs: live.createdAtMs,
          refreshedAtMs: nowMs,
          expiresAtMs,
        };
        this.#refresh.run(toRow(request));
        return { kind: "refreshed", request, superseded: [] };
      }
      if (this.#countOthers.get(nowMs, input.deviceId)!.n >= caps.total)
        return { kind: "full", limit: "total" };
      if (
        input.remoteIp !== null &&
        this.#countOthersFromIp.get(input.remoteIp, nowMs, input.deviceId)!.n >= caps.perIp
      ) {
        return { kind: "full", limit: "per-ip" };
      }
      // An expired row still occupies the device's slot; it goes silently, it was never live to anyone.
      if (existing) this.#remove.run(existing.request_id);
      const request: PendingRecord = {
        ...input,
        requestId: randomUUID(),
        commands,
        browserOrigin,
        roles: normalizeSet(input.roles),
        scopes: decodeSet(encodeSet(input.scopes)),
        createdAtMs: nowMs,
        refreshedAtMs: nowMs,
        expiresAtMs,
      };
      this.#insert.run(toRow(request));
      return { kind: "created", request, superseded: live ? [live.requestId] : [] };
    });
  }

  /** Drops one request (rejected or resolved). False if there was none. */
  remove(requestId: string): boolean {
    return this.#ctx.write(() => this.#remove.run(requestId).changes > 0);
  }

  /** Drops whatever request the device has. */
  removeForDevice(deviceId: string): void {
    this.#ctx.write(() => this.#removeForDevice.run(deviceId));
  }

  /** Requests past their expiry that are still stored (invisible to every other read), oldest first. */
  listExpired(nowMs: number): PendingRecord[] {
    return this.#ctx.read(() => this.#listExpired.all(nowMs)).map(fromRow);
  }

  /** Deletes expired requests and returns their ids (for `device.pair.resolved` events). */
  pruneExpired(nowMs: number): string[] {
    return this.#ctx.write(() => this.#pruneExpired.all(nowMs)).map((r) => r.request_id);
  }
}

function sameCommands(a: readonly string[] | null, b: readonly string[] | null): boolean {
  return a === null || b === null ? a === b : encodeSet(a) === encodeSet(b);
}

function fromRow(row: PendingRow): PendingRecord {
  return {
    requestId: row.request_id,
    deviceId: row.device_id,
    publicKey: row.public_key,
    reason: row.reason,
    roles: decodeRoles(row.roles_json),
    scopes: decodeSet(row.scopes_json),
    displayName: row.display_name,
    clientId: row.client_id,
    clientMode: row.client_mode,
    platform: row.platform,
    deviceFamily: row.device_family,
    remoteIp: row.remote_ip,
    browserOrigin: row.browser_origin,
    isRepair: row.is_repair !== 0,
    commands: row.commands_json === null ? null : decodeSet(row.commands_json),
    createdAtMs: row.created_at_ms,
    refreshedAtMs: row.refreshed_at_ms,
    expiresAtMs: row.expires_at_ms,
  };
}

function toRow(r: PendingRecord): PendingRow {
  return {
    request_id: r.requestId,
    device_id: r.deviceId,
    public_key: r.publicKey,
    reason: r.reason,
    roles_json: encodeSet(r.roles),
    scopes_json: encodeSet(r.scopes),
    display_name: r.displayName ?? null,
    client_id: r.clientId ?? null,
    client_mode: r.clientMode ?? null,
    platform: r.platform ?? null,
    device_family: r.deviceFamily ?? null,
    remote_ip: r.remoteIp ?? null,
    browser_origin: r.browserOrigin ?? null,
    is_repair: r.isRepair ? 1 : 0,
    commands_json: r.commands === null ? null : encodeSet(r.commands),
    created_at_ms: r.createdAtMs,
    refreshed_at_ms: r.refreshedAtMs,
    expires_at_ms: r.expiresAtMs,
  };
}
