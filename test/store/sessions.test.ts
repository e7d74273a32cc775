import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "better-sqlite3";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../src/store/migrations.js";
import { openStore } from "../../src/store/index.js";
import { sessionRow } from "../helpers/sessions.js";
import { deviceRecord, freshStore, identity, tempDir } from "./helpers.js";

describe("sessions (store)", () => {
  test("a session round-trips: command, scopes, lineage, end state and output", () => {
    const { store, path } = freshStore();
    store.sessions.insert(
      sessionRow("sess_a", {
        label: "child",
        command: ["node", "a b", '"q"'],
        cwd: "/tmp",
        scopes: ["operator.write", "operator.read"],
        parentSessionId: "sess_p",
        cronJobId: "cron_1",
        createdBy: "cron:cron_1",
      }),
    );
    store.sessions.setPid("sess_a", 4242);
    assert.equal(
      store.sessions.finish("sess_a", {
        status: "exited",
        exitCode: 0,
        signal: null,
        endedAtMs: 2_000,
        stdoutTail: "out ✓\n",
        stderrTail: "",
        endReason: null,
      }),
      true,
    );
    assert.equal(
      store.sessions.finish("sess_a", {
        status: "killed",
        exitCode: null,
        signal: "SIGKILL",
        endedAtMs: 3_000,
        stdoutTail: null,
        stderrTail: null,
        endReason: null,
      }),
      false,
      "an ended session does not end twice",
    );
    store.close();
    const again = openStore(path);
    assert.deepEqual(again.sessions.get("sess_a"), {
      ...sessionRow("sess_a"),
      label: "child",
      command: ["node", "a b", '"q"'],
      cwd: "/tmp",
      scopes: ["operator.read", "operator.write"],
      parentSessionId: "sess_p",
      cronJobId: "cron_1",
      createdBy: "cron:cron_1",
      status: "exited",
      exitCode: 0,
      pid: 4242,
      endedAtMs: 2_000,
      stdoutTail: "out ✓\n",
      stderrTail: "",
    });
    assert.equal(again.sessions.get("nope"), null);
    again.close();
  });

  test("list: newest first, by status or cron job, limited", () => {
    const { store } = freshStore();
    store.sessions.insert(sessionRow("s1", { startedAtMs: 1 }));
    store.sessions.insert(sessionRow("s2", { startedAtMs: 2, cronJobId: "c" }));
    store.sessions.insert(sessionRow("s3", { startedAtMs: 3 }));
    store.sessions.finish("s3", {
      status: "exited",
      exitCode: 1,
      signal: null,
      endedAtMs: 4,
      stdoutTail: "",
      stderrTail: "",
      endReason: null,
    });
    assert.deepEqual(
      store.sessions.list().map((s) => s.id),
      ["s3", "s2", "s1"],
    );
    assert.deepEqual(
      store.sessions.list({ status: "running" }).map((s) => s.id),
      ["s2", "s1"],
    );
    assert.deepEqual(
      store.sessions.list({ cronJobId: "c" }).map((s) => s.id),
      ["s2"],
    );
    assert.deepEqual(
      store.sessions.list({ limit: 1 }).map((s) => s.id),
      ["s3"],
    );
    store.close();
  });

  test("markLost: sessions still running when a gateway starts are lost, and only those", () => {
    const { store } = freshStore();
    store.sessions.insert(sessionRow("run1"));
    store.sessions.insert(sessionRow("run2"));
    store.sessions.insert(sessionRow("done"));
    store.sessions.finish("done", {
      status: "exited",
      exitCode: 0,
      signal: null,
      endedAtMs: 5,
      stdoutTail: "",
      stderrTail: "",
      endReason: null,
    });
    assert.deepEqual(store.sessions.markLost(9_000).sort(), ["run1", "run2"]);
    assert.equal(store.sessions.get("run1")!.status, "lost");
    assert.equal(store.sessions.get("run1")!.endedAtMs, 9_000);
    assert.equal(store.sessions.get("done")!.status, "exited");
    assert.deepEqual(store.sessions.markLost(9_500), []);
    store.close();
  });

  test("the table is bounded: only the newest ended sessions are kept, running ones always", () => {
    const { store } = freshStore({ sessionsKeepEnded: 3 });
    store.sessions.insert(sessionRow("old-running", { startedAtMs: 0 }));
    for (let i = 1; i <= 6; i++) {
      store.sessions.insert(sessionRow(`s${i}`, { startedAtMs: i }));
      store.sessions.finish(`s${i}`, {
        status: "exited",
        exitCode: 0,
        signal: null,
        endedAtMs: i,
        stdoutTail: "",
        stderrTail: "",
        endReason: null,
      });
    }
    assert.deepEqual(
      store.sessions.list().map((s) => s.id),
      ["s6", "s5", "s4", "old-running"],
    );
    store.close();
  });

  test("migration 2 upgrades a version-1 store in place and keeps its devices", () => {
    const dir = tempDir();
    const path = join(dir, "state", "gatehouse.sqlite");
    const first = openStore(path);
    first.close();
    // Rebuild the file as version 1 exactly: only migration 1 applied, with a paired device.
    const raw = new Database(path);
    raw.exec(
      "DROP TABLE runtime_tokens; DROP TABLE sessions; DROP TABLE cron_jobs; DROP TABLE setup_codes;" +
        "DROP TABLE node_surfaces; DROP TABLE node_surface_requests;" +
        "ALTER TABLE pending_requests DROP COLUMN commands_json;" +
        "ALTER TABLE pending_requests DROP COLUMN browser_origin;",
    );
    raw.pragma("user_version = 1");
    raw.close();
    const v1 = MIGRATIONS.find((m) => m.version === 1)!;
    assert.ok(v1, "migration 1 is still there, unchanged");
    const id = identity();
    {
      const db = new Database(path);
      db.prepare(
        `INSERT INTO devices (device_id, public_key, roles_json, scopes_json, approved_via, created_at_ms,
           approved_at_ms) VALUES (?, ?, '["operator"]', '["operator.read"]', 'approved', 1, 1)`,
      ).run(id.deviceId, id.publicKey);
      db.close();
    }
    const store = openStore(path);
    assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(store.devices.get(id.deviceId)?.publicKey, deviceRecord(id).publicKey);
    store.sessions.insert(sessionRow("after-upgrade"));
    assert.equal(store.sessions.get("after-upgrade")!.status, "running");
    store.close();
  });
});
