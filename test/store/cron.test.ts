import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../src/store/index.js";
import { cronJob, freshStore } from "./helpers.js";

const job = cronJob;

describe("cron jobs (store)", () => {
  test("C25: a job keeps its creator's scopes beside its own, across a reopen", () => {
    const { store, path } = freshStore();
    store.cron.insert(job("cron_a", { scopes: ["operator.write", "operator.read"], timeoutMs: 5_000 }));
    store.close();
    const again = openStore(path);
    assert.deepEqual(again.cron.get("cron_a"), {
      ...job("cron_a"),
      scopes: ["operator.read", "operator.write"],
      timeoutMs: 5_000,
    });
    again.close();
  });

  test("update, recordRun, list and remove", () => {
    const { store } = freshStore();
    store.cron.insert(job("cron_a", { createdAtMs: 1 }));
    store.cron.insert(job("cron_b", { createdAtMs: 2, missedPolicy: "run-once", enabled: false }));
    assert.equal(store.cron.update({ ...job("cron_a", { createdAtMs: 1 }), schedule: "*/5 * * * *" }), true);
    assert.equal(store.cron.update(job("cron_none")), false);
    store.cron.recordRun("cron_a", 7_000, "sess_x");
    assert.deepEqual(
      store.cron
        .list()
        .map((j) => [j.id, j.schedule, j.enabled, j.missedPolicy, j.lastRunAtMs, j.lastSessionId]),
      [
        ["cron_a", "*/5 * * * *", true, "skip", 7_000, "sess_x"],
        ["cron_b", "0 3 * * *", false, "run-once", null, null],
      ],
    );
    assert.equal(store.cron.count(), 2);
    assert.equal(store.cron.remove("cron_a"), true);
    assert.equal(store.cron.remove("cron_a"), false);
    assert.equal(store.cron.get("cron_a"), null);
    store.close();
  });
});
