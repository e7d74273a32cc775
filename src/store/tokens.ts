/**
 * Device tokens, one per (device, role). Only the SHA-256 of a token is stored: a copy of the
 * database (a backup, a support bundle) does not hand out working credentials. The cleartext
 * exists once, in the return value of {@link TokenRepo.issue}.
 */
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Statement } from "better-sqlite3";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { writeFailed } from "./errors.js";

/** A device token as listed: everything but the secret. */
export interface TokenRecord {
  deviceId: string;
  role: GatewayRole;
  scopes: string[];
  createdAtMs: number;
  rotatedAtMs: number | null;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
}

/** Outcome of checking a presented device token. */
export type TokenVerdict = { kind: "valid"; scopes: string[] } | { kind: "revoked" } | { kind: "mismatch" };

/** A token carried over from another store, still in cleartext (it is hashed on the way in). */
export interface ImportedToken {
  role: GatewayRole;
  token: string;
  scopes: readonly string[];
  createdAtMs: number;
  rotatedAtMs: number | null;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
}

interface TokenRow {
  device_id: string;
  role: string;
  scopes_json: string;
  created_at_ms: number;
  rotated_at_ms: number | null;
  revoked_at_ms: number | null;
  last_used_at_ms: number | null;
}

interface PutRow extends TokenRow {
  token_hash: string;
}

const TOKEN_BYTES = 32;

/** Hex SHA-256 of a token's UTF-8 text: the only form a token takes at rest. */
export function hashToken(token: string): string {
  // One-shot (a string is hashed as UTF-8): a connect checks a token without a Hash object.
  return hash("sha256", token, "hex");
}

/** One (device, role) slot as read for a connect: its hash, scopes and whether it is revoked. */
export interface TokenSlot {
  readonly hash: string;
  readonly scopes: string[];
  readonly revoked: boolean;
}

/** Every slot of one device, by role: the token states and the hashes from one read. */
export type TokenSlots = Partial<Record<GatewayRole, TokenSlot>>;

/**
 * Checks a presented token against a slot already read, in constant time. "revoked" only when it
 * matches a revoked slot, so a wrong token never learns whether the real one was revoked.
 */
export function checkToken(slot: TokenSlot | undefined, presented: string): TokenVerdict {
  if (!slot || presented.length === 0) return { kind: "mismatch" };
  const stored = Buffer.from(slot.hash, "hex");
  const given = hash("sha256", presented, "buffer");
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return { kind: "mismatch" };
  if (slot.revoked) return { kind: "revoked" };
  return { kind: "valid", scopes: [...slot.scopes] };
}

/** The policy's view of a device's slots: revoked or not, and the scopes each token carries. */
export function slotStates(
  slots: TokenSlots,
): Partial<Record<GatewayRole, { revoked: boolean; scopes: string[] }>> {
  const out: Partial<Record<GatewayRole, { revoked: boolean; scopes: string[] }>> = {};
  for (const [role, slot] of Object.entries(slots) as [GatewayRole, TokenSlot][]) {
    out[role] = { revoked: slot.revoked, scopes: [...slot.scopes] };
  }
  return out;
}

/** Device-token table access. */
export class TokenRepo {
  readonly #ctx: StoreContext;
  readonly #deviceExists: Statement<[string], { one: number }>;
  readonly #issue: Statement<[PutRow]>;
  readonly #put: Statement<[PutRow]>;
  readonly #check: Statement<[string, string], { token_hash: string; scopes_json: string; revoked: number }>;
  readonly #markUsed: Statement<[number, string, string]>;
  readonly #revoke: Statement<[number, string, string]>;
  readonly #deleteRole: Statement<[string, string]>;
  readonly #list: Statement<[string], TokenRow>;
  readonly #slots: Statement<
    [string],
    { role: string; token_hash: string; scopes_json: string; revoked: number }
  >;
  readonly #setScopes: Statement<[string, string, string]>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#deviceExists = db.prepare("SELECT 1 AS one FROM devices WHERE device_id = ?");
    // A replacement keeps the slot's createdAt, marks the rotation and clears any revocation: the
    // new secret is a fresh credential, while the old hash is gone so the old token cannot match.
    this.#issue = db.prepare(
      `INSERT INTO device_tokens (device_id, role, token_hash, scopes_json, created_at_ms, rotated_at_ms,
         revoked_at_ms, last_used_at_ms)
       VALUES (@device_id, @role, @token_hash, @scopes_json, @created_at_ms, @rotated_at_ms, @revoked_at_ms,
         @last_used_at_ms)
       ON CONFLICT (device_id, role) DO UPDATE SET
         token_hash = excluded.token_hash, scopes_json = excluded.scopes_json,
         rotated_at_ms = excluded.created_at_ms, revoked_at_ms = excluded.revoked_at_ms,
         last_used_at_ms = NULL`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO device_tokens (device_id, role, token_hash, scopes_json, created_at_ms,
         rotated_at_ms, revoked_at_ms, last_used_at_ms)
       VALUES (@device_id, @role, @token_hash, @scopes_json, @created_at_ms, @rotated_at_ms, @revoked_at_ms,
         @last_used_at_ms)`,
    );
    this.#check = db.prepare(
      `SELECT token_hash, scopes_json, revoked_at_ms IS NOT NULL AS revoked
       FROM device_tokens WHERE device_id = ? AND role = ?`,
    );
    this.#markUsed = db.prepare(
      `UPDATE device_tokens SET last_used_at_ms = ?
       WHERE device_id = ? AND role = ? AND revoked_at_ms IS NULL`,
    );
    this.#revoke = db.prepare(
      `UPDATE device_tokens SET revoked_at_ms = ?
       WHERE device_id = ? AND role = ? AND revoked_at_ms IS NULL`,
    );
    this.#deleteRole = db.prepare("DELETE FROM device_tokens WHERE device_id = ? AND role = ?");
    this.#list = db.prepare(
      `SELECT device_id, role, scopes_json, created_at_ms, rotated_at_ms, revoked_at_ms, last_used_at_ms
       FROM device_tokens WHERE device_id = ? ORDER BY role`,
    );
    this.#slots = db.prepare(
      `SELECT role, token_hash, scopes_json, revoked_at_ms IS NOT NULL AS revoked
       FROM device_tokens WHERE device_id = ? ORDER BY role`,
    );
    this.#setScopes = db.prepare("UPDATE device_tokens SET scopes_json = ? WHERE device_id = ? AND role = ?");
  }

  /**
   * Mints a new token for (device, role) and returns it in cleartext, the only time it exists
   * outside the client; any previous token for that slot stops working.
   */
  issue(deviceId: string, role: GatewayRole, scopes: readonly string[], nowMs: number): string {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    this.#write(deviceId, role, hashToken(token), scopes, nowMs, null);
    return token;
  }

  /**
   * Marks the (device, role) slot revoked when it holds no token yet, so the role reads as revoked;
   * the random hash behind it belongs to no token anybody has.
   */
  issueRevoked(deviceId: string, role: GatewayRole, nowMs: number): void {
    this.#ctx.write(() => {
      if (this.#check.get(deviceId, role)) {
        this.#revoke.run(nowMs, deviceId, role);
        return;
      }
      this.#write(
        deviceId,
        role,
        hashToken(randomBytes(TOKEN_BYTES).toString("base64url")),
        [],
        nowMs,
        nowMs,
      );
    });
  }

  /**
   * Checks a presented token in constant time. "revoked" only when it matches a revoked slot, so a
   * wrong token never learns whether the real one was revoked.
   */
  verify(deviceId: string, role: GatewayRole, presented: string): TokenVerdict {
    const row = this.#ctx.read(() => this.#check.get(deviceId, role));
    return checkToken(
      row && { hash: row.token_hash, scopes: decodeSet(row.scopes_json), revoked: row.revoked !== 0 },
      presented,
    );
  }

  /** Records a successful use of the (device, role) token; a revoked slot is left alone. */
  markUsed(deviceId: string, role: GatewayRole, nowMs: number): void {
    this.#ctx.write(() => this.#markUsed.run(nowMs, deviceId, role));
  }

  /** Revokes the (device, role) token for good. True if a live token was revoked now. */
  revoke(deviceId: string, role: GatewayRole, nowMs: number): boolean {
    return this.#ctx.write(() => this.#revoke.run(nowMs, deviceId, role).changes > 0);
  }

  /** Forgets the (device, role) slot entirely. True if there was one. */
  deleteRole(deviceId: string, role: GatewayRole): boolean {
    return this.#ctx.write(() => this.#deleteRole.run(deviceId, role).changes > 0);
  }

  /** The device's token slots, by role, without their hashes. */
  list(deviceId: string): TokenRecord[] {
    // A slot for a role this gateway does not know carries nothing, so it is not listed.
    return this.#ctx
      .read(() => this.#list.all(deviceId))
      .flatMap(({ role, ...row }) =>
        isGatewayRole(role)
          ? [
              {
                deviceId: row.device_id,
                role,
                scopes: decodeSet(row.scopes_json),
                createdAtMs: row.created_at_ms,
                rotatedAtMs: row.rotated_at_ms,
                revokedAtMs: row.revoked_at_ms,
                lastUsedAtMs: row.last_used_at_ms,
              },
            ]
          : [],
      );
  }

  /** Per role: is the slot revoked, and what scopes does its token carry (the policy's view). */
  states(deviceId: string): Partial<Record<GatewayRole, { revoked: boolean; scopes: string[] }>> {
    return slotStates(this.slots(deviceId));
  }

  /** Every slot of the device with its hash, in one read: a connect's states and token check. */
  slots(deviceId: string): TokenSlots {
    const out: TokenSlots = {};
    for (const row of this.#ctx.read(() => this.#slots.all(deviceId))) {
      if (isGatewayRole(row.role)) {
        out[row.role] = {
          hash: row.token_hash,
          scopes: decodeSet(row.scopes_json),
          revoked: row.revoked !== 0,
        };
      }
    }
    return out;
  }

  /** Replaces the scopes a (device, role) token carries. False if there is no such slot. */
  setScopes(deviceId: string, role: GatewayRole, scopes: readonly string[]): boolean {
    return this.#ctx.write(() => this.#setScopes.run(encodeSet(scopes), deviceId, role).changes > 0);
  }

  /** Stores a token carried over from a legacy store, hashed, with its history (revocation included). */
  importToken(deviceId: string, token: ImportedToken): void {
    this.#ctx.write(() => {
      this.#requireDevice(deviceId);
      this.#put.run({
        device_id: deviceId,
        role: token.role,
        token_hash: hashToken(token.token),
        scopes_json: encodeSet(token.scopes),
        created_at_ms: token.createdAtMs,
        rotated_at_ms: token.rotatedAtMs,
        revoked_at_ms: token.revokedAtMs,
        last_used_at_ms: token.lastUsedAtMs,
      });
    });
  }

  #write(
    deviceId: string,
    role: GatewayRole,
    tokenHash: string,
    scopes: readonly string[],
    nowMs: number,
    revokedAtMs: number | null,
  ): void {
    this.#ctx.write(() => {
      this.#requireDevice(deviceId);
      this.#issue.run({
        device_id: deviceId,
        role,
        token_hash: tokenHash,
        scopes_json: encodeSet(scopes),
        created_at_ms: nowMs,
        rotated_at_ms: null,
        revoked_at_ms: revokedAtMs,
        last_used_at_ms: null,
      });
    });
  }

  #requireDevice(deviceId: string): void {
    if (!this.#deviceExists.get(deviceId)) {
      throw writeFailed(this.#ctx.path, `no paired device ${deviceId} to hold a token`);
    }
  }
}
