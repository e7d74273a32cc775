/**
 * Reading OpenClaw state dirs in both formats (legacy JSON files, SQLite) and importing them: each
 * legacy shape gets its meaning, a malformed record is reported and skipped, the rest imported,
 * tokens stored hashed (the old cleartext still verifies), revoked stays revoked.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { generateIdentity } from "../../src/identity/keys.js";
import { scopeSatisfied } from "../../src/policy/scopes.js";
import {
  applyOpenClawImport,
  planOpenClawImport,
  readOpenClawState,
  rowToLegacy,
} from "../../src/store/openclaw-import.js";
import type { Store } from "../../src/store/index.js";
import {
  fixtureSet,
  toRow,
  writeJsonState,
  writeSqliteState,
  type FixtureSet,
} from "../helpers/openclaw-fixtures.js";
import { freshStore, tempDir } from "./helpers.js";

const NOW = 1_770_000_000_000;

function all(f: FixtureSet) {
  return [f.emptyTokens, f.singleRole, f.scopesOnly, f.revoked, f.legacyAdmin, f.issuerBound, f.malformed];
}

/** Imports a state dir into a fresh store; returns the store and the result rows. */
function importInto(dir: string): { store: Store; rows: ReturnType<typeof applyOpenClawImport> } {
  const { store } = freshStore();
  const state = readOpenClawState(dir);
  return { store, rows: applyOpenClawImport(store, planOpenClawImport(state, store, NOW), NOW) };
}

/** What every format must produce for the fixture set. */
function assertImported(store: Store, rows: ReturnType<typeof applyOpenClawImport>, f: FixtureSet): void {
  const byId = new Map(rows.map((r) => [r.deviceId, r]));
  const status = (d: { record: Record<string, unknown> }) => byId.get(d.record.deviceId as string)?.status;

  // S05: `tokens: {}` is no tokens; the legacy roles stay.
  assert.equal(status(f.emptyTokens), "imported");
  const empty = store.devices.get(f.emptyTokens.identity.deviceId)!;
  assert.deepEqual(empty.roles, ["node", "operator"]);
  assert.deepEqual(store.tokens.list(f.emptyTokens.identity.deviceId), []);
  assert.equal(empty.approvedVia, "imported");
  assert.equal(empty.publicKey, f.emptyTokens.identity.publicKey, "the key is kept");

  // A single `role`; approvedScopes is the baseline; the old token verifies (stored hashed).
  const single = store.devices.get(f.singleRole.identity.deviceId)!;
  assert.deepEqual(single.roles, ["operator"]);
  assert.deepEqual(single.scopes, ["operator.read", "operator.write"]);
  assert.deepEqual(store.tokens.verify(single.deviceId, "operator", f.singleRole.tokens.operator!), {
    kind: "valid",
    scopes: ["operator.read", "operator.write"],
  });

  // `scopes` without `approvedScopes` is the baseline.
  assert.deepEqual(store.devices.get(f.scopesOnly.identity.deviceId)!.scopes, ["operator.read"]);

  // Revoked stays revoked.
  assert.deepEqual(store.tokens.verify(f.revoked.identity.deviceId, "operator", f.revoked.tokens.operator!), {
    kind: "revoked",
  });
  assert.deepEqual(byId.get(f.revoked.identity.deviceId)!.tokens, [{ role: "operator", state: "revoked" }]);

  // S08: the pre-2026.2.19 set is kept as is and still covers read and write.
  const admin = store.devices.get(f.legacyAdmin.identity.deviceId)!;
  assert.deepEqual(admin.scopes, ["operator.admin", "operator.approvals", "operator.pairing"]);
  assert.ok(scopeSatisfied(admin.scopes, "operator.write"));

  // A generation-bound token is dropped (re-issued on the next connect); the device is imported.
  assert.equal(status(f.issuerBound), "imported");
  assert.deepEqual(byId.get(f.issuerBound.identity.deviceId)!.tokens, [
    { role: "operator", state: "dropped" },
  ]);
  assert.deepEqual(store.tokens.list(f.issuerBound.identity.deviceId), []);

  // The malformed record: reported with a reason, nothing of it written.
  const broken = rows.find((r) => r.status === "error");
  assert.ok(broken, "the malformed record is reported");
  assert.match(broken.error ?? "", /deviceId does not match its publicKey|not valid JSON/);
  assert.equal(store.devices.get(f.malformed.identity.deviceId), null);
  assert.equal(store.devices.get("0".repeat(64)), null);

  assert.equal(rows.filter((r) => r.status === "imported").length, 6);
  const audit = store.audit.list({ limit: 100 }).filter((a) => a.kind === "import");
  assert.equal(audit.length, 6, "one audit row per imported device");
}

describe("OpenClaw legacy JSON state dir", () => {
  test("every legacy shape imports with its meaning; the malformed record is reported, the rest imported", () => {
    const dir = tempDir();
    const f = fixtureSet();
    const own = generateIdentity();
    writeJsonState(dir, all(f), { pending: 2, identity: own });
    const state = readOpenClawState(dir);
    assert.equal(state.pending, 2, "pending requests are counted");
    assert.deepEqual(state.identity, { deviceId: own.deviceId, source: "identity/device.json" });
    assert.equal(state.paired.length, 7);
    const { store, rows } = importInto(dir);
    try {
      assertImported(store, rows, f);
      assert.equal(store.pending.list(NOW).length, 0, "pending requests are not imported");
      assert.equal(store.devices.get(own.deviceId), null, "OpenClaw's own identity is not adopted");
    } finally {
      store.close();
    }
  });

  test("a dry run writes nothing; a second import finds every device already present", () => {
    const dir = tempDir();
    const f = fixtureSet();
    writeJsonState(dir, [f.singleRole, f.revoked]);
    const { store } = freshStore();
    try {
      const state = readOpenClawState(dir);
      const plan = planOpenClawImport(state, store, NOW);
      assert.deepEqual(
        plan.map((p) => p.row.status),
        ["new", "new"],
      );
      assert.equal(store.devices.count(), 0, "planning writes nothing");
      applyOpenClawImport(store, plan, NOW);
      const again = applyOpenClawImport(store, planOpenClawImport(state, store, NOW), NOW);
      assert.deepEqual(
        again.map((r) => r.status),
        ["already-present", "already-present"],
      );
    } finally {
      store.close();
    }
  });

  test("a paired.json that is not JSON is a file-level problem, and its text is never echoed", () => {
    const dir = tempDir();
    writeJsonState(dir, []);
    const secret = "tok-SECRET-123";
    const path = join(dir, "devices", "paired.json");
    writeFileSync(path, `{"x": {"tokens": "${secret}"`);
    const state = readOpenClawState(dir);
    assert.equal(state.paired.length, 0);
    assert.equal(state.problems.length, 1);
    assert.match(state.problems[0]!, /is not valid JSON/);
    assert.ok(!state.problems[0]!.includes(secret));
    assert.ok(readFileSync(path, "utf8").includes(secret), "the file is left as it was");
  });
});

describe("OpenClaw SQLite state dir (state/openclaw.sqlite)", () => {
  test("rows with snake_case and *_json columns import like the JSON records; a bad row is reported", () => {
    const dir = tempDir();
    const f = fixtureSet();
    const own = generateIdentity();
    const good = all(f).filter((d) => d !== f.malformed);
    // The malformed row here: a *_json column that is not JSON.
    const bad = {
      ...toRow(f.malformed.record),
      device_id: f.malformed.identity.deviceId,
      roles_json: "[not json",
    };
    writeSqliteState(dir, good, { pending: 3, identity: own, rows: [bad] });
    const state = readOpenClawState(dir);
    assert.equal(state.pending, 3);
    assert.deepEqual(state.identity, {
      deviceId: own.deviceId,
      source: "state/openclaw.sqlite (device_identities)",
    });
    const { store, rows } = importInto(dir);
    try {
      assertImported(store, rows, f);
      const broken = rows.find((r) => r.status === "error")!;
      assert.match(broken.error!, /roles_json is not valid JSON/);
    } finally {
      store.close();
    }
  });

  test("a device in both the SQLite store and paired.json is taken once, from SQLite", () => {
    const dir = tempDir();
    const f = fixtureSet();
    writeJsonState(dir, [
      { ...f.singleRole, record: { ...f.singleRole.record, approvedScopes: ["operator.read"] } },
    ]);
    writeSqliteState(dir, [f.singleRole]);
    const state = readOpenClawState(dir);
    assert.equal(state.paired.length, 1);
    assert.equal(state.paired[0]!.source, "state/openclaw.sqlite");
    const { store } = importInto(dir);
    try {
      assert.deepEqual(store.devices.get(f.singleRole.identity.deviceId)!.scopes, [
        "operator.read",
        "operator.write",
      ]);
    } finally {
      store.close();
    }
  });

  test("unknown columns are ignored, absent ones stay absent, a whole-record JSON column is a base", () => {
    const id = generateIdentity();
    const mapped = rowToLegacy({
      device_id: id.deviceId,
      public_key: id.publicKey,
      data_json: JSON.stringify({ displayName: "from blob", platform: "ios" }),
      display_name: "from column",
      some_future_column: 7,
      scopes_json: null,
    });
    assert.ok("raw" in mapped);
    assert.equal(mapped.raw.displayName, "from column");
    assert.equal(mapped.raw.platform, "ios");
    assert.equal(mapped.raw.someFutureColumn, 7);
    assert.ok(!("scopes" in mapped.raw));
  });

  test("the OpenClaw database is opened read-only: it is byte-for-byte unchanged", () => {
    const dir = tempDir();
    const f = fixtureSet();
    const path = writeSqliteState(dir, [f.singleRole]);
    const before = readFileSync(path);
    importInto(dir).store.close();
    assert.deepEqual(readFileSync(path), before);
  });
});
