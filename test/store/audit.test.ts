import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../src/store/index.js";
import { freshStore } from "./helpers.js";

describe("audit log", () => {
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
        trace: ["proof:device-signature", "record:found", "scopes:upgrade"],
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
      trace: ["proof:device-signature", "record:found", "scopes:upgrade"],
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
});
