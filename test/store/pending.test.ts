import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../src/store/index.js";
import { freshStore, identity, pendingInput, storeAtVersion } from "./helpers.js";

const TTL = 300_000;
const CAPS = { total: 100, perIp: 10 };

describe("pending requests", () => {
  test("S42: the same ask again refreshes the request in place and keeps its requestId", () => {
    const { store } = freshStore();
    const id = identity();
    const first = store.pending.upsertForDevice(
      pendingInput(id, { scopes: ["operator.read", "operator.write"] }),
      1_000,
      TTL,
      CAPS,
    );
    assert.ok(first.kind === "created");
    assert.deepEqual(first.superseded, []);

    const again = store.pending.upsertForDevice(
      pendingInput(id, {
        scopes: ["operator.write", "operator.read", "operator.write"],
        displayName: "phone (renamed)",
        remoteIp: "192.168.1.21",
      }),
      5_000,
      TTL,
      CAPS,
    );
    assert.ok(again.kind === "refreshed");
    assert.deepEqual(again.superseded, []);
    assert.equal(again.request.requestId, first.request.requestId);
    assert.equal(again.request.createdAtMs, 1_000, "a retry does not move the request up the queue");
    assert.equal(again.request.refreshedAtMs, 5_000);
    assert.equal(again.request.expiresAtMs, 5_000 + TTL);
    assert.equal(again.request.displayName, "phone (renamed)");
    assert.deepEqual(store.pending.get(first.request.requestId, 6_000), again.request);
    assert.equal(store.pending.list(6_000).length, 1);
    store.close();
  });

  test("C11: a different ask supersedes the request under a new id and reports the old one", () => {
    const { store } = freshStore();
    const id = identity();
    const shown = store.pending.upsertForDevice(pendingInput(id), 1_000, TTL, CAPS);
    assert.ok(shown.kind === "created");

    const elevated = store.pending.upsertForDevice(
      pendingInput(id, { scopes: ["operator.admin"] }),
      2_000,
      TTL,
      CAPS,
    );
    assert.ok(elevated.kind === "created");
    assert.notEqual(elevated.request.requestId, shown.request.requestId);
    assert.deepEqual(elevated.superseded, [shown.request.requestId]);
    assert.equal(store.pending.get(shown.request.requestId, 2_000), null, "the id the approver saw is gone");
    assert.deepEqual(store.pending.get(elevated.request.requestId, 2_000)?.scopes, ["operator.admin"]);
    assert.equal(elevated.request.createdAtMs, 2_000);

    const roleChange = store.pending.upsertForDevice(
      pendingInput(id, { scopes: ["operator.admin"], roles: ["operator", "node"] }),
      3_000,
      TTL,
      CAPS,
    );
    assert.ok(roleChange.kind === "created");
    assert.deepEqual(roleChange.superseded, [elevated.request.requestId]);

    const keyChange = store.pending.upsertForDevice(
      pendingInput(
        { deviceId: id.deviceId, publicKey: identity().publicKey },
        { scopes: ["operator.admin"], roles: ["node", "operator"] },
      ),
      4_000,
      TTL,
      CAPS,
    );
    assert.ok(keyChange.kind === "created");
    assert.deepEqual(keyChange.superseded, [roleChange.request.requestId]);
    assert.equal(store.pending.list(4_000).length, 1);
    store.close();
  });

  test("expired requests are invisible, not refreshed, and pruned", () => {
    const { store } = freshStore();
    const a = identity();
    const b = identity();
    const ra = store.pending.upsertForDevice(pendingInput(a), 1_000, 10_000, CAPS);
    const rb = store.pending.upsertForDevice(pendingInput(b), 5_000, 10_000, CAPS);
    assert.ok(ra.kind === "created" && rb.kind === "created");
    assert.deepEqual(
      store.pending.list(6_000).map((p) => p.requestId),
      [rb.request.requestId, ra.request.requestId],
      "newest first",
    );

    assert.equal(store.pending.getByDevice(a.deviceId, 11_000), null);
    assert.equal(store.pending.get(ra.request.requestId, 11_000), null);
    assert.deepEqual(
      store.pending.list(11_000).map((p) => p.requestId),
      [rb.request.requestId],
    );

    // The same ask after expiry is a new request; the expired one was never live to anyone now.
    const again = store.pending.upsertForDevice(pendingInput(a), 12_000, 10_000, CAPS);
    assert.ok(again.kind === "created");
    assert.notEqual(again.request.requestId, ra.request.requestId);
    assert.deepEqual(again.superseded, []);

    assert.deepEqual(store.pending.pruneExpired(16_000), [rb.request.requestId]);
    assert.deepEqual(store.pending.pruneExpired(16_000), []);
    assert.equal(store.pending.list(16_000).length, 1);
    store.close();
  });

  test("the total cap refuses new requests but lets requesters already counted refresh or change", () => {
    const { store } = freshStore();
    const caps = { total: 3, perIp: 100 };
    const ids = [identity(), identity(), identity(), identity()];
    for (const [i, id] of ids.slice(0, 3).entries()) {
      assert.equal(
        store.pending.upsertForDevice(pendingInput(id, { remoteIp: `10.0.0.${i}` }), 1_000, TTL, caps).kind,
        "created",
      );
    }
    assert.deepEqual(store.pending.upsertForDevice(pendingInput(ids[3]!), 1_000, TTL, caps), {
      kind: "full",
      limit: "total",
    });
    assert.equal(store.pending.getByDevice(ids[3]!.deviceId, 1_000), null);
    assert.equal(
      store.pending.upsertForDevice(pendingInput(ids[0]!, { remoteIp: "10.0.0.0" }), 2_000, TTL, caps).kind,
      "refreshed",
    );
    assert.equal(
      store.pending.upsertForDevice(pendingInput(ids[0]!, { scopes: ["operator.write"] }), 2_000, TTL, caps)
        .kind,
      "created",
    );
    assert.equal(store.pending.list(2_000).length, 3);
    // Once the others expire there is room again.
    assert.equal(
      store.pending.upsertForDevice(pendingInput(ids[3]!), 1_000 + TTL, TTL, caps).kind,
      "created",
    );
    store.close();
  });

  test("C18: a thousand devices from one address get at most perIp requests", () => {
    const { store } = freshStore();
    const caps = { total: 2_000, perIp: 5 };
    const outcomes = { created: 0, "per-ip": 0, other: 0 };
    for (let i = 0; i < 1000; i++) {
      const r = store.pending.upsertForDevice(
        pendingInput({ deviceId: `flood-${i}`, publicKey: `key-${i}` }, { remoteIp: "203.0.113.9" }),
        1_000 + i,
        TTL,
        caps,
      );
      if (r.kind === "created") outcomes.created++;
      else if (r.kind === "full" && r.limit === "per-ip") outcomes["per-ip"]++;
      else outcomes.other++;
    }
    assert.deepEqual(outcomes, { created: 5, "per-ip": 995, other: 0 });
    assert.equal(store.pending.list(2_000).length, 5);
    const honest = store.pending.upsertForDevice(
      pendingInput(identity(), { remoteIp: "192.168.1.5" }),
      2_000,
      TTL,
      caps,
    );
    assert.equal(honest.kind, "created", "another address is not affected");
    store.close();
  });

  test("remove and removeForDevice", () => {
    const { store } = freshStore();
    const a = identity();
    const b = identity();
    const ra = store.pending.upsertForDevice(pendingInput(a), 1_000, TTL, CAPS);
    store.pending.upsertForDevice(pendingInput(b), 1_000, TTL, CAPS);
    assert.ok(ra.kind === "created");
    assert.equal(store.pending.remove(ra.request.requestId), true);
    assert.equal(store.pending.remove(ra.request.requestId), false);
    store.pending.removeForDevice(b.deviceId);
    assert.deepEqual(store.pending.list(1_000), []);
    store.close();
  });

  test("a browser's Origin is kept with its request, refreshed with it, and read back after a reopen", () => {
    const { store, path } = freshStore();
    const id = identity();
    const page = {
      clientId: "openclaw-control-ui",
      clientMode: "webchat",
      browserOrigin: "https://tools.example",
    };
    const first = store.pending.upsertForDevice(pendingInput(id, page), 1_000, TTL, CAPS);
    assert.ok(first.kind === "created");
    assert.equal(first.request.browserOrigin, "https://tools.example");
    const again = store.pending.upsertForDevice(pendingInput(id, page), 2_000, TTL, CAPS);
    assert.ok(again.kind === "refreshed");
    assert.equal(again.request.browserOrigin, "https://tools.example");
    store.close();
    const reopened = openStore(path);
    assert.equal(
      reopened.pending.get(first.request.requestId, 3_000)?.browserOrigin,
      "https://tools.example",
    );
    assert.equal(reopened.pending.list(3_000)[0]?.browserOrigin, "https://tools.example");
    reopened.close();
  });

  test("C11: the same ask from another page (or from no page) is a new request: the approver sees where it comes from", () => {
    const { store } = freshStore();
    const id = identity();
    const shown = store.pending.upsertForDevice(
      pendingInput(id, { browserOrigin: "https://ui.example" }),
      1_000,
      TTL,
      CAPS,
    );
    assert.ok(shown.kind === "created");
    const moved = store.pending.upsertForDevice(
      pendingInput(id, { browserOrigin: "https://evil.example" }),
      2_000,
      TTL,
      CAPS,
    );
    assert.ok(moved.kind === "created");
    assert.notEqual(moved.request.requestId, shown.request.requestId);
    assert.deepEqual(moved.superseded, [shown.request.requestId]);
    assert.equal(store.pending.get(shown.request.requestId, 2_000), null, "what was shown is gone");
    const noPage = store.pending.upsertForDevice(pendingInput(id), 3_000, TTL, CAPS);
    assert.ok(noPage.kind === "created");
    assert.equal(noPage.request.browserOrigin, null);
    assert.deepEqual(noPage.superseded, [moved.request.requestId]);
    store.close();
  });

  test("migration 6 upgrades a version-5 store: its pending requests keep everything, their origin unknown", () => {
    const id = identity();
    const path = storeAtVersion(5, (db) => {
      db.prepare(
        `INSERT INTO pending_requests (request_id, device_id, public_key, reason, roles_json, scopes_json,
           remote_ip, is_repair, created_at_ms, refreshed_at_ms, expires_at_ms)
         VALUES ('r1', ?, ?, 'not-paired', '["operator"]', '["operator.read"]', '192.168.1.20', 0, 1, 1,
           9999999999999)`,
      ).run(id.deviceId, id.publicKey);
    });
    const store = openStore(path);
    const request = store.pending.get("r1", 2);
    assert.equal(request?.remoteIp, "192.168.1.20");
    assert.deepEqual(request?.scopes, ["operator.read"]);
    assert.equal(request?.browserOrigin, null);
    store.close();
  });
});
