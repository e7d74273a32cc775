import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { openStore, StoreError } from "../../src/store/index.js";
import { checkToken, slotStates } from "../../src/store/tokens.js";
import { deviceRecord, freshStore, identity, thrown } from "./helpers.js";

describe("device tokens", () => {
  test("tokens are stored only as SHA-256 hashes: the cleartext is in neither the database nor the WAL", () => {
    const { store, path } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node", "operator"] }));
    const operator = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
    const node = store.tokens.issue(id.deviceId, "node", [], 1_000);
    assert.match(operator, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    assert.notEqual(operator, node);

    const files = [path, `${path}-wal`].filter(existsSync);
    assert.ok(files.includes(`${path}-wal`), "the write sits in the WAL while the store is open");
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const token of [operator, node]) {
        assert.equal(bytes.includes(token), false, `token found in ${file}`);
        assert.equal(
          bytes.includes(Buffer.from(token, "base64url")),
          false,
          `raw token bytes found in ${file}`,
        );
      }
    }
    // And what is there is the hash.
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT role, token_hash FROM device_tokens ORDER BY role").all() as Array<{
      role: string;
      token_hash: string;
    }>;
    db.close();
    assert.deepEqual(
      rows.map((r) => r.token_hash.length),
      [64, 64],
    );
    assert.equal(
      JSON.stringify(store.tokens.list(id.deviceId)).includes(rows[0]!.token_hash),
      false,
      "list() never shows the hash",
    );
    store.close();
  });

  test("verify: valid with the token's scopes, mismatch for anything else", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id));
    const token = store.tokens.issue(
      id.deviceId,
      "operator",
      ["operator.write", "operator.read", "operator.read"],
      1,
    );
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token), {
      kind: "valid",
      scopes: ["operator.read", "operator.write"],
    });
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token + "x"), { kind: "mismatch" });
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", ""), { kind: "mismatch" });
    assert.deepEqual(store.tokens.verify(id.deviceId, "node", token), { kind: "mismatch" }, "other role");
    assert.deepEqual(store.tokens.verify(identity().deviceId, "operator", token), { kind: "mismatch" });
    store.close();
  });

  test("one read of a device's slots gives the states and the token checks verify gives", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node", "operator"] }));
    const operator = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1);
    const node = store.tokens.issue(id.deviceId, "node", [], 1);
    store.tokens.revoke(id.deviceId, "node", 2);
    const slots = store.tokens.slots(id.deviceId);
    assert.deepEqual(slotStates(slots), store.tokens.states(id.deviceId));
    assert.deepEqual(slotStates(slots), {
      node: { revoked: true, scopes: [] },
      operator: { revoked: false, scopes: ["operator.read"] },
    });
    for (const [role, presented] of [
      ["operator", operator],
      ["operator", node],
      ["operator", ""],
      ["node", node],
      ["node", "guess"],
    ] as const) {
      assert.deepEqual(
        checkToken(slots[role], presented),
        store.tokens.verify(id.deviceId, role, presented),
        `${role} presenting ${presented === operator ? "its token" : presented === node ? "the node token" : "a wrong one"}`,
      );
    }
    assert.deepEqual(checkToken(slots.operator, operator), { kind: "valid", scopes: ["operator.read"] });
    assert.deepEqual(checkToken(slots.node, node), { kind: "revoked" });
    assert.deepEqual(store.tokens.slots(identity().deviceId), {}, "an unknown device has no slots");
    store.close();
  });

  test("C08: a revoked token is 'revoked' (a wrong one still 'mismatch') and stays so after reopen", () => {
    const { store, path } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id));
    const token = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
    assert.equal(store.tokens.revoke(id.deviceId, "operator", 2_000), true);
    assert.equal(store.tokens.revoke(id.deviceId, "operator", 3_000), false, "already revoked");
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token), { kind: "revoked" });
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", "guess"), { kind: "mismatch" });
    store.tokens.markUsed(id.deviceId, "operator", 4_000);
    store.close();

    const again = openStore(path);
    assert.deepEqual(again.tokens.verify(id.deviceId, "operator", token), { kind: "revoked" });
    assert.deepEqual(again.tokens.states(id.deviceId), {
      operator: { revoked: true, scopes: ["operator.read"] },
    });
    const [record] = again.tokens.list(id.deviceId);
    assert.equal(record?.revokedAtMs, 2_000, "first revocation time kept");
    assert.equal(record?.lastUsedAtMs, null, "a revoked token is never marked used");
    again.close();
  });

  test("issuing after a revoke gives a new working token; the old one is a plain mismatch", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id));
    const old = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
    store.tokens.markUsed(id.deviceId, "operator", 1_500);
    store.tokens.revoke(id.deviceId, "operator", 2_000);
    const fresh = store.tokens.issue(id.deviceId, "operator", ["operator.write"], 3_000);

    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", fresh), {
      kind: "valid",
      scopes: ["operator.write"],
    });
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", old), { kind: "mismatch" });
    assert.deepEqual(store.tokens.list(id.deviceId), [
      {
        deviceId: id.deviceId,
        role: "operator",
        scopes: ["operator.write"],
        createdAtMs: 1_000,
        rotatedAtMs: 3_000,
        revokedAtMs: null,
        lastUsedAtMs: null,
      },
    ]);
    store.close();
  });

  test("markUsed, setScopes, deleteRole, states; issueRevoked marks an empty slot revoked", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node", "operator"] }));
    const token = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
    store.tokens.markUsed(id.deviceId, "operator", 1_234);
    assert.equal(store.tokens.list(id.deviceId)[0]?.lastUsedAtMs, 1_234);
    assert.equal(store.tokens.setScopes(id.deviceId, "operator", ["operator.admin"]), true);
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token), {
      kind: "valid",
      scopes: ["operator.admin"],
    });
    assert.equal(store.tokens.setScopes(id.deviceId, "node", []), false);

    store.tokens.issueRevoked(id.deviceId, "node", 2_000);
    assert.deepEqual(store.tokens.states(id.deviceId), {
      node: { revoked: true, scopes: [] },
      operator: { revoked: false, scopes: ["operator.admin"] },
    });
    assert.equal(store.tokens.deleteRole(id.deviceId, "operator"), true);
    assert.equal(store.tokens.deleteRole(id.deviceId, "operator"), false);
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token), { kind: "mismatch" });
    store.close();
  });

  test("a token cannot be issued for a device that is not paired", () => {
    const { store } = freshStore();
    const err = thrown(() => store.tokens.issue(identity().deviceId, "operator", [], 1));
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, "STORE_WRITE_FAILED");
    assert.match(err.message, /no paired device/);
    store.close();
  });
});
