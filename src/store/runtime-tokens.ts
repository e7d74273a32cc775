/**
 * Runtime tokens: gateway-minted credentials for work the gateway runs (sub-agent sessions, cron
 * runs), one or more per job. Like device tokens, only the SHA-256 of a token is stored; the
 * cleartext exists once, in the return value of {@link RuntimeTokenRepo.issue}, and goes into the
 * child's environment. A token is valid until it expires or its job's tokens are revoked.
 */
import { randomBytes } from "node:crypto";
import type { Statement } from "better-sqlite3";
import { decodeSet, encodeSet } from "./codec.js";
import type { StoreContext } from "./context.js";
import { hashToken } from "./tokens.js";

/** Outcome of checking a presented runtime token. */
export type RuntimeTokenVerdict =
  | { kind: "valid"; jobId: string; scopes: string[]; expiresAtMs: number }
  | { kind: "invalid"; why: "unknown" | "revoked" | "expired" };

/** A runtime token as listed: everything but the secret. */
export interface RuntimeTokenRecord {
  jobId: string;
  /** The device whose authority the token's job rests on; null for a root (shared secret). */
  authorityDeviceId: string | null;
  scopes: string[];
  createdAtMs: number;
  expiresAtMs: number;
  revokedAtMs: number | null;
}

interface Row {
  job_id: string;
  authority_device_id: string | null;
  scopes_json: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
}

const TOKEN_BYTES = 32;

/** Runtime-token table access. */
export class RuntimeTokenRepo {
  readonly #ctx: StoreContext;
  readonly #insert: Statement<[Row & { token_hash: string }]>;
  readonly #byHash: Statement<[string], Row>;
  readonly #revokeJob: Statement<[number, string]>;
  readonly #revokeAll: Statement<[number]>;
  readonly #revokeAuthority: Statement<[number, string]>;
  readonly #byJob: Statement<[string], Row>;
  readonly #prune: Statement<[number, number]>;
  readonly #isCredential: Statement<[string, string], { one: number }>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#insert = db.prepare(
      `INSERT INTO runtime_tokens (token_hash, job_id, authority_device_id, scopes_json, created_at_ms,
         expires_at_ms, revoked_at_ms)
       VALUES (@token_hash, @job_id, @authority_device_id, @scopes_json, @created_at_ms, @expires_at_ms,
         @revoked_at_ms)`,
    );
    this.#byHash = db.prepare(
      `SELECT job_id, authority_device_id, scopes_json, created_at_ms, expires_at_ms, revoked_at_ms
       FROM runtime_tokens WHERE token_hash = ?`,
    );
    this.#revokeJob = db.prepare(
      "UPDATE runtime_tokens SET revoked_at_ms = ? WHERE job_id = ? AND revoked_at_ms IS NULL",
    );
    this.#revokeAll = db.prepare("UPDATE runtime_tokens SET revoked_at_ms = ? WHERE revoked_at_ms IS NULL");
    this.#revokeAuthority = db.prepare(
      "UPDATE runtime_tokens SET revoked_at_ms = ? WHERE authority_device_id = ? AND revoked_at_ms IS NULL",
    );
    this.#byJob = db.prepare(
      `SELECT job_id, authority_device_id, scopes_json, created_at_ms, expires_at_ms, revoked_at_ms
       FROM runtime_tokens WHERE job_id = ? ORDER BY created_at_ms`,
    );
    this.#prune = db.prepare(
      "DELETE FROM runtime_tokens WHERE expires_at_ms <= ? OR (revoked_at_ms IS NOT NULL AND revoked_at_ms <= ?)",
    );
    this.#isCredential = db.prepare(
      `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM runtime_tokens WHERE token_hash = ?)
         OR EXISTS (SELECT 1 FROM device_tokens WHERE token_hash = ?)`,
    );
  }

  /**
   * True when `text` is a device token or a runtime token this store issued (live or not), checked
   * by hash: how the runtime keeps credentials out of a child's environment whatever they are named.
   */
  isIssuedCredential(text: string): boolean {
    if (text.length === 0) return false;
    const hash = hashToken(text);
    return this.#ctx.read(() => this.#isCredential.get(hash, hash)) !== undefined;
  }

  /**
   * Mints a token for `jobId` carrying `scopes`, valid until `expiresAtMs`, resting on the authority
   * of `authorityDeviceId` (null: a root); returns the cleartext.
   */
  issue(
    jobId: string,
    scopes: readonly string[],
    nowMs: number,
    expiresAtMs: number,
    authorityDeviceId: string | null = null,
  ): string {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    this.#ctx.write(() =>
      this.#insert.run({
        token_hash: hashToken(token),
        job_id: jobId,
        authority_device_id: authorityDeviceId,
        scopes_json: encodeSet(scopes),
        created_at_ms: nowMs,
        expires_at_ms: expiresAtMs,
        revoked_at_ms: null,
      }),
    );
    return token;
  }

  /**
   * Checks a presented token. The lookup is by the token's hash, so timing says nothing about the
   * stored tokens; `why` is for the gateway's log, never for the client.
   */
  verify(presented: string, nowMs: number): RuntimeTokenVerdict {
    if (presented.length === 0) return { kind: "invalid", why: "unknown" };
    const row = this.#ctx.read(() => this.#byHash.get(hashToken(presented)));
    if (!row) return { kind: "invalid", why: "unknown" };
    if (row.revoked_at_ms !== null) return { kind: "invalid", why: "revoked" };
    if (row.expires_at_ms <= nowMs) return { kind: "invalid", why: "expired" };
    return {
      kind: "valid",
      jobId: row.job_id,
      scopes: decodeSet(row.scopes_json),
      expiresAtMs: row.expires_at_ms,
    };
  }

  /** Revokes every live token of a job; returns how many. */
  revokeJob(jobId: string, nowMs: number): number {
    return this.#ctx.write(() => this.#revokeJob.run(nowMs, jobId).changes);
  }

  /** Revokes every live token resting on a device's authority (it was revoked or removed); returns how many. */
  revokeByAuthority(deviceId: string, nowMs: number): number {
    return this.#ctx.write(() => this.#revokeAuthority.run(nowMs, deviceId).changes);
  }

  /** Revokes every live token (a new gateway run: the jobs they were bound to are gone). */
  revokeAll(nowMs: number): number {
    return this.#ctx.write(() => this.#revokeAll.run(nowMs).changes);
  }

  /** A job's tokens, oldest first, without their hashes. */
  listForJob(jobId: string): RuntimeTokenRecord[] {
    return this.#ctx
      .read(() => this.#byJob.all(jobId))
      .map((row) => ({
        jobId: row.job_id,
        authorityDeviceId: row.authority_device_id,
        scopes: decodeSet(row.scopes_json),
        createdAtMs: row.created_at_ms,
        expiresAtMs: row.expires_at_ms,
        revokedAtMs: row.revoked_at_ms,
      }));
  }

  /** Deletes tokens that expired or were revoked at or before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.#ctx.write(() => this.#prune.run(beforeMs, beforeMs).changes);
  }
}
