/**
 * Node command surfaces: per paired device, the commands approved for it as a node (pinned), and at
 * most one pending request to widen them. Both rows belong to the device record and go with it.
 * A node that retries with the same declared surface keeps its requestId; a different surface
 * replaces the request under a new id, so an approver never approves more than they were shown.
 */
import { randomUUID } from "node:crypto";
import type { Statement } from "better-sqlite3";
import { decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";

/** How a surface came to be pinned. */
export type SurfaceApprovedVia =
  "owner-key" | "setup-code" | "device-approval" | "node-approval" | "imported";

/** A pinned surface. */
export interface NodeSurfaceRecord {
  deviceId: string;
  /** Approved commands, sorted. */
  commands: string[];
  approvedVia: SurfaceApprovedVia;
  /** The audit actor that approved it (`device:<id>`, `cli/cli`, ...); null when pinned by the node's own proof. */
  approvedBy: string | null;
  createdAtMs: number;
  approvedAtMs: number;
}

/** A pending request to (re)approve a node's declared surface. */
export interface SurfaceRequestRecord {
  requestId: string;
  deviceId: string;
  /** The whole declared surface asked for, sorted. */
  commands: string[];
  displayName: string | null;
  clientId: string | null;
  clientMode: string | null;
  platform: string | null;
  deviceFamily: string | null;
  version: string | null;
  remoteIp: string | null;
  /** When this exact surface was first asked for; a refresh keeps it. */
  createdAtMs: number;
  refreshedAtMs: number;
}

/** What a node's connect asks for; the store assigns the id and the times. */
export type SurfaceRequestInput = Omit<SurfaceRequestRecord, "requestId" | "createdAtMs" | "refreshedAtMs">;

/** Outcome of {@link NodeSurfaceRepo.upsertRequest}. */
export interface SurfaceRequestUpsert {
  kind: "created" | "refreshed";
  request: SurfaceRequestRecord;
  /** The id of a request this one replaced (the node now declares a different surface). */
  superseded: string | null;
}

interface SurfaceRow {
  device_id: string;
  commands_json: string;
  approved_via: string;
  approved_by: string | null;
  created_at_ms: number;
  approved_at_ms: number;
}

interface RequestRow {
  request_id: string;
  device_id: string;
  commands_json: string;
  display_name: string | null;
  client_id: string | null;
  client_mode: string | null;
  platform: string | null;
  device_family: string | null;
  version: string | null;
  remote_ip: string | null;
  created_at_ms: number;
  refreshed_at_ms: number;
}

const SURFACE_COLUMNS = "device_id, commands_json, approved_via, approved_by, created_at_ms, approved_at_ms";
const REQUEST_COLUMNS =
  "request_id, device_id, commands_json, display_name, client_id, client_mode, platform, device_family, " +
  "version, remote_ip, created_at_ms, refreshed_at_ms";

/** Surface and surface-request table access. */
export class NodeSurfaceRepo {
  readonly #ctx: StoreContext;
  readonly #get: Statement<[string], SurfaceRow>;
  readonly #list: Statement<[], SurfaceRow>;
  readonly #pin: Statement<[SurfaceRow]>;
  readonly #removeSurface: Statement<[string]>;
  readonly #requestById: Statement<[string], RequestRow>;
  readonly #requestByDevice: Statement<[string], RequestRow>;
  readonly #requests: Statement<[], RequestRow>;
  readonly #insertRequest: Statement<[RequestRow]>;
  readonly #refreshRequest: Statement<[RequestRow]>;
  readonly #removeRequest: Statement<[string]>;
  readonly #removeRequestForDevice: Statement<[string]>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#get = db.prepare(`SELECT ${SURFACE_COLUMNS} FROM node_surfaces WHERE device_id = ?`);
    this.#list = db.prepare(
      `SELECT ${SURFACE_COLUMNS} FROM node_surfaces ORDER BY approved_at_ms DESC, device_id`,
    );
    this.#pin = db.prepare(
      `INSERT INTO node_surfaces (${SURFACE_COLUMNS}) VALUES (@device_id, @commands_json, @approved_via,
         @approved_by, @created_at_ms, @approved_at_ms)
       ON CONFLICT (device_id) DO UPDATE SET commands_json = excluded.commands_json,
         approved_via = excluded.approved_via, approved_by = excluded.approved_by,
         approved_at_ms = excluded.approved_at_ms`,
    );
    this.#removeSurface = db.prepare("DELETE FROM node_surfaces WHERE device_id = ?");
    this.#requestById = db.prepare(
      `SELECT ${REQUEST_COLUMNS} FROM node_surface_requests WHERE request_id = ?`,
    );
    this.#requestByDevice = db.prepare(
      `SELECT ${REQUEST_COLUMNS} FROM node_surface_requests WHERE device_id = ?`,
    );
    this.#requests = db.prepare(
      `SELECT ${REQUEST_COLUMNS} FROM node_surface_requests ORDER BY created_at_ms DESC, rowid DESC`,
    );
    this.#insertRequest = db.prepare(
      `INSERT INTO node_surface_requests (${REQUEST_COLUMNS}) VALUES (@request_id, @device_id, @commands_json,
         @display_name, @client_id, @client_mode, @platform, @device_family, @version, @remote_ip,
         @created_at_ms, @refreshed_at_ms)`,
    );
    this.#refreshRequest = db.prepare(
      `UPDATE node_surface_requests SET display_name = @display_name, client_id = @client_id,
         client_mode = @client_mode, platform = @platform, device_family = @device_family, version = @version,
         remote_ip = @remote_ip, refreshed_at_ms = @refreshed_at_ms
       WHERE request_id = @request_id`,
    );
    this.#removeRequest = db.prepare("DELETE FROM node_surface_requests WHERE request_id = ?");
    this.#removeRequestForDevice = db.prepare("DELETE FROM node_surface_requests WHERE device_id = ?");
  }

  /** The device's pinned surface, or null when none was ever approved. */
  get(deviceId: string): NodeSurfaceRecord | null {
    const row = this.#ctx.read(() => this.#get.get(deviceId));
    return row ? surfaceFromRow(row) : null;
  }

  /** Every pinned surface, most recently approved first. */
  list(): NodeSurfaceRecord[] {
    return this.#ctx.read(() => this.#list.all()).map(surfaceFromRow);
  }

  /**
   * Pins `commands` as the device's surface (replacing what was pinned) and drops its pending
   * surface request, which this approval answers.
   */
  pin(
    deviceId: string,
    commands: readonly string[],
    via: SurfaceApprovedVia,
    approvedBy: string | null,
    nowMs: number,
  ): NodeSurfaceRecord {
    return this.#ctx.write(() => {
      const existing = this.#get.get(deviceId);
      const record: NodeSurfaceRecord = {
        deviceId,
        commands: decodeSet(encodeSet(commands)),
        approvedVia: via,
        approvedBy,
        createdAtMs: existing?.created_at_ms ?? nowMs,
        approvedAtMs: nowMs,
      };
      this.#pin.run(surfaceToRow(record));
      this.#removeRequestForDevice.run(deviceId);
      return record;
    });
  }

  /** Drops the device's surface and its pending request (its node role ended). */
  clear(deviceId: string): void {
    this.#ctx.write(() => {
      this.#removeSurface.run(deviceId);
      this.#removeRequestForDevice.run(deviceId);
    });
  }

  /** A pending surface request by id, or null (unknown, resolved or superseded). */
  getRequest(requestId: string): SurfaceRequestRecord | null {
    const row = this.#ctx.read(() => this.#requestById.get(requestId));
    return row ? requestFromRow(row) : null;
  }

  /** The device's pending surface request, or null. */
  requestFor(deviceId: string): SurfaceRequestRecord | null {
    const row = this.#ctx.read(() => this.#requestByDevice.get(deviceId));
    return row ? requestFromRow(row) : null;
  }

  /** Every pending surface request, newest first. */
  requests(): SurfaceRequestRecord[] {
    return this.#ctx.read(() => this.#requests.all()).map(requestFromRow);
  }

  /**
   * Records the surface a node asks for. The same commands as its pending request refresh that
   * request in place; different commands replace it under a new requestId.
   */
  upsertRequest(input: SurfaceRequestInput, nowMs: number): SurfaceRequestUpsert {
    return this.#ctx.write((): SurfaceRequestUpsert => {
      const existing = this.#requestByDevice.get(input.deviceId);
      const commands = decodeSet(encodeSet(input.commands));
      if (existing && existing.commands_json === encodeSet(commands)) {
        const request: SurfaceRequestRecord = {
          ...input,
          commands,
          requestId: existing.request_id,
          createdAtMs: existing.created_at_ms,
          refreshedAtMs: nowMs,
        };
        this.#refreshRequest.run(requestToRow(request));
        return { kind: "refreshed", request, superseded: null };
      }
      if (existing) this.#removeRequest.run(existing.request_id);
      const request: SurfaceRequestRecord = {
        ...input,
        commands,
        requestId: randomUUID(),
        createdAtMs: nowMs,
        refreshedAtMs: nowMs,
      };
      this.#insertRequest.run(requestToRow(request));
      return { kind: "created", request, superseded: existing?.request_id ?? null };
    });
  }

  /** Drops one surface request (rejected, or moot). False if there was none. */
  removeRequest(requestId: string): boolean {
    return this.#ctx.write(() => this.#removeRequest.run(requestId).changes > 0);
  }
}

function surfaceFromRow(row: SurfaceRow): NodeSurfaceRecord {
  return {
    deviceId: row.device_id,
    commands: decodeSet(row.commands_json),
    approvedVia: row.approved_via as SurfaceApprovedVia,
    approvedBy: row.approved_by,
    createdAtMs: row.created_at_ms,
    approvedAtMs: row.approved_at_ms,
  };
}

function surfaceToRow(r: NodeSurfaceRecord): SurfaceRow {
  return {
    device_id: r.deviceId,
    commands_json: encodeSet(r.commands),
    approved_via: r.approvedVia,
    approved_by: r.approvedBy,
    created_at_ms: r.createdAtMs,
    approved_at_ms: r.approvedAtMs,
  };
}

function requestFromRow(row: RequestRow): SurfaceRequestRecord {
  return {
    requestId: row.request_id,
    deviceId: row.device_id,
    commands: decodeSet(row.commands_json),
    displayName: row.display_name,
    clientId: row.client_id,
    clientMode: row.client_mode,
    platform: row.platform,
    deviceFamily: row.device_family,
    version: row.version,
    remoteIp: row.remote_ip,
    createdAtMs: row.created_at_ms,
    refreshedAtMs: row.refreshed_at_ms,
  };
}

function requestToRow(r: SurfaceRequestRecord): RequestRow {
  return {
    request_id: r.requestId,
    device_id: r.deviceId,
    commands_json: encodeSet(r.commands),
    display_name: r.displayName ?? null,
    client_id: r.clientId ?? null,
    client_mode: r.clientMode ?? null,
    platform: r.platform ?? null,
    device_family: r.deviceFamily ?? null,
    version: r.version ?? null,
    remote_ip: r.remoteIp ?? null,
    created_at_ms: r.createdAtMs,
    refreshed_at_ms: r.refreshedAtMs,
  };
}
