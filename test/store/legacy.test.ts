import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateIdentity } from "../../src/identity/keys.js";
import { scopeSatisfied } from "../../src/policy/scopes.js";
import { importLegacyPaired, normalizeLegacyPaired } from "../../src/store/legacy.js";
import { freshStore } from "./helpers.js";

/** A legacy `paired.json` value for a fresh key, as OpenClaw wrote it. */
function legacy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { deviceId, publicKey } = generateIdentity();
  return {
    deviceId,
    publicKey,
    displayName: "MacBook",
    platform: "darwin",
    clientId: "cli",
    clientMode: "cli",
    createdAtMs: 1_700_000_000_000,
    approvedAtMs: 1_700_000_001_000,
    ...overrides,
  };
}

function normalized(raw: unknown) {
  const r = normalizeLegacyPaired(raw, 42);
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r;
}

describe("legacy paired-device records", () => {
  test("a single `role` becomes the roles set, merged with `roles`", () => {
    assert.deepEqual(normalized(legacy({ role: "operator" })).device.roles, ["operator"]);
    assert.deepEqual(normalized(legacy({ role: "node", roles: ["operator", "node"] })).device.roles, [
      "node",
      "operator",
    ]);
  });

  test("the baseline is approvedScopes, else scopes, else nothing", () => {
    assert.deepEqual(
      normalized(legacy({ role: "operator", scopes: ["operator.write", "operator.read"] })).device.scopes,
      ["operator.read", "operator.write"],
    );
    assert.deepEqual(
      normalized(legacy({ role: "operator", scopes: ["operator.read"], approvedScopes: ["operator.admin"] }))
        .device.scopes,
      ["operator.admin"],
    );
    assert.deepEqual(normalized(legacy({ role: "operator" })).device.scopes, []);
  });

  test("S05: an empty tokens map means no tokens; the roles still come from role/roles", () => {
    const r = normalized(legacy({ role: "operator", roles: ["operator", "node"], tokens: {} }));
    assert.deepEqual(r.device.roles, ["node", "operator"]);
    assert.deepEqual(r.tokens, []);
  });

  test("S08: the pre-2026.2.19 scope set loads as the baseline and still covers read and write", () => {
    const r = normalized(
      legacy({ role: "operator", scopes: ["operator.admin", "operator.approvals", "operator.pairing"] }),
    );
    assert.deepEqual(r.device.scopes, ["operator.admin", "operator.approvals", "operator.pairing"]);
    assert.ok(scopeSatisfied(r.device.scopes, "operator.read"));
    assert.ok(scopeSatisfied(r.device.scopes, "operator.write"));
  });

  test("metadata: platform and family normalized, label from operatorLabel, key re-encoded base64url", () => {
    const id = generateIdentity();
    const r = normalized(
      legacy({
        deviceId: id.deviceId,
        publicKey: id.publicKeyPem,
        platform: "  MacOS 26.3.1 ",
        deviceFamily: "Mac",
        operatorLabel: "studio",
        remoteIp: "10.0.0.7",
        lastSeenAtMs: 1_700_000_002_000,
      }),
    );
    assert.equal(r.device.publicKey, id.publicKey);
    assert.equal(r.device.platform, "macos 26.3.1");
    assert.equal(r.device.deviceFamily, "mac");
    assert.equal(r.device.label, "studio");
    assert.equal(r.device.approvedVia, "imported");
    assert.equal(r.device.createdAtMs, 1_700_000_000_000);
    assert.equal(r.device.approvedAtMs, 1_700_000_001_000);
    assert.equal(r.device.lastSeenAtMs, 1_700_000_002_000);
    assert.equal(r.device.lastSeenIp, "10.0.0.7");
  });

  test("import stores tokens hashed: a live one verifies, a revoked one stays revoked", () => {
    const { store } = freshStore();
    const raw = legacy({
      roles: ["node", "operator"],
      scopes: ["operator.read"],
      tokens: {
        operator: {
          token: "live-operator-token",
          role: "operator",
          scopes: ["operator.read"],
          createdAtMs: 5,
          lastUsedAtMs: 7,
        },
        node: { token: "revoked-node-token", role: "node", scopes: [], createdAtMs: 5, revokedAtMs: 6 },
      },
    });
    const r = importLegacyPaired(store, raw, 100);
    assert.deepEqual(r, { ok: true, deviceId: raw.deviceId, imported: true });
    const deviceId = raw.deviceId as string;
    assert.deepEqual(store.tokens.verify(deviceId, "operator", "live-operator-token"), {
      kind: "valid",
      scopes: ["operator.read"],
    });
    assert.deepEqual(store.tokens.verify(deviceId, "node", "revoked-node-token"), { kind: "revoked" });
    assert.deepEqual(
      store.tokens.list(deviceId).map((t) => [t.role, t.createdAtMs, t.revokedAtMs, t.lastUsedAtMs]),
      [
        ["node", 5, 6, null],
        ["operator", 5, null, 7],
      ],
    );
    assert.equal(store.devices.get(deviceId)?.approvedVia, "imported");
    store.close();
  });

  test("tokens for roles outside the approval, and issuer-bound tokens, are not imported", () => {
    const r = normalized(
      legacy({
        role: "operator",
        tokens: {
          operator: {
            token: "t1",
            role: "operator",
            scopes: [],
            createdAtMs: 1,
            issuer: { kind: "shared-gateway-auth", generation: 3 },
          },
          node: { token: "t2", role: "node", scopes: [], createdAtMs: 1 },
        },
      }),
    );
    assert.deepEqual(r.tokens, []);
  });

  test("a record naming no roles keeps the roles of its live tokens", () => {
    const r = normalized(
      legacy({
        tokens: {
          operator: { token: "t1", scopes: ["operator.read"], createdAtMs: 1 },
          node: { token: "t2", scopes: [], createdAtMs: 1, revokedAtMs: 2 },
        },
      }),
    );
    assert.deepEqual(r.device.roles, ["operator"]);
    assert.deepEqual(
      r.tokens.map((t) => t.role),
      ["operator"],
    );
  });

  test("malformed records are refused with a reason and write nothing", () => {
    const other = generateIdentity();
    const cases: Array<[unknown, RegExp]> = [
      [null, /not a JSON object/],
      [[legacy()], /not a JSON object/],
      [legacy({ deviceId: undefined }), /deviceId is missing/],
      [legacy({ deviceId: other.deviceId }), /deviceId does not match its publicKey/],
      [legacy({ publicKey: "not a key!" }), /publicKey is not an Ed25519 public key/],
      [
        legacy({ publicKey: Buffer.alloc(16, 1).toString("base64url") }),
        /publicKey is not an Ed25519 public key/,
      ],
      [legacy({ roles: "operator" }), /roles must be a list of strings/],
      [legacy({ scopes: ["operator.read", 7] }), /scopes must be a list of strings/],
      [legacy({ createdAtMs: "yesterday" }), /createdAtMs must be a number/],
      [legacy({ tokens: [] }), /tokens must be an object keyed by role/],
      [
        legacy({ role: "operator", tokens: { operator: { role: "operator", scopes: [] } } }),
        /tokens\.operator has no token/,
      ],
      [
        legacy({ role: "operator", tokens: { operator: { token: "secret-value-xyz", role: "node" } } }),
        /tokens\.operator names a different role/,
      ],
      [
        legacy({
          role: "operator",
          tokens: { operator: { token: "secret-value-xyz", createdAtMs: "soon" } },
        }),
        /tokens\.operator\.createdAtMs must be a number/,
      ],
    ];
    const { store } = freshStore();
    for (const [raw, reason] of cases) {
      const r = importLegacyPaired(store, raw, 100);
      assert.ok(!r.ok, `refused: ${JSON.stringify(raw)}`);
      assert.match(r.error, reason);
      assert.equal(r.error.includes("secret-value-xyz"), false, "no token in the error");
    }
    assert.equal(store.devices.count(), 0);
    store.close();
  });

  test("a device already in the store wins over the legacy record", () => {
    const { store } = freshStore();
    const raw = legacy({ role: "operator", scopes: ["operator.read"] });
    assert.deepEqual(importLegacyPaired(store, raw, 100), {
      ok: true,
      deviceId: raw.deviceId,
      imported: true,
    });
    const again = importLegacyPaired(
      store,
      { ...raw, scopes: ["operator.admin"], tokens: { operator: { token: "x" } } },
      200,
    );
    assert.deepEqual(again, { ok: true, deviceId: raw.deviceId, imported: false });
    assert.deepEqual(store.devices.get(raw.deviceId as string)?.scopes, ["operator.read"]);
    assert.deepEqual(store.tokens.list(raw.deviceId as string), []);
    store.close();
  });
});
