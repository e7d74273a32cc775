import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import { approveDevice, approvePending, ensureOwner } from "../../src/store/index.js";
import { deviceRecord, freshStore, identity, pendingInput } from "./helpers.js";

const TTL = 300_000;
const CAPS = { total: 100, perIp: 10 };

describe("approval", () => {
  test("approvePending pairs exactly the pending snapshot and clears the request", () => {
    const { store } = freshStore();
    const id = identity();
    const p = store.pending.upsertForDevice(
      pendingInput(id, { roles: ["operator"], scopes: ["operator.write"], platform: "ios 18.1" }),
      1_000,
      TTL,
      CAPS,
    );
    assert.ok(p.kind === "created");
    const d = approvePending(store, p.request.requestId, "approved", 2_000);
    assert.deepEqual(d, {
      deviceId: id.deviceId,
      publicKey: id.publicKey,
      displayName: "phone",
      label: null,
      clientId: "openclaw-ios",
      clientMode: "ui",
      platform: "ios 18.1",
      deviceFamily: "iphone",
      roles: ["operator"],
      scopes: ["operator.write"],
      approvedVia: "approved",
      createdAtMs: 2_000,
      approvedAtMs: 2_000,
      lastSeenAtMs: null,
      lastSeenIp: null,
    });
    assert.deepEqual(store.devices.get(id.deviceId), d);
    assert.equal(store.pending.getByDevice(id.deviceId, 2_000), null);
    assert.equal(
      approvePending(store, p.request.requestId, "approved", 2_500),
      null,
      "resolved ids are unknown",
    );
    store.close();
  });

  test("approvePending on an unknown or expired requestId is null and writes nothing", () => {
    const { store } = freshStore();
    const id = identity();
    assert.equal(approvePending(store, "5a0c5d4e-0000-4000-8000-000000000000", "approved", 1_000), null);
    const p = store.pending.upsertForDevice(pendingInput(id), 1_000, 10_000, CAPS);
    assert.ok(p.kind === "created");
    assert.equal(approvePending(store, p.request.requestId, "approved", 11_000), null);
    assert.equal(store.devices.get(id.deviceId), null);
    assert.equal(store.devices.count(), 0);
    store.close();
  });

  test("C11: approving the id the approver saw never grants what the device asked for afterwards", () => {
    const { store } = freshStore();
    const id = identity();
    const shown = store.pending.upsertForDevice(
      pendingInput(id, { scopes: ["operator.read"] }),
      1_000,
      TTL,
      CAPS,
    );
    store.pending.upsertForDevice(pendingInput(id, { scopes: ["operator.admin"] }), 1_500, TTL, CAPS);
    assert.ok(shown.kind === "created");
    assert.equal(approvePending(store, shown.request.requestId, "approved", 2_000), null);
    assert.equal(store.devices.get(id.deviceId), null);
    store.close();
  });

  test("same key: roles and scopes are unioned, given metadata re-pinned, the rest kept", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(
      deviceRecord(id, {
        roles: ["node"],
        scopes: ["operator.read"],
        label: "mac mini",
        platform: "macos 26.3.1",
        deviceFamily: "mac",
        createdAtMs: 100,
        approvedAtMs: 100,
        lastSeenAtMs: 150,
        lastSeenIp: "127.0.0.1",
      }),
    );
    const d = approveDevice(store, {
      deviceId: id.deviceId,
      publicKey: id.publicKey,
      roles: ["operator"],
      scopes: ["operator.write"],
      platform: "macos 26.4.0",
      approvedVia: "silent",
      nowMs: 2_000,
    });
    assert.deepEqual(d.roles, ["node", "operator"]);
    assert.deepEqual(d.scopes, ["operator.read", "operator.write"]);
    assert.equal(d.platform, "macos 26.4.0");
    assert.equal(d.deviceFamily, "mac", "not given, kept");
    assert.equal(d.label, "mac mini");
    assert.equal(d.createdAtMs, 100);
    assert.equal(d.approvedAtMs, 2_000);
    assert.equal(d.approvedVia, "silent");
    assert.equal(d.lastSeenAtMs, 150);
    assert.deepEqual(store.devices.get(id.deviceId), d);
    store.close();
  });

  test("C15: a different key for a known deviceId inherits nothing, tokens included", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(
      deviceRecord(id, {
        roles: ["node", "operator"],
        scopes: ["operator.admin"],
        label: "owner's laptop",
        createdAtMs: 5,
      }),
    );
    const oldToken = store.tokens.issue(id.deviceId, "operator", ["operator.admin"], 10);
    store.tokens.issue(id.deviceId, "node", [], 10);
    const squatter = identity().publicKey;

    const d = approveDevice(store, {
      deviceId: id.deviceId,
      publicKey: squatter,
      roles: ["operator"],
      scopes: ["operator.read"],
      approvedVia: "approved",
      nowMs: 3_000,
    });
    assert.equal(d.publicKey, squatter);
    assert.deepEqual(d.roles, ["operator"]);
    assert.deepEqual(d.scopes, ["operator.read"]);
    assert.equal(d.label, null);
    assert.equal(d.displayName, null);
    assert.equal(d.createdAtMs, 3_000);
    assert.deepEqual(store.tokens.list(id.deviceId), []);
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", oldToken), { kind: "mismatch" });
    store.close();
  });

  test("approval clears the device's pending request and the revoked slots of the approved roles", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node", "operator"] }));
    const operator = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 10);
    store.tokens.issue(id.deviceId, "node", [], 10);
    store.tokens.revoke(id.deviceId, "operator", 20);
    store.tokens.revoke(id.deviceId, "node", 20);
    store.pending.upsertForDevice(pendingInput(id, { scopes: ["operator.write"] }), 30, TTL, CAPS);

    approveDevice(store, {
      deviceId: id.deviceId,
      publicKey: id.publicKey,
      roles: ["operator"],
      scopes: ["operator.write"],
      approvedVia: "approved",
      nowMs: 40,
    });
    assert.equal(store.pending.getByDevice(id.deviceId, 40), null);
    assert.deepEqual(store.tokens.states(id.deviceId), { node: { revoked: true, scopes: [] } });
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", operator), { kind: "mismatch" });
    const fresh = store.tokens.issue(id.deviceId, "operator", ["operator.write"], 50);
    assert.equal(store.tokens.verify(id.deviceId, "operator", fresh).kind, "valid");
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", operator), { kind: "mismatch" });
    store.close();
  });

  test("ensureOwner pairs the owner key with both roles and every operator scope, once", () => {
    const { store } = freshStore();
    const owner = identity();
    assert.deepEqual(ensureOwner(store, owner, 1_000), { created: true });
    const d = store.devices.get(owner.deviceId);
    assert.deepEqual(d?.roles, ["node", "operator"]);
    assert.deepEqual(d?.scopes, [...ALL_OPERATOR_SCOPES].sort());
    assert.equal(d?.approvedVia, "owner");
    assert.equal(d?.displayName, "gateway owner");

    store.devices.rename(owner.deviceId, "this host");
    assert.deepEqual(ensureOwner(store, owner, 2_000), { created: false });
    assert.equal(store.devices.get(owner.deviceId)?.label, "this host");
    assert.equal(store.devices.get(owner.deviceId)?.approvedAtMs, 1_000);

    // A record missing something the owner should have (a scope added by an upgrade) gains it.
    store.devices.upsert({ ...d!, scopes: ["operator.admin"], roles: ["operator"] });
    assert.deepEqual(ensureOwner(store, owner, 3_000), { created: false });
    assert.deepEqual(store.devices.get(owner.deviceId)?.scopes, [...ALL_OPERATOR_SCOPES].sort());
    assert.deepEqual(store.devices.get(owner.deviceId)?.roles, ["node", "operator"]);
    store.close();
  });

  test("ensureOwner replaces a record for the owner's deviceId that has another key", () => {
    const { store } = freshStore();
    const owner = identity();
    store.devices.upsert(deviceRecord({ deviceId: owner.deviceId, publicKey: identity().publicKey }));
    const token = store.tokens.issue(owner.deviceId, "operator", [], 1);
    assert.deepEqual(ensureOwner(store, owner, 1_000), { created: true });
    assert.equal(store.devices.get(owner.deviceId)?.publicKey, owner.publicKey);
    assert.deepEqual(store.tokens.verify(owner.deviceId, "operator", token), { kind: "mismatch" });
    store.close();
  });
});
