import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deviceRecord, freshStore, identity, pendingInput } from "./helpers.js";

describe("paired devices", () => {
  test("get, count, list newest approval first", () => {
    const { store } = freshStore();
    const ids = [identity(), identity(), identity()];
    store.devices.upsert(deviceRecord(ids[0]!, { approvedAtMs: 10 }));
    store.devices.upsert(deviceRecord(ids[1]!, { approvedAtMs: 30 }));
    store.devices.upsert(deviceRecord(ids[2]!, { approvedAtMs: 20, roles: ["operator", "node", "node"] }));
    assert.equal(store.devices.count(), 3);
    assert.deepEqual(
      store.devices.list().map((d) => d.deviceId),
      [ids[1]!.deviceId, ids[2]!.deviceId, ids[0]!.deviceId],
    );
    assert.deepEqual(
      store.devices.get(ids[2]!.deviceId)?.roles,
      ["node", "operator"],
      "sorted, de-duplicated",
    );
    assert.deepEqual(store.devices.get(ids[0]!.deviceId), deviceRecord(ids[0]!, { approvedAtMs: 10 }));
    assert.equal(store.devices.get(identity().deviceId), null);
    store.close();
  });

  test("upsert replaces the record but keeps its tokens", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id));
    const token = store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1);
    store.devices.upsert(deviceRecord(id, { scopes: ["operator.admin"], displayName: "renamed" }));
    assert.equal(store.devices.get(id.deviceId)?.displayName, "renamed");
    assert.equal(store.tokens.verify(id.deviceId, "operator", token).kind, "valid");
    store.close();
  });

  test("remove takes the device's tokens and pending request with it", () => {
    const { store } = freshStore();
    const id = identity();
    const other = identity();
    store.devices.upsert(deviceRecord(id));
    store.devices.upsert(deviceRecord(other));
    const token = store.tokens.issue(id.deviceId, "operator", [], 1);
    const otherToken = store.tokens.issue(other.deviceId, "operator", [], 1);
    store.pending.upsertForDevice(pendingInput(id, { scopes: ["operator.admin"] }), 1, 60_000, {
      total: 10,
      perIp: 10,
    });

    assert.equal(store.devices.remove(id.deviceId), true);
    assert.equal(store.devices.remove(id.deviceId), false);
    assert.equal(store.devices.get(id.deviceId), null);
    assert.deepEqual(store.tokens.list(id.deviceId), []);
    assert.deepEqual(store.tokens.verify(id.deviceId, "operator", token), { kind: "mismatch" });
    assert.equal(store.pending.getByDevice(id.deviceId, 2), null);
    assert.equal(store.tokens.verify(other.deviceId, "operator", otherToken).kind, "valid");
    store.close();
  });

  test("rename sets and clears the owner's label; touch records last seen", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id));
    assert.equal(store.devices.rename(id.deviceId, "Ada's laptop"), true);
    assert.equal(store.devices.get(id.deviceId)?.label, "Ada's laptop");
    assert.equal(store.devices.rename(id.deviceId, null), true);
    assert.equal(store.devices.get(id.deviceId)?.label, null);
    assert.equal(store.devices.rename(identity().deviceId, "x"), false);

    store.devices.touch(id.deviceId, "127.0.0.1", 5_000);
    const d = store.devices.get(id.deviceId);
    assert.equal(d?.lastSeenAtMs, 5_000);
    assert.equal(d?.lastSeenIp, "127.0.0.1");
    store.close();
  });
});
