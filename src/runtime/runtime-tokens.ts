/**
 * Runtime tokens (design principle 6): the gateway mints one for each job it starts, bound to the
 * job's id, a scope set no wider than the job's creator held, and an expiry; it is revoked when the
 * job ends. The handshake verifies them through {@link RuntimeTokenService.verify}.
 */
import type { RuntimeTokenVerifier } from "../gateway/handshake.js";
import { silentLogger, type GatewayLogger } from "../gateway/log.js";
import type { RuntimeTokenCheck } from "../policy/admission.js";
import { grantSourceKey } from "../policy/authority.js";
import type { Store } from "../store/db.js";

/** Lifetime of a token whose job has no time limit: long enough for real work, short enough to die. */
export const DEFAULT_RUNTIME_TOKEN_TTL_MS = 60 * 60_000;
/** Tokens that expired or were revoked longer ago than this are deleted. */
const PRUNE_AFTER_MS = 60 * 60_000;
/** Pruning is a sweep, not per-mint work. */
const PRUNE_EVERY_MINTS = 256;

/** Mints, checks and revokes runtime tokens; the store keeps only their hashes. */
export class RuntimeTokenService implements RuntimeTokenVerifier {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #logger: GatewayLogger;
  #mints = 0;

  constructor(store: Store, options: { now?: () => number; logger?: GatewayLogger } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Mints a token for `jobId` carrying `scopes`, valid for `ttlMs`, resting on the authority of
   * `authorityDeviceId` (null: a root). Returns the cleartext, once: it goes to the job's process
   * and nowhere else (never a log, never the store).
   */
  mint(
    jobId: string,
    scopes: readonly string[],
    ttlMs: number = DEFAULT_RUNTIME_TOKEN_TTL_MS,
    authorityDeviceId: string | null = null,
  ): string {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError("runtime token ttlMs must be positive");
    const now = this.#now();
    if (++this.#mints % PRUNE_EVERY_MINTS === 0) this.prune();
    return this.#store.runtimeTokens.issue(jobId, scopes, now, now + ttlMs, authorityDeviceId);
  }

  /** The handshake's check: valid only when known, not revoked and not expired. */
  verify(token: string): RuntimeTokenCheck {
    const verdict = this.#store.runtimeTokens.verify(token, this.#now());
    if (verdict.kind === "valid") return { kind: "valid", scopes: verdict.scopes, jobId: verdict.jobId };
    if (verdict.why !== "unknown") {
      // Which job, not which token: the log never carries a secret.
      this.#logger.log("info", "runtime token refused", { why: verdict.why });
    }
    return { kind: "invalid" };
  }

  /**
   * Ends every token of a job (its process exited, was killed, or was lost), and the setup codes it
   * minted and nobody redeemed: they rest on the job's authority, which ends here.
   */
  revokeJob(jobId: string): void {
    const now = this.#now();
    this.#store.transaction(() => {
      this.#store.runtimeTokens.revokeJob(jobId, now);
      this.#store.setupCodes.revokeCreatedBy(grantSourceKey({ kind: "session", sessionId: jobId }), now);
    });
  }

  /**
   * Revokes every live token: called when a gateway starts, since no job of a previous gateway run
   * is still its job (their processes were killed on stop, or are orphans after a crash).
   */
  revokeAll(): number {
    return this.#store.runtimeTokens.revokeAll(this.#now());
  }

  /** Deletes tokens that have been dead for a while. */
  prune(): number {
    return this.#store.runtimeTokens.prune(this.#now() - PRUNE_AFTER_MS);
  }
}
