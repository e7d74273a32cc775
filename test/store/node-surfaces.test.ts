/** Node command surfaces in the store: pinned with the device record, one pending widening, migration 5. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { approveDevice, approvePending } from "../../src/store/approve.js";
import { openStore } from "../../src/store/db.js";
import { deviceRecord, freshStore, identity, pendingInput, storeAtVersion } from "./helpers.js";

const TTL = 300_000;
const CAPS = { total: 100, perIp: 10 };
const surfaceInput = (deviceId: string, commands: string[]) => ({
  deviceId,
  commands,
  displayName: "build box",
  clientId: "node-host",
  clientMode: "node",
  platform: "linux",
  deviceFamily: null,
  version: "1.0.0",
  remoteIp: "203.0.113.5",
});

describe("node surfaces (store)", () => {
  test("approving a node's device request pins the commands it declared, with who approved", () => {
    const { store } = freshStore();
    const id = identity();
    const asked = store.pending.upsertForDevice(
      pendingInput(id, { roles: ["node"], scopes: [], commands: ["system.which", "system.which"] }),
      1_000,
      TTL,
      CAPS,
    );
    assert.ok(asked.kind === "created");
    assert.deepEqual(asked.request.commands, ["system.which"]);
    // A retry declaring more is a different ask: a new requestId, so nobody approves what they were not shown.
    const wider = store.pending.upsertForDevice(
      pendingInput(id, { roles: ["node"], scopes: [], commands: ["system.run", "system.which"] }),
      2_000,
      TTL,
      CAPS,
    );
    assert.ok(wider.kind === "created");
    assert.deepEqual(wider.superseded, [asked.request.requestId]);
    approvePending(store, wider.request.requestId, "approved", 3_000, "device:approver");
    assert.deepEqual(store.nodeSurfaces.get(id.deviceId), {
      deviceId: id.deviceId,
      commands: ["system.run", "system.which"],
      approvedVia: "device-approval",
      approvedBy: "device:approver",
      createdAtMs: 3_000,
      approvedAtMs: 3_000,
    });
    store.close();
  });

  test("an operator request pins nothing", () => {
    const { store } = freshStore();
    const id = identity();
    const asked = store.pending.upsertForDevice(pendingInput(id), 1_000, TTL, CAPS);
    assert.ok(asked.kind === "created");
    assert.equal(asked.request.commands, null);
    approvePending(store, asked.request.requestId, "approved", 2_000);
    assert.equal(store.nodeSurfaces.get(id.deviceId), null);
    store.close();
  });

  test("one pending widening per node: the same surface keeps its requestId, another replaces it; pinning answers it", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node"], scopes: [] }));
    store.nodeSurfaces.pin(id.deviceId, ["system.which"], "device-approval", null, 1_000);
    const a = store.nodeSurfaces.upsertRequest(
      surfaceInput(id.deviceId, ["system.which", "system.run"]),
      2_000,
    );
    assert.equal(a.kind, "created");
    assert.deepEqual(a.request.commands, ["system.run", "system.which"]);
    const again = store.nodeSurfaces.upsertRequest(
      surfaceInput(id.deviceId, ["system.run", "system.which"]),
      3_000,
    );
    assert.equal(again.kind, "refreshed");
    assert.equal(again.request.requestId, a.request.requestId);
    assert.equal(again.request.createdAtMs, 2_000);
    assert.equal(again.request.refreshedAtMs, 3_000);
    const other = store.nodeSurfaces.upsertRequest(
      surfaceInput(id.deviceId, ["camera.snap", "system.which"]),
      4_000,
    );
    assert.equal(other.kind, "created");
    assert.equal(other.superseded, a.request.requestId);
    assert.equal(store.nodeSurfaces.getRequest(a.request.requestId), null);
    assert.deepEqual(
      store.nodeSurfaces.requests().map((r) => r.requestId),
      [other.request.requestId],
    );
    store.nodeSurfaces.pin(id.deviceId, other.request.commands, "node-approval", "cli/cli", 5_000);
    assert.deepEqual(store.nodeSurfaces.requests(), []);
    assert.equal(store.nodeSurfaces.get(id.deviceId)?.createdAtMs, 1_000, "first approval kept");
    assert.equal(store.nodeSurfaces.get(id.deviceId)?.approvedAtMs, 5_000);
    store.close();
  });

  test("the surface belongs to the device record: removing the device or changing its key drops it", () => {
    const { store } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { roles: ["node"], scopes: [] }));
    store.nodeSurfaces.pin(id.deviceId, ["system.which"], "device-approval", null, 1_000);
    store.nodeSurfaces.upsertRequest(surfaceInput(id.deviceId, ["system.run"]), 2_000);
    store.devices.remove(id.deviceId);
    assert.equal(store.nodeSurfaces.get(id.deviceId), null);
    assert.deepEqual(store.nodeSurfaces.requests(), []);

    store.devices.upsert(deviceRecord(id, { roles: ["node"], scopes: [] }));
    store.nodeSurfaces.pin(id.deviceId, ["system.which"], "device-approval", null, 3_000);
    const newKey = identity();
    approveDevice(store, {
      deviceId: id.deviceId,
      publicKey: newKey.publicKey,
      roles: ["node"],
      scopes: [],
      approvedVia: "approved",
      nowMs: 4_000,
    });
    assert.equal(store.nodeSurfaces.get(id.deviceId), null, "a new key is a new identity (C15)");
    store.close();
  });

  test("migration 5 upgrades a version-4 store: its pending requests carry no commands, surfaces start empty", () => {
    const id = identity();
    const path = storeAtVersion(4, (db) => {
      db.prepare(
        `INSERT INTO pending_requests (request_id, device_id, public_key, reason, roles_json, scopes_json,
           is_repair, created_at_ms, refreshed_at_ms, expires_at_ms)
         VALUES ('r1', ?, ?, 'not-paired', '["node"]', '[]', 0, 1, 1, 9999999999999)`,
      ).run(id.deviceId, id.publicKey);
    });
    const store = openStore(path);
    assert.equal(store.pending.get("r1", 2)?.commands, null);
    assert.deepEqual(store.nodeSurfaces.list(), []);
    // An old node request approved after the upgrade pins nothing: the node asks for its surface next.
    approvePending(store, "r1", "approved", 3);
    assert.equal(store.nodeSurfaces.get(id.deviceId), null);
    store.close();
  });
});
