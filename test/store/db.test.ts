import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../../src/store/migrations.js";
import { LATEST_SCHEMA_VERSION, openStore, StoreError } from "../../src/store/index.js";
import { deviceRecord, freshStore, identity, tempDir, thrown } from "./helpers.js";

const mode = (path: string) => statSync(path).mode & 0o777;
const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function assertStoreError(err: unknown, code: StoreError["code"]): asserts err is StoreError {
  assert.ok(err instanceof StoreError, `expected StoreError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
}

describe("openStore", () => {
  test("creates the directory 0700 and the database, -wal and -shm 0600 even with umask 0", () => {
    const previous = process.umask(0);
    try {
      const { store, path } = freshStore();
      try {
        store.devices.upsert(deviceRecord(identity()));
        assert.equal(mode(join(path, "..")), 0o700);
        for (const file of [path, `${path}-wal`, `${path}-shm`]) {
          assert.ok(existsSync(file), `${file} exists while the store is open`);
          assert.equal(mode(file), 0o600, `${file} mode`);
        }
      } finally {
        store.close();
      }
    } finally {
      process.umask(previous);
    }
  });

  test("what was written is there after close and reopen", () => {
    const { store, path } = freshStore();
    const id = identity();
    store.devices.upsert(deviceRecord(id, { label: "kitchen tablet", scopes: ["operator.write"] }));
    const token = store.tokens.issue(id.deviceId, "operator", ["operator.write"], 2_000);
    store.audit.append({ kind: "connect", decision: "admit", deviceId: id.deviceId }, 2_000);
    store.close();
    store.close(); // idempotent

    const again = openStore(path);
    try {
      const d = again.devices.get(id.deviceId);
      assert.equal(d?.label, "kitchen tablet");
      assert.deepEqual(d?.scopes, ["operator.write"]);
      assert.deepEqual(again.tokens.verify(id.deviceId, "operator", token), {
        kind: "valid",
        scopes: ["operator.write"],
      });
      assert.equal(again.audit.list().length, 1);
      assert.deepEqual(again.integrityCheck(), ["ok"]);
    } finally {
      again.close();
    }
  });

  test("migrations run once: reopening and re-running them changes nothing", () => {
    const { store, path } = freshStore();
    assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
    store.devices.upsert(deviceRecord(identity()));
    store.close();

    const again = openStore(path);
    assert.equal(again.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(again.devices.count(), 1);
    again.close();

    const db = new Database(path);
    try {
      const schemaBefore = db.prepare("SELECT sql FROM sqlite_master ORDER BY name").all();
      assert.equal(migrate(db, path), LATEST_SCHEMA_VERSION);
      assert.equal(migrate(db, path), LATEST_SCHEMA_VERSION);
      assert.deepEqual(db.prepare("SELECT sql FROM sqlite_master ORDER BY name").all(), schemaBefore);
      assert.equal(db.pragma("user_version", { simple: true }), LATEST_SCHEMA_VERSION);
      assert.equal((db.prepare("SELECT COUNT(*) AS n FROM devices").get() as { n: number }).n, 1);
    } finally {
      db.close();
    }
  });

  test("several processes opening one fresh store at once all succeed and migrate it once", async () => {
    const path = join(tempDir(), "state", "gatehouse.sqlite");
    const moduleUrl = new URL("../../src/store/index.js", import.meta.url).href;
    const script =
      `import { openStore } from ${JSON.stringify(moduleUrl)};` +
      `const s = openStore(${JSON.stringify(path)}); console.log(s.schemaVersion); s.close();`;
    const outputs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
              stdio: ["ignore", "pipe", "pipe"],
            });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.stderr.on("data", (d: Buffer) => (out += d.toString()));
            child.on("exit", () => resolve(out.trim()));
          }),
      ),
    );
    assert.deepEqual(outputs, Array(6).fill(String(LATEST_SCHEMA_VERSION)));
    const store = openStore(path);
    assert.deepEqual(store.integrityCheck(), ["ok"]);
    store.close();
  });

  test("a store from a newer Gatehouse is refused and left as it is", () => {
    const { store, path } = freshStore();
    store.close();
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    const before = digest(path);

    const err = thrown(() => openStore(path));
    assertStoreError(err, "STORE_NEWER_SCHEMA");
    assert.equal(err.path, path);
    assert.match(err.message, new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer`));
    assert.match(err.message, /Upgrade Gatehouse/);
    assert.equal(digest(path), before);
  });

  test("S15: a garbage file is refused as corrupt and its bytes are untouched", () => {
    for (const garbage of [
      Buffer.from("not a database\n"),
      Buffer.concat([Buffer.from('{"paired": {}}'), Buffer.alloc(8192, 0x5a)]),
    ]) {
      const dir = tempDir();
      const path = join(dir, "gatehouse.sqlite");
      writeFileSync(path, garbage);
      const before = digest(path);

      const err = thrown(() => openStore(path));
      assertStoreError(err, "STORE_CORRUPT");
      assert.equal(
        err.message,
        `state store ${path} is corrupt or not a Gatehouse database (SQLITE_NOTADB: file is not a database); ` +
          "refusing to start. Move it aside to start fresh (every device must pair again) or restore a backup.",
      );
      assert.equal(digest(path), before);
      assert.equal(existsSync(`${path}-wal`), false);
      assert.equal(existsSync(`${path}-journal`), false);
    }
  });

  test("another program's SQLite database is refused, not migrated into", () => {
    const dir = tempDir();
    const path = join(dir, "other.sqlite");
    const db = new Database(path);
    db.exec("CREATE TABLE device_pairing_paired (device_id TEXT PRIMARY KEY, data TEXT)");
    db.close();
    const before = digest(path);

    const err = thrown(() => openStore(path));
    assertStoreError(err, "STORE_CORRUPT");
    assert.match(err.message, /not a Gatehouse database \(a SQLite database without Gatehouse's schema\)/);
    assert.equal(digest(path), before);
  });

  test("damaged pages fail the integrity check at open", () => {
    const { store, path } = freshStore();
    for (let i = 0; i < 300; i++)
      store.devices.upsert(deviceRecord(identity(), { displayName: `device ${i}` }));
    store.close();
    const bytes = readFileSync(path);
    const pageSize = 4096;
    assert.ok(bytes.length > pageSize * 6, "several pages to damage");
    // Leave page 1 (header and schema) alone; scribble over the table and index pages after it.
    for (let off = pageSize * 2; off < bytes.length; off += 97) bytes[off] = 0xff;
    writeFileSync(path, bytes);
    const before = digest(path);

    const err = thrown(() => openStore(path));
    assertStoreError(err, "STORE_CORRUPT");
    assert.match(err.message, /refusing to start/);
    assert.equal(digest(path), before);
  });

  test("the integrity check at open does not leave the store's pages resident", () => {
    // quick_check reads every page; before, they stayed in the 16 MB page cache for the process's life.
    const { store, path } = freshStore();
    store.close();
    const db = new Database(path);
    const insert = db.prepare(
      "INSERT INTO audit_log (ts_ms, kind, decision, trace_json) VALUES (?, ?, ?, ?)",
    );
    db.transaction(() => {
      for (let i = 0; i < 12_000; i++) insert.run(i, "connect", "allow", `${i}:`.padEnd(700, "x"));
    })();
    db.close();
    const storeMiB = statSync(path).size / 2 ** 20;
    assert.ok(storeMiB > 8, `store of ${storeMiB.toFixed(1)} MiB`);

    // In a fresh process, so the reading is this open's alone; a small store first loads the addon.
    const moduleUrl = new URL("../../src/store/index.js", import.meta.url).href;
    const warm = join(tempDir(), "state", "gatehouse.sqlite");
    const script =
      `import { openStore } from ${JSON.stringify(moduleUrl)};` +
      `openStore(${JSON.stringify(warm)}).close();` +
      `const before = process.memoryUsage.rss();` +
      `const s = openStore(${JSON.stringify(path)});` +
      `console.log((process.memoryUsage.rss() - before) / 2 ** 20); s.close();`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    const grownMiB = Number(child.stdout.trim());
    assert.ok(grownMiB < 3, `RSS grew ${grownMiB.toFixed(1)} MiB opening a ${storeMiB.toFixed(1)} MiB store`);
  });

  test("an unreadable store is refused with STORE_UNREADABLE", (t) => {
    const dir = tempDir();
    const stateDir = join(dir, "state");
    mkdirSync(stateDir);
    const path = join(stateDir, "gatehouse.sqlite");
    openStore(path).close();
    chmodSync(path, 0o000);
    try {
      let readable = true;
      try {
        readFileSync(path);
      } catch {
        readable = false;
      }
      if (!readable) {
        const err = thrown(() => openStore(path));
        assertStoreError(err, "STORE_UNREADABLE");
        assert.match(err.message, /EACCES/);
        return;
      }
      // Root reads through mode 000; ask an unprivileged user instead, if we may switch to one.
      if (typeof process.getuid !== "function" || process.getuid() !== 0) {
        t.skip(`mode 000 does not stop this user (uid ${process.getuid?.()}) from reading the file`);
        return;
      }
      chmodSync(dir, 0o755);
      chmodSync(stateDir, 0o755);
      const moduleUrl = new URL("../../src/store/index.js", import.meta.url).href;
      const script =
        `import { openStore } from ${JSON.stringify(moduleUrl)};` +
        `try { openStore(${JSON.stringify(path)}); console.log(JSON.stringify({ opened: true })); }` +
        `catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      });
      if (child.error || child.status !== 0) {
        t.skip(
          `running as root, mode 000 is no obstacle, and no unprivileged child could run: ${child.error?.message ?? child.stderr}`,
        );
        return;
      }
      const result = JSON.parse(child.stdout) as { code?: string; message?: string };
      assert.equal(result.code, "STORE_UNREADABLE", child.stdout);
      assert.match(result.message ?? "", /cannot open state store .* for reading and writing \(EACCES\)/);
    } finally {
      chmodSync(path, 0o600);
    }
  });
});

describe("Store.transaction", () => {
  test("nests: a failed inner transaction rolls back only itself; a failed outer one rolls back all", () => {
    const { store } = freshStore();
    const a = identity();
    const b = identity();
    const c = identity();
    try {
      store.transaction(() => {
        store.devices.upsert(deviceRecord(a));
        assert.throws(() =>
          store.transaction(() => {
            store.devices.upsert(deviceRecord(b));
            throw new Error("inner fails");
          }),
        );
      });
      assert.ok(store.devices.get(a.deviceId));
      assert.equal(store.devices.get(b.deviceId), null);

      assert.throws(
        () =>
          store.transaction(() => {
            store.devices.upsert(deviceRecord(c));
            store.transaction(() => store.devices.rename(a.deviceId, "renamed"));
            throw new Error("outer fails");
          }),
        /outer fails/,
      );
      assert.equal(store.devices.get(c.deviceId), null);
      assert.equal(store.devices.get(a.deviceId)?.label, null);
      assert.equal(
        store.transaction(() => 42),
        42,
      );
    } finally {
      store.close();
    }
  });
});
