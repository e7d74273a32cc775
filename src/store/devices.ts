/** Paired devices: one row per deviceId with its pinned key, approved roles and scope baseline. */
import type { GatewayRole } from "../protocol/client-info.js";
import type { Statement } from "better-sqlite3";
import { decodeRoles, decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";

/** How a device came to be paired. */
export type ApprovedVia = "owner" | "silent" | "approved" | "imported" | "setup-code";

/** A paired device as the rest of Gatehouse sees it. */
export interface DeviceRecord {
  deviceId: string;
  /** Raw Ed25519 public key, base64url: the key this deviceId is pinned to. */
  publicKey: string;
  displayName: string | null;
  /** Owner-set label; never set by the device itself. */
  label: string | null;
  clientId: string | null;
  clientMode: string | null;
  platform: string | null;
  deviceFamily: string | null;
  /** Approved roles, sorted. */
  roles: GatewayRole[];
  /** Approved scope baseline, sorted. */
  scopes: string[];
  approvedVia: ApprovedVia;
  createdAtMs: number;
  approvedAtMs: number;
  lastSeenAtMs: number | null;
  lastSeenIp: string | null;
}

interface DeviceRow {
  device_id: string;
  public_key: string;
  display_name: string | null;
  label: string | null;
  client_id: string | null;
  client_mode: string | null;
  platform: string | null;
  device_family: string | null;
  roles_json: string;
  scopes_json: string;
  approved_via: string;
  created_at_ms: number;
  approved_at_ms: number;
  last_seen_at_ms: number | null;
  last_seen_ip: string | null;
}

const COLUMNS =
  "device_id, public_key, display_name, label, client_id, client_mode, platform, device_family, " +
  "roles_json, scopes_json, approved_via, created_at_ms, approved_at_ms, last_seen_at_ms, last_seen_ip";

/** Paired-device table access; statements are prepared once per store. */
export class DeviceRepo {
  readonly #ctx: StoreContext;
  readonly #get: Statement<[string], DeviceRow>;
  readonly #list: Statement<[], DeviceRow>;
  readonly #count: Statement<[], { n: number }>;
  readonly #upsert: Statement<[DeviceRow]>;
  readonly #remove: Statement<[string]>;
  readonly #removePending: Statement<[string]>;
  readonly #rename: Statement<[string | null, string]>;
  readonly #touch: Statement<[number, string | null, string]>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM devices WHERE device_id = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM devices ORDER BY approved_at_ms DESC, device_id`);
    this.#count = db.prepare("SELECT COUNT(*) AS n FROM devices");
    // ON CONFLICT DO UPDATE, not INSERT OR REPLACE: a replace deletes the row and would cascade
    // away the device's tokens.
    this.#upsert = db.prepare(
      `INSERT INTO devices (${COLUMNS}) VALUES (@device_id, @public_key, @display_name, @label, @client_id,
         @client_mode, @platform, @device_family, @roles_json, @scopes_json, @approved_via, @created_at_ms,
         @approved_at_ms, @last_seen_at_ms, @last_seen_ip)
       ON CONFLICT (device_id) DO UPDATE SET
         public_key = excluded.public_key, display_name = excluded.display_name, label = excluded.label,
         client_id = excluded.client_id, client_mode = excluded.client_mode, platform = excluded.platform,
         device_family = excluded.device_family, roles_json = excluded.roles_json,
         scopes_json = excluded.scopes_json, approved_via = excluded.approved_via,
         created_at_ms = excluded.created_at_ms, approved_at_ms = excluded.approved_at_ms,
         last_seen_at_ms = excluded.last_seen_at_ms, last_seen_ip = excluded.last_seen_ip`,
    );
    this.#remove = db.prepare("DELETE FROM devices WHERE device_id = ?");
    this.#removePending = db.prepare("DELETE FROM pending_requests WHERE device_id = ?");
    this.#rename = db.prepare("UPDATE devices SET label = ? WHERE device_id = ?");
    this.#touch = db.prepare("UPDATE devices SET last_seen_at_ms = ?, last_seen_ip = ? WHERE device_id = ?");
  }

  /** The paired record for a deviceId, or null. */
  get(deviceId: string): DeviceRecord | null {
    const row = this.#ctx.read(() => this.#get.get(deviceId));
    return row ? fromRow(row) : null;
  }

  /** Every paired device, most recently approved first. */
  list(): DeviceRecord[] {
    return this.#ctx.read(() => this.#list.all()).map(fromRow);
  }

  /** How many devices are paired. */
  count(): number {
    return this.#ctx.read(() => this.#count.get())?.n ?? 0;
  }

  /** Inserts or replaces the record for `record.deviceId`; its tokens are kept. */
  upsert(record: DeviceRecord): void {
    this.#ctx.write(() => this.#upsert.run(toRow(record)));
  }

  /** Unpairs a device: its tokens and pending request go with it. False if it was not paired. */
  remove(deviceId: string): boolean {
    return this.#ctx.write(() => {
      this.#removePending.run(deviceId);
      return this.#remove.run(deviceId).changes > 0;
    });
  }

  /** Sets (or, with null, clears) the owner's label for a device. False if it is not paired. */
  rename(deviceId: string, label: string | null): boolean {
    return this.#ctx.write(() => this.#rename.run(label, deviceId).changes > 0);
  }

  /** Records when and from where the device was last admitted. */
  touch(deviceId: string, ip: string | null, nowMs: number): void {
    this.#ctx.write(() => this.#touch.run(nowMs, ip, deviceId));
  }
}

function fromRow(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    publicKey: row.public_key,
    displayName: row.display_name,
    label: row.label,
    clientId: row.client_id,
    clientMode: row.client_mode,
    platform: row.platform,
    deviceFamily: row.device_family,
    roles: decodeRoles(row.roles_json),
    scopes: decodeSet(row.scopes_json),
    approvedVia: row.approved_via as ApprovedVia,
    createdAtMs: row.created_at_ms,
    approvedAtMs: row.approved_at_ms,
    lastSeenAtMs: row.last_seen_at_ms,
    lastSeenIp: row.last_seen_ip,
  };
}

function toRow(r: DeviceRecord): DeviceRow {
  return {
    device_id: r.deviceId,
    public_key: r.publicKey,
    display_name: r.displayName ?? null,
    label: r.label ?? null,
    client_id: r.clientId ?? null,
    client_mode: r.clientMode ?? null,
    platform: r.platform ?? null,
    device_family: r.deviceFamily ?? null,
    roles_json: encodeSet(r.roles),
    scopes_json: encodeSet(r.scopes),
    approved_via: r.approvedVia,
    created_at_ms: r.createdAtMs,
    approved_at_ms: r.approvedAtMs,
    last_seen_at_ms: r.lastSeenAtMs ?? null,
    last_seen_ip: r.lastSeenIp ?? null,
  };
}
