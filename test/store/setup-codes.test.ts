/** Setup codes in the store: hashes only, single use, expiry, pruning; and the code/link format. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import {
  buildSetupLink,
  formatFingerprint,
  formatSetupCode,
  normalizeFingerprint,
  normalizeSetupCode,
  parseSetupInput,
  SETUP_CODE_ALPHABET,
  setupCodeFromBytes,
} from "../../src/protocol/setup-code.js";
import { hashSetupCode, LATEST_SCHEMA_VERSION, openStore } from "../../src/store/index.js";
import { freshStore, storeAtVersion } from "./helpers.js";

const CODE = "ABCD2345XY";
const FP = "a".repeat(64);

function mint(store: ReturnType<typeof freshStore>["store"], code = CODE, expiresAtMs = 600_000) {
  return store.setupCodes.create({
    code,
    profile: "operator-limited",
    roles: ["operator"],
    scopes: ["operator.write", "operator.read", "operator.approvals"],
    gatewayUrl: "wss://10.0.0.5:18789",
    fingerprint: FP,
    createdBy: "device:owner",
    createdAtMs: 1_000,
    expiresAtMs,
  });
}

describe("setup codes (store)", () => {
  test("migration 3 creates setup_codes; only the code's SHA-256 is stored, never the code", () => {
    const { store, path } = freshStore();
    assert.equal(LATEST_SCHEMA_VERSION >= 3, true);
    const rec = mint(store);
    assert.equal(rec.codeHash, hashSetupCode(CODE));
    assert.deepEqual(rec.scopes, ["operator.approvals", "operator.read", "operator.write"]);
    for (const file of [path, `${path}-wal`].filter(existsSync)) {
      assert.equal(readFileSync(file).includes(CODE), false, `code found in ${file}`);
    }
    const db = new Database(path, { readonly: true });
    const cols = (db.prepare("PRAGMA table_info(setup_codes)").all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    db.close();
    assert.deepEqual(cols, [
      "code_hash",
      "profile",
      "roles_json",
      "scopes_json",
      "gateway_url",
      "fingerprint",
      "created_by",
      "created_at_ms",
      "expires_at_ms",
      "used_at_ms",
      "used_by_device",
    ]);
    store.close();
  });

  test("lookup: valid until it expires; unknown codes are unknown; nothing changes on lookup", () => {
    const { store } = freshStore();
    mint(store, CODE, 5_000);
    const ok = store.setupCodes.lookup(CODE, 4_999);
    assert.equal(ok.kind, "valid");
    assert.equal(store.setupCodes.lookup(CODE, 4_999).kind, "valid", "a lookup does not spend it");
    assert.deepEqual(
      {
        kind: store.setupCodes.lookup(CODE, 5_000).kind,
        why: (store.setupCodes.lookup(CODE, 5_000) as { why: string }).why,
      },
      { kind: "invalid", why: "expired" },
    );
    assert.deepEqual(store.setupCodes.lookup("ZZZZ2345XY", 1), { kind: "invalid", why: "unknown" });
    assert.deepEqual(store.setupCodes.lookup("", 1), { kind: "invalid", why: "unknown" });
    store.close();
  });

  test("redeem: exactly once, bound to the first device; not after expiry", () => {
    const { store } = freshStore();
    mint(store, CODE, 5_000);
    const hash = hashSetupCode(CODE);
    assert.equal(store.setupCodes.redeem(hash, "dev-a", 2_000), true);
    assert.equal(store.setupCodes.redeem(hash, "dev-b", 2_001), false, "a second redemption fails");
    assert.equal(store.setupCodes.redeem(hash, "dev-a", 2_002), false, "even by the same device");
    const used = store.setupCodes.lookup(CODE, 2_003);
    assert.equal(used.kind, "invalid");
    assert.equal(used.kind === "invalid" && used.why, "used");
    assert.equal(used.record?.usedByDevice, "dev-a");
    assert.equal(used.record?.usedAtMs, 2_000);

    mint(store, "QRST6789AB", 5_000);
    assert.equal(store.setupCodes.redeem(hashSetupCode("QRST6789AB"), "dev-c", 5_000), false, "expired");
    store.close();
  });

  test("listLive, revoke and prune", () => {
    const { store } = freshStore();
    mint(store, CODE, 5_000);
    mint(store, "QRST6789AB", 9_000);
    assert.deepEqual(
      store.setupCodes.listLive(4_000).map((r) => r.codeHash),
      [hashSetupCode(CODE), hashSetupCode("QRST6789AB")],
    );
    assert.equal(store.setupCodes.revoke(hashSetupCode("QRST6789AB"), 4_000), true);
    assert.equal(store.setupCodes.lookup("QRST6789AB", 4_001).kind, "invalid");
    store.setupCodes.redeem(hashSetupCode(CODE), "dev-a", 4_500);
    assert.equal(store.setupCodes.prune(4_600), 2);
    assert.deepEqual(store.setupCodes.listLive(0), []);
    store.close();
  });

  test("migration 3 upgrades a version-2 store in place: devices and sessions stay", () => {
    const path = storeAtVersion(2, (db) =>
      db
        .prepare(
          `INSERT INTO devices (device_id, public_key, roles_json, scopes_json, approved_via, created_at_ms,
           approved_at_ms) VALUES ('dev-x', 'pk', '["operator"]', '["operator.read"]', 'approved', 1, 1)`,
        )
        .run(),
    );
    const again = openStore(path);
    assert.equal(again.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(again.devices.get("dev-x")?.publicKey, "pk");
    mint(again);
    assert.equal(again.setupCodes.lookup(CODE, 2_000).kind, "valid");
    again.close();
  });

  test("survives a reopen (durable), and a readonly open can look codes up", () => {
    const { store, path } = freshStore();
    mint(store);
    store.close();
    const again = openStore(path, { readonly: true });
    assert.equal(again.setupCodes.lookup(CODE, 2_000).kind, "valid");
    again.close();
  });
});

describe("setup code format", () => {
  test("ten symbols from an alphabet without look-alikes; grouped for display; typed forms normalize", () => {
    assert.equal(SETUP_CODE_ALPHABET.length, 32);
    for (const ch of "01IO") assert.equal(SETUP_CODE_ALPHABET.includes(ch), false, ch);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = setupCodeFromBytes(randomBytes(10));
      assert.match(code, /^[2-9A-HJ-NP-Z]{10}$/);
      seen.add(code);
    }
    assert.equal(seen.size, 200);
    assert.equal(formatSetupCode("ABCD2345XY"), "ABCD-2345-XY");
    assert.equal(normalizeSetupCode(" abcd-2345-xy "), "ABCD2345XY");
    assert.equal(normalizeSetupCode("ABCD 2345 XY"), "ABCD2345XY");
    assert.equal(normalizeSetupCode("ABCD-2345-X"), null, "too short");
    assert.equal(normalizeSetupCode("ABCD-2345-X0"), null, "0 is not in the alphabet");
  });

  test("the link carries url, fingerprint, code and profile, and parses back; bare codes parse too", () => {
    const link = buildSetupLink({
      code: "ABCD2345XY",
      url: "wss://10.0.0.5:18789",
      fingerprint: FP,
      profile: "node",
    });
    assert.match(link, /^gatehouse:\/\/pair\?/);
    assert.deepEqual(parseSetupInput(link), {
      code: "ABCD2345XY",
      url: "wss://10.0.0.5:18789",
      fingerprint: FP,
      profile: "node",
    });
    assert.deepEqual(parseSetupInput("abcd-2345-xy"), {
      code: "ABCD2345XY",
      url: null,
      fingerprint: null,
      profile: null,
    });
    assert.equal(parseSetupInput("gatehouse://pair?url=wss://x"), null, "no code");
    assert.equal(parseSetupInput("https://example.com/?code=ABCD2345XY"), null);
    assert.equal(parseSetupInput("gatehouse://evil?code=ABCD2345XY"), null);
    assert.equal(
      parseSetupInput("gatehouse://pair?code=ABCD2345XY&url=javascript:alert(1)")?.url,
      null,
      "only ws:// and wss:// URLs are taken from a link",
    );
  });

  test("fingerprints: colons stripped, lower case, 64 hex digits", () => {
    const colons = formatFingerprint(FP.replace(/a/g, "B"));
    assert.match(colons, /^BB:BB:/);
    assert.equal(normalizeFingerprint(colons), "b".repeat(64));
    assert.equal(normalizeFingerprint(`SHA256:${colons}`), "b".repeat(64));
    assert.equal(normalizeFingerprint("abc"), null);
    assert.equal(normalizeFingerprint("g".repeat(64)), null);
  });
});
