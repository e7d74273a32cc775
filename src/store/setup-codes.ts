/**
 * Setup codes: short, single-use, expiring codes that pre-approve one device with a profile. Only
 * the SHA-256 of a code is stored; the cleartext exists once, in what the minting call returns.
 * Redemption is one conditional UPDATE, so two devices racing with the same code cannot both win.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { Statement } from "better-sqlite3";
import { decodeRoles, decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { hashToken } from "./tokens.js";

/** A setup code as listed: everything but the code. */
export interface SetupCodeRecord {
  /** SHA-256 of the normalized code (hex); identifies the code without revealing it. */
  codeHash: string;
  profile: string;
  roles: GatewayRole[];
  scopes: string[];
  gatewayUrl: string | null;
  fingerprint: string | null;
  createdBy: string | null;
  createdAtMs: number;
  expiresAtMs: number;
  usedAtMs: number | null;
  usedByDevice: string | null;
}

/** What minting stores (the store hashes the code). */
export interface SetupCodeInput {
  code: string;
  profile: string;
  roles: readonly GatewayRole[];
  scopes: readonly string[];
  gatewayUrl: string | null;
  fingerprint: string | null;
  createdBy: string | null;
  createdAtMs: number;
  expiresAtMs: number;
}

/** Outcome of looking a presented code up; `why` is for logs and audit, never for the client. */
export type SetupCodeLookup =
  | { kind: "valid"; record: SetupCodeRecord }
  | { kind: "invalid"; why: "unknown" | "expired"; record?: SetupCodeRecord }
  | { kind: "invalid"; why: "used"; record: SetupCodeRecord };

interface Row {
  code_hash: string;
  profile: string;
  roles_json: string;
  scopes_json: string;
  gateway_url: string | null;
  fingerprint: string | null;
  created_by: string | null;
  created_at_ms: number;
  expires_at_ms: number;
  used_at_ms: number | null;
  used_by_device: string | null;
}

const COLUMNS =
  "code_hash, profile, roles_json, scopes_json, gateway_url, fingerprint, created_by, created_at_ms, " +
  "expires_at_ms, used_at_ms, used_by_device";

/** Hash of a (normalized) code, as stored. */
export function hashSetupCode(code: string): string {
  return hashToken(code);
}

function toRecord(row: Row): SetupCodeRecord {
  return {
    codeHash: row.code_hash,
    profile: row.profile,
    roles: decodeRoles(row.roles_json),
    scopes: decodeSet(row.scopes_json),
    gatewayUrl: row.gateway_url,
    fingerprint: row.fingerprint,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    usedAtMs: row.used_at_ms,
    usedByDevice: row.used_by_device,
  };
}

/** Setup-code table access. */
export class SetupCodeRepo {
  readonly #ctx: StoreContext;
  readonly #insert: Statement<[Row]>;
  readonly #byHash: Statement<[string], Row>;
  readonly #redeem: Statement<[number, string, string, number]>;
  readonly #live: Statement<[number], Row>;
  readonly #revoke: Statement<[number, number, string]>;
  readonly #prune: Statement<[number, number]>;
  readonly #revokeCreatedBy: Statement<[number, number, string]>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#insert = db.prepare(
      `INSERT INTO setup_codes (${COLUMNS}) VALUES (@code_hash, @profile, @roles_json, @scopes_json,
       @gateway_url, @fingerprint, @created_by, @created_at_ms, @expires_at_ms, @used_at_ms, @used_by_device)`,
    );
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM setup_codes WHERE code_hash = ?`);
    this.#redeem = db.prepare(
      `UPDATE setup_codes SET used_at_ms = ?, used_by_device = ?
       WHERE code_hash = ? AND used_at_ms IS NULL AND expires_at_ms > ?`,
    );
    this.#live = db.prepare(
      `SELECT ${COLUMNS} FROM setup_codes WHERE used_at_ms IS NULL AND expires_at_ms > ? ORDER BY created_at_ms`,
    );
    this.#revoke = db.prepare(
      `UPDATE setup_codes SET expires_at_ms = MIN(expires_at_ms, ?)
       WHERE used_at_ms IS NULL AND expires_at_ms > ? AND code_hash = ?`,
    );
    this.#prune = db.prepare("DELETE FROM setup_codes WHERE expires_at_ms <= ? OR used_at_ms <= ?");
    this.#revokeCreatedBy = db.prepare(
      `UPDATE setup_codes SET expires_at_ms = MIN(expires_at_ms, ?)
       WHERE used_at_ms IS NULL AND expires_at_ms > ? AND created_by = ?`,
    );
  }

  /** Stores a new code (as its hash); returns the stored record. */
  create(input: SetupCodeInput): SetupCodeRecord {
    const row: Row = {
      code_hash: hashSetupCode(input.code),
      profile: input.profile,
      roles_json: encodeSet(input.roles),
      scopes_json: encodeSet(input.scopes),
      gateway_url: input.gatewayUrl,
      fingerprint: input.fingerprint,
      created_by: input.createdBy,
      created_at_ms: input.createdAtMs,
      expires_at_ms: input.expiresAtMs,
      used_at_ms: null,
      used_by_device: null,
    };
    this.#ctx.write(() => this.#insert.run(row));
    return toRecord(row);
  }

  /** Looks a presented (normalized) code up without changing anything. */
  lookup(code: string, nowMs: number): SetupCodeLookup {
    if (code.length === 0) return { kind: "invalid", why: "unknown" };
    const row = this.#ctx.read(() => this.#byHash.get(hashSetupCode(code)));
    if (!row) return { kind: "invalid", why: "unknown" };
    const record = toRecord(row);
    if (record.usedAtMs !== null) return { kind: "invalid", why: "used", record };
    if (record.expiresAtMs <= nowMs) return { kind: "invalid", why: "expired", record };
    return { kind: "valid", record };
  }

  /**
   * Marks the code used by `deviceId`; true only for the one caller that found it unused and
   * unexpired. Call inside the transaction that approves the device.
   */
  redeem(codeHash: string, deviceId: string, nowMs: number): boolean {
    return this.#ctx.write(() => this.#redeem.run(nowMs, deviceId, codeHash, nowMs).changes === 1);
  }

  /** Codes that can still be redeemed, oldest first. */
  listLive(nowMs: number): SetupCodeRecord[] {
    return this.#ctx.read(() => this.#live.all(nowMs)).map(toRecord);
  }

  /** Ends a live code now (by hash); true when there was one. */
  revoke(codeHash: string, nowMs: number): boolean {
    return this.#ctx.write(() => this.#revoke.run(nowMs, nowMs, codeHash).changes === 1);
  }

  /** Ends every live code minted by `createdBy` (an actor such as `device:<id>`); returns how many. */
  revokeCreatedBy(createdBy: string, nowMs: number): number {
    return this.#ctx.write(() => this.#revokeCreatedBy.run(nowMs, nowMs, createdBy).changes);
  }

  /** Deletes codes that expired, or were used, at or before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.#ctx.write(() => this.#prune.run(beforeMs, beforeMs).changes);
  }
}
