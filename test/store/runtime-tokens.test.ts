import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/index.js";
import { freshStore } from "./helpers.js";

describe("runtime tokens (store)", () => {
  test("only the SHA-256 of a runtime token is stored: the cleartext is in neither the database nor the WAL", () => {
    const { store, path } = freshStore();
    const token = store.runtimeTokens.issue("sess_1", ["operator.read"], 1_000, 61_000);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    for (const file of [path, `${path}-wal`].filter(existsSync)) {
      assert.equal(readFileSync(file).includes(token), false, `token found in ${file}`);
    }
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT token_hash, job_id FROM runtime_tokens").all() as Array<{
      token_hash: string;
      job_id: string;
    }>;
    db.close();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash.length, 64);
    assert.equal(
      JSON.stringify(store.runtimeTokens.listForJob("sess_1")).includes(rows[0]!.token_hash),
      false,
    );
    store.close();
  });

  test("verify: valid with job and scopes until it expires; unknown tokens are invalid", () => {
    const { store } = freshStore();
    const token = store.runtimeTokens.issue("sess_1", ["operator.write", "operator.read"], 1_000, 2_000);
    assert.deepEqual(store.runtimeTokens.verify(token, 1_999), {
      kind: "valid",
      jobId: "sess_1",
      scopes: ["operator.read", "operator.write"],
      expiresAtMs: 2_000,
    });
    assert.deepEqual(store.runtimeTokens.verify(token, 2_000), { kind: "invalid", why: "expired" });
    assert.deepEqual(store.runtimeTokens.verify(token + "x", 1_500), { kind: "invalid", why: "unknown" });
    assert.deepEqual(store.runtimeTokens.verify("", 1_500), { kind: "invalid", why: "unknown" });
    store.close();
  });

  test("revokeJob ends every token of that job and no other; revocation survives a reopen", () => {
    const { store, path } = freshStore();
    const a1 = store.runtimeTokens.issue("sess_a", ["operator.read"], 1_000, 100_000);
    const a2 = store.runtimeTokens.issue("sess_a", ["operator.read"], 1_000, 100_000);
    const b = store.runtimeTokens.issue("sess_b", ["operator.read"], 1_000, 100_000);
    assert.equal(store.runtimeTokens.revokeJob("sess_a", 5_000), 2);
    assert.equal(store.runtimeTokens.revokeJob("sess_a", 6_000), 0, "already revoked");
    store.close();
    const again = openStore(path);
    assert.deepEqual(again.runtimeTokens.verify(a1, 5_001), { kind: "invalid", why: "revoked" });
    assert.deepEqual(again.runtimeTokens.verify(a2, 5_001), { kind: "invalid", why: "revoked" });
    assert.equal(again.runtimeTokens.verify(b, 5_001).kind, "valid");
    assert.equal(again.runtimeTokens.listForJob("sess_a")[0]!.revokedAtMs, 5_000);
    assert.equal(again.runtimeTokens.revokeAll(7_000), 1);
    assert.deepEqual(again.runtimeTokens.verify(b, 7_001), { kind: "invalid", why: "revoked" });
    again.close();
  });

  test("prune deletes tokens dead before the cut-off and keeps live ones", () => {
    const { store } = freshStore();
    store.runtimeTokens.issue("expired", [], 1_000, 2_000);
    store.runtimeTokens.issue("revoked", [], 1_000, 100_000);
    store.runtimeTokens.revokeJob("revoked", 3_000);
    const live = store.runtimeTokens.issue("live", [], 1_000, 100_000);
    assert.equal(store.runtimeTokens.prune(2_500), 1, "only the one expired by then");
    assert.equal(store.runtimeTokens.prune(3_000), 1);
    assert.equal(store.runtimeTokens.verify(live, 4_000).kind, "valid");
    assert.equal(store.runtimeTokens.listForJob("expired").length, 0);
    store.close();
  });
});
