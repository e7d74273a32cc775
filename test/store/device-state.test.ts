import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import Database from "better-sqlite3";
import type { GatewayRole } from "../../src/protocol/client-info.js";
import { deviceRecord, freshStore, identity, pendingInput } from "./helpers.js";

const TTL = 10_000;
const CAPS = { total: 100, perIp: 100 };

describe("DeviceStateRepo.read: a connect's rows in one statement", () => {
  test("a paired device: its record's facts, every slot with its hash, a revoked one marked", () => {
    const { store } = freshStore();
    try {
      const id = identity();
      store.devices.upsert(
        deviceRecord(id, {
          roles: ["node", "operator"],
          scopes: ["operator.write", "operator.read"],
          platform: "macos",
          deviceFamily: "Mac",
          lastSeenAtMs: 7_000,
        }),
      );
      store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
      store.tokens.issue(id.deviceId, "node", [], 1_000);
      store.tokens.revoke(id.deviceId, "node", 2_000);
      const rows = store.deviceState.read(id.deviceId, 3_000);
      assert.deepEqual(rows.record, {
        publicKey: id.publicKey,
        roles: ["node", "operator"],
        scopes: ["operator.read", "operator.write"],
        platform: "macos",
        deviceFamily: "Mac",
        lastSeenAtMs: 7_000,
      });
      assert.deepEqual(rows.slots, store.tokens.slots(id.deviceId));
      assert.equal(rows.slots.node?.revoked, true);
      assert.equal(rows.slots.operator?.revoked, false);
      assert.match(rows.slots.operator?.hash ?? "", /^[0-9a-f]{64}$/);
      assert.equal(rows.pending, null);
    } finally {
      store.close();
    }
  });

  test("an unpaired device: no record, no slots, its pending request until it expires", () => {
    const { store } = freshStore();
    try {
      const id = identity();
      const created = store.pending.upsertForDevice(
        pendingInput(id, { scopes: ["operator.write"] }),
        1_000,
        TTL,
        CAPS,
      );
      assert.ok(created.kind === "created");
      const live = store.deviceState.read(id.deviceId, 1_000 + TTL - 1);
      assert.equal(live.record, null);
      assert.deepEqual(live.slots, {});
      assert.deepEqual(live.pending, {
        requestId: created.request.requestId,
        publicKey: id.publicKey,
        roles: ["operator"],
        scopes: ["operator.write"],
      });
      assert.equal(store.deviceState.read(id.deviceId, 1_000 + TTL).pending, null, "expired");
      assert.deepEqual(store.deviceState.read(identity().deviceId, 0), {
        record: null,
        slots: {},
        pending: null,
      });
    } finally {
      store.close();
    }
  });

  test("a role or scope this gateway does not know grants nothing, as in the record's own read", () => {
    const { store, path } = freshStore();
    try {
      const id = identity();
      store.devices.upsert(deviceRecord(id));
      store.tokens.issue(id.deviceId, "operator", ["operator.read"], 1_000);
      // Written as a newer (or damaged) build might have left them.
      const raw = new Database(path);
      raw
        .prepare("UPDATE devices SET roles_json = ?, scopes_json = ? WHERE device_id = ?")
        .run(JSON.stringify(["operator", "superuser"]), JSON.stringify(["operator.read", 7]), id.deviceId);
      raw
        .prepare(
          "INSERT INTO device_tokens SELECT device_id, 'root', token_hash, scopes_json, created_at_ms, NULL, NULL, NULL FROM device_tokens WHERE device_id = ?",
        )
        .run(id.deviceId);
      raw.close();
      const rows = store.deviceState.read(id.deviceId, 2_000);
      assert.deepEqual(rows.record?.roles, store.devices.get(id.deviceId)?.roles);
      assert.deepEqual(rows.record?.roles, ["operator"]);
      assert.deepEqual(rows.record?.scopes, ["operator.read"]);
      assert.deepEqual(Object.keys(rows.slots), ["operator"]);
    } finally {
      store.close();
    }
  });

  test("model: after any sequence of writes it reads what the three separate reads do", () => {
    const { store } = freshStore();
    const ids = [identity(), identity(), identity()];
    const roles: GatewayRole[] = ["operator", "node"];
    const scopeSets = [[], ["operator.read"], ["operator.admin", "operator.write"]];
    type Op =
      | { kind: "pair"; d: number; r: number; s: number }
      | { kind: "issue"; d: number; r: number; s: number }
      | { kind: "revoke"; d: number; r: number }
      | { kind: "remove"; d: number }
      | { kind: "ask"; d: number; s: number }
      | { kind: "drop-ask"; d: number }
      | { kind: "tick"; ms: number };
    const d = fc.nat(ids.length - 1);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("pair" as const), d, r: fc.nat(2), s: fc.nat(2) }),
      fc.record({ kind: fc.constant("issue" as const), d, r: fc.nat(1), s: fc.nat(2) }),
      fc.record({ kind: fc.constant("revoke" as const), d, r: fc.nat(1) }),
      fc.record({ kind: fc.constant("remove" as const), d }),
      fc.record({ kind: fc.constant("ask" as const), d, s: fc.nat(2) }),
      fc.record({ kind: fc.constant("drop-ask" as const), d }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: TTL }) }),
    );
    let now = 1_000;
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
          for (const id of ids) store.devices.remove(id.deviceId);
          for (const id of ids) store.pending.removeForDevice(id.deviceId);
          for (const o of ops) {
            if (o.kind === "tick") {
              now += o.ms;
              continue;
            }
            const id = ids[o.d]!;
            if (o.kind === "pair") {
              const paired = o.r === 2 ? roles : [roles[o.r]!];
              store.devices.upsert(
                deviceRecord(id, { roles: paired, scopes: scopeSets[o.s]!, lastSeenAtMs: now }),
              );
            } else if (o.kind === "issue") {
              if (store.devices.get(id.deviceId))
                store.tokens.issue(id.deviceId, roles[o.r]!, scopeSets[o.s]!, now);
            } else if (o.kind === "revoke") store.tokens.revoke(id.deviceId, roles[o.r]!, now);
            else if (o.kind === "remove") store.devices.remove(id.deviceId);
            else if (o.kind === "ask")
              store.pending.upsertForDevice(pendingInput(id, { scopes: scopeSets[o.s]! }), now, TTL, CAPS);
            else store.pending.removeForDevice(id.deviceId);
          }
          for (const id of ids) {
            const rows = store.deviceState.read(id.deviceId, now);
            const record = store.devices.get(id.deviceId);
            const pending = store.pending.getByDevice(id.deviceId, now);
            assert.deepEqual(
              rows.record,
              record && {
                publicKey: record.publicKey,
                roles: record.roles,
                scopes: record.scopes,
                platform: record.platform,
                deviceFamily: record.deviceFamily,
                lastSeenAtMs: record.lastSeenAtMs,
              },
            );
            assert.deepEqual(rows.slots, record ? store.tokens.slots(id.deviceId) : {});
            assert.deepEqual(
              rows.pending,
              pending && {
                requestId: pending.requestId,
                publicKey: pending.publicKey,
                roles: pending.roles,
                scopes: pending.scopes,
              },
            );
          }
        }),
        { numRuns: 150 },
      );
    } finally {
      store.close();
    }
  });
});
