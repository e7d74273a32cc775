import type { AuditDecision, AuditKind } from "../../src/store/audit.js";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../src/store/index.js";
import { freshStore } from "./helpers.js";

describe("audit log", () => {
  test("filters: decisions, refusals only, routine admits hidden and counted, paging back with beforeId", () => {
    const { store } = freshStore();
    const ids: Record<string, number> = {};
    const rows: Array<[string, AuditKind, AuditDecision, string | undefined]> = [
      ["a1", "connect", "admit", "dev-a"],
      ["a2", "connect", "admit", "dev-a"],
      ["p1", "connect", "pend", "dev-b"],
      ["r1", "connect", "reject", "dev-b"],
      ["f1", "connect", "pend-refused", "dev-c"],
      ["s1", "connect", "approve-silently", "dev-c"],
      ["m1", "approve", "approved", "dev-b"],
      ["a3", "connect", "admit", "dev-b"],
      ["x1", "remove", "admit", undefined], // not a connect: never routine, whatever its decision says
    ];
    rows.forEach(([name, kind, decision, deviceId], i) => {
      ids[name] = store.audit.append({ kind, decision, deviceId }, 1_000 + i);
    });
    const names = (list: Array<{ id: number }>) =>
      list.map((r) => Object.keys(ids).find((k) => ids[k] === r.id));

    assert.deepEqual(names(store.audit.list({ hideRoutine: true })), ["x1", "m1", "s1", "f1", "r1", "p1"]);
    assert.deepEqual(names(store.audit.list({ refusalsOnly: true })), ["f1", "r1", "p1"]);
    assert.deepEqual(names(store.audit.list({ refusalsOnly: true, deviceId: "dev-b" })), ["r1", "p1"]);
    assert.deepEqual(names(store.audit.list({ decisions: ["approved", "reject"] })), ["m1", "r1"]);
    assert.deepEqual(names(store.audit.list({ beforeId: ids.r1, limit: 2 })), ["p1", "a2"]);
    assert.deepEqual(names(store.audit.list({ afterId: ids.m1, hideRoutine: true })), ["x1"]);
    assert.equal(store.audit.count(), 9);
    assert.equal(store.audit.count({ hideRoutine: true }), 6, "three routine admits hidden");
    assert.equal(store.audit.count({ deviceId: "dev-a", hideRoutine: true }), 0);
    assert.deepEqual(store.audit.decisions(), [
      "admit",
      "approve-silently",
      "approved",
      "pend",
      "pend-refused",
      "reject",
    ]);
    // A decision is data, never SQL.
    assert.deepEqual(store.audit.list({ decisions: ["admit' OR '1'='1"] }), []);
  });

  test("rows come back newest first, filtered by device, or ascending after an id (follow)", () => {
    const { store } = freshStore();
    const a = store.audit.append(
      {
        kind: "connect",
        decision: "pend",
        reason: "scope-upgrade",
        deviceId: "dev-a",
        requestId: "req-1",
        peer: "127.0.0.1",
        client: "cli/cli",
        role: "operator",
        scopes: ["operator.write", "operator.read", "operator.read"],
        trace: ["client-loopback", "host-loopback", "uncovered-scope-upgrade"],
      },
      1_000,
    );
    const b = store.audit.append(
      { kind: "approve", decision: "approved", deviceId: "dev-a", actor: "cli" },
      2_000,
    );
    const c = store.audit.append({ kind: "connect", decision: "reject", deviceId: "dev-b" }, 3_000);

    assert.deepEqual(
      store.audit.list().map((r) => r.id),
      [c, b, a],
    );
    assert.deepEqual(
      store.audit.list({ deviceId: "dev-a" }).map((r) => r.id),
      [b, a],
    );
    assert.deepEqual(
      store.audit.list({ afterId: a }).map((r) => r.id),
      [b, c],
    );
    assert.deepEqual(
      store.audit.list({ afterId: a, deviceId: "dev-b" }).map((r) => r.id),
      [c],
    );
    assert.deepEqual(
      store.audit.list({ limit: 1 }).map((r) => r.id),
      [c],
    );
    assert.deepEqual(store.audit.list({ deviceId: "dev-a" }).at(-1), {
      id: a,
      tsMs: 1_000,
      kind: "connect",
      decision: "pend",
      reason: "scope-upgrade",
      deviceId: "dev-a",
      requestId: "req-1",
      peer: "127.0.0.1",
      client: "cli/cli",
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      trace: ["client-loopback", "host-loopback", "uncovered-scope-upgrade"],
      actor: null,
    });
    store.close();
  });

  test("the log never holds more than auditMaxRows rows; the oldest go first", () => {
    const { store, path } = freshStore({ auditMaxRows: 50 });
    let last = 0;
    for (let i = 1; i <= 237; i++) {
      last = store.audit.append({ kind: "connect", decision: "admit", reason: `n${i}` }, i);
      if (i % 10 === 0) assert.ok(store.audit.list({ limit: 1000 }).length <= 50);
    }
    const rows = store.audit.list({ limit: 1000 });
    assert.equal(rows.length, 50);
    assert.equal(rows[0]?.id, last);
    assert.equal(rows.at(-1)?.reason, "n188");
    store.close();

    const again = openStore(path, { auditMaxRows: 50 });
    again.audit.append({ kind: "connect", decision: "admit", reason: "after reopen" }, 999);
    const after = again.audit.list({ limit: 1000 });
    assert.equal(after.length, 50);
    assert.equal(after[0]?.reason, "after reopen");
    assert.equal(after.at(-1)?.reason, "n189");
    again.close();
  });

  test("appendMany writes a batch in order, with its own times, and keeps the bound like append", () => {
    const { store } = freshStore({ auditMaxRows: 50 });
    for (let i = 1; i <= 30; i++)
      store.audit.append({ kind: "connect", decision: "admit", reason: `a${i}` }, i);
    store.audit.appendMany(
      Array.from({ length: 40 }, (_, i) => ({
        entry: {
          kind: "connect" as const,
          decision: "admit" as const,
          reason: `b${i + 1}`,
          trace: ["client-loopback" as const],
        },
        ts: 100 + i,
      })),
    );
    store.audit.appendMany([]);
    const rows = store.audit.list({ limit: 1000 });
    assert.equal(rows.length, 50);
    assert.deepEqual(
      rows.slice(0, 2).map((r) => [r.reason, r.tsMs]),
      [
        ["b40", 139],
        ["b39", 138],
      ],
    );
    // The oldest 20 went: 10 of the earlier rows are left.
    assert.equal(rows.at(-1)?.reason, "a21");
    store.close();
  });
});
