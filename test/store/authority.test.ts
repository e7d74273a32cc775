/**
 * The authority chain in the store: sessions, runtime tokens and cron jobs record the device they
 * rest on (migration 4 backfills older rows from their `device:<id>` creator), and a device's end
 * reaches them — its runtime tokens are revoked, its cron jobs disabled with the reason, its unused
 * setup codes ended — without touching anything that rests elsewhere.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LATEST_SCHEMA_VERSION } from "../../src/store/migrations.js";
import { openStore, type CronJobRecord } from "../../src/store/index.js";
import { cronJob, freshStore, storeAtVersion } from "./helpers.js";

/** A job resting on `creatorDeviceId` (null: a root). */
function job(id: string, creatorDeviceId: string | null, over: Partial<CronJobRecord> = {}): CronJobRecord {
  return cronJob(id, {
    createdBy: creatorDeviceId ? `device:${creatorDeviceId}` : "cli/cli",
    creatorDeviceId,
    ...over,
  });
}

describe("authority chain (store)", () => {
  test("migration 4 upgrades a version-3 store: device creators become the authority of their sessions and jobs", () => {
    const path = storeAtVersion(3, (db) =>
      db.exec(`
        INSERT INTO sessions (id, command_json, scopes_json, created_by, status, started_at_ms)
          VALUES ('s-dev', '["node"]', '[]', 'device:abc', 'exited', 1),
                 ('s-cli', '["node"]', '[]', 'cli/cli', 'exited', 2);
        INSERT INTO cron_jobs (id, schedule, command_json, scopes_json, created_by, creator_scopes_json, enabled,
            missed_policy, created_at_ms, updated_at_ms)
          VALUES ('j-dev', '* * * * *', '["node"]', '[]', 'device:abc', '[]', 1, 'skip', 1, 1),
                 ('j-ses', '* * * * *', '["node"]', '[]', 'session:s-dev', '[]', 1, 'skip', 1, 1);
        INSERT INTO runtime_tokens (token_hash, job_id, scopes_json, created_at_ms, expires_at_ms)
          VALUES ('h', 's-dev', '[]', 1, 2);
      `),
    );
    const store = openStore(path);
    assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(store.sessions.get("s-dev")!.authorityDeviceId, "abc");
    assert.equal(store.sessions.get("s-cli")!.authorityDeviceId, null);
    assert.equal(store.sessions.get("s-dev")!.endReason, null);
    assert.equal(store.cron.get("j-dev")!.creatorDeviceId, "abc");
    assert.equal(store.cron.get("j-ses")!.creatorDeviceId, null);
    assert.equal(store.cron.get("j-dev")!.disabledReason, null);
    assert.equal(store.runtimeTokens.listForJob("s-dev")[0]!.authorityDeviceId, null);
    store.close();
  });

  test("runtime tokens: revoking a device's authority ends its tokens only; roots and other devices keep theirs", () => {
    const { store } = freshStore();
    const mine = store.runtimeTokens.issue("sess_a", ["operator.read"], 1_000, 60_000, "dev-a");
    const other = store.runtimeTokens.issue("sess_b", ["operator.read"], 1_000, 60_000, "dev-b");
    const root = store.runtimeTokens.issue("sess_c", ["operator.read"], 1_000, 60_000, null);
    assert.equal(store.runtimeTokens.revokeByAuthority("dev-a", 2_000), 1);
    assert.deepEqual(store.runtimeTokens.verify(mine, 3_000), { kind: "invalid", why: "revoked" });
    assert.equal(store.runtimeTokens.verify(other, 3_000).kind, "valid");
    assert.equal(store.runtimeTokens.verify(root, 3_000).kind, "valid");
    assert.equal(store.runtimeTokens.listForJob("sess_a")[0]!.authorityDeviceId, "dev-a");
    assert.equal(store.runtimeTokens.revokeByAuthority("dev-a", 4_000), 0, "already revoked");
    store.close();
  });

  test("cron: a device's jobs are disabled with the reason, survive a reopen, and others stay enabled", () => {
    const { store, path } = freshStore();
    store.cron.insert(job("j1", "dev-a"));
    store.cron.insert(job("j2", "dev-a", { enabled: false }));
    store.cron.insert(job("j3", "dev-b"));
    store.cron.insert(job("j4", null));
    assert.deepEqual(store.cron.disableByCreator("dev-a", "device dev-a was removed", 5_000), ["j1"]);
    store.close();
    const again = openStore(path);
    const j1 = again.cron.get("j1")!;
    assert.equal(j1.enabled, false);
    assert.equal(j1.disabledReason, "device dev-a was removed");
    assert.equal(j1.updatedAtMs, 5_000);
    assert.equal(again.cron.get("j2")!.disabledReason, null, "a job disabled by hand keeps no reason");
    assert.equal(again.cron.get("j3")!.enabled, true);
    assert.equal(again.cron.get("j4")!.enabled, true);
    again.close();
  });

  test("setup codes: a device's unused codes end with it; used ones and others' stay as they are", () => {
    const { store } = freshStore();
    const base = { profile: "operator-limited", roles: ["operator" as const], scopes: ["operator.read"] };
    const common = { gatewayUrl: null, fingerprint: null, createdAtMs: 1_000, expiresAtMs: 100_000 };
    store.setupCodes.create({ ...base, ...common, code: "AAAAAAAAAA", createdBy: "device:dev-a" });
    store.setupCodes.create({ ...base, ...common, code: "BBBBBBBBBB", createdBy: "device:dev-b" });
    store.setupCodes.create({ ...base, ...common, code: "CCCCCCCCCC", createdBy: "device:dev-a" });
    const used = store.setupCodes.lookup("CCCCCCCCCC", 2_000);
    assert.equal(used.kind, "valid");
    assert.equal(
      store.setupCodes.redeem(used.kind === "valid" ? used.record.codeHash : "", "dev-x", 2_000),
      true,
    );
    assert.equal(store.setupCodes.revokeCreatedBy("device:dev-a", 3_000), 1);
    assert.equal(store.setupCodes.lookup("AAAAAAAAAA", 3_001).kind, "invalid");
    assert.equal(store.setupCodes.lookup("BBBBBBBBBB", 3_001).kind, "valid");
    assert.equal(store.setupCodes.lookup("CCCCCCCCCC", 3_001).kind, "invalid");
    store.close();
  });
});
