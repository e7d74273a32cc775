import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  buildSignaturePayloadV2,
  buildSignaturePayloadV3,
  normalizeDeviceMetadata,
  signedToken,
  type SignatureFieldsV3,
} from "../../src/protocol/signature-payload.js";
import type { ConnectAuth } from "../../src/protocol/connect.js";
import {
  decodePublicKeyBytes,
  generateIdentity,
  publicKeyFromRaw,
  signPayload,
  verifyPayload,
  type DeviceIdentity,
} from "../../src/identity/keys.js";

/** The fields of the reference vectors (reference §1.5). */
function vectorFields(overrides: Partial<SignatureFieldsV3> = {}): SignatureFieldsV3 {
  return {
    deviceId: "dev-1",
    clientId: "openclaw-macos",
    clientMode: "ui",
    role: "operator",
    scopes: ["operator.admin", "operator.read"],
    signedAtMs: 1700000000000,
    token: "",
    nonce: "nonce-abc",
    ...overrides,
  };
}

/** The public key as the server would rebuild it from the wire form. */
function serverSideKey(identity: DeviceIdentity) {
  const raw = decodePublicKeyBytes(identity.publicKey);
  assert.ok(raw, "wire public key decodes");
  const key = publicKeyFromRaw(raw);
  assert.ok(key, "wire public key is a valid Ed25519 key");
  return key;
}

describe("signature payload reference vectors", () => {
  test("v2 vector", () => {
    assert.equal(
      buildSignaturePayloadV2(vectorFields()),
      "v2|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000||nonce-abc",
    );
  });

  test("v3 vector, built from un-normalized platform '  iOS ' and deviceFamily 'iPhone'", () => {
    assert.equal(
      buildSignaturePayloadV3(vectorFields({ token: "tok-123", platform: "  iOS ", deviceFamily: "iPhone" })),
      "v3|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000|tok-123|nonce-abc|ios|iphone",
    );
  });

  test("v3 vector with empty metadata keeps both trailing slots", () => {
    const expected = "v3|dev-2|openclaw-ios|ui|operator|operator.read|1700000000001||nonce-def||";
    const base = vectorFields({
      deviceId: "dev-2",
      clientId: "openclaw-ios",
      scopes: ["operator.read"],
      signedAtMs: 1700000000001,
      nonce: "nonce-def",
    });
    assert.equal(buildSignaturePayloadV3(base), expected);
    assert.equal(
      buildSignaturePayloadV3({ ...base, platform: undefined, deviceFamily: undefined }),
      expected,
    );
    assert.equal(buildSignaturePayloadV3({ ...base, platform: "", deviceFamily: "   " }), expected);
    assert.equal(expected.split("|").length, 11);
  });

  test("v3 is the v2 field list with a v3 tag and two metadata slots appended", () => {
    const f = vectorFields({ token: "t", platform: "macOS", deviceFamily: "Mac" });
    const v2 = buildSignaturePayloadV2(f).split("|");
    const v3 = buildSignaturePayloadV3(f).split("|");
    assert.equal(v2.length, 9);
    assert.equal(v3.length, 11);
    assert.deepEqual(v3.slice(1, 9), v2.slice(1));
    assert.deepEqual([v2[0], v3[0], v3[9], v3[10]], ["v2", "v3", "macos", "mac"]);
  });

  test("signedAt is written as a plain decimal integer", () => {
    const payload = buildSignaturePayloadV2(vectorFields({ signedAtMs: 1e21 - 1e6 }));
    assert.match(payload.split("|")[6] ?? "", /^\d+$/);
    assert.equal(buildSignaturePayloadV2(vectorFields({ signedAtMs: 0 })).split("|")[6], "0");
  });
});

describe("metadata normalization", () => {
  const cases: [string | undefined | null, string][] = [
    ["  İOS ", "İos"],
    ["  iOS ", "ios"],
    ["iPhone", "iphone"],
    ["MacOS 14.5", "macos 14.5"],
    ["ÄNDROID", "Ändroid"],
    ["ÀB", "Àb"],
    ["STRASSE ß", "strasse ß"],
    ["\t linux\n", "linux"],
    ["", ""],
    ["   ", ""],
    [undefined, ""],
    [null, ""],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeDeviceMetadata(input), expected);
    });
  }

  test("only ASCII A–Z is lowercased: non-ASCII capitals stay as sent", () => {
    assert.equal(normalizeDeviceMetadata("ÉÇÑ"), "ÉÇÑ");
    assert.equal(normalizeDeviceMetadata("ΣΑΣ"), "ΣΑΣ");
  });
});

describe("scopes in the payload", () => {
  test("scopes keep the order they were sent in (no sorting)", () => {
    const a = buildSignaturePayloadV3(vectorFields({ scopes: ["operator.read", "operator.admin"] }));
    const b = buildSignaturePayloadV3(vectorFields({ scopes: ["operator.admin", "operator.read"] }));
    assert.equal(a.split("|")[5], "operator.read,operator.admin");
    assert.equal(b.split("|")[5], "operator.admin,operator.read");
    assert.notEqual(a, b);
  });

  test("no scopes leaves an empty slot", () => {
    assert.equal(
      buildSignaturePayloadV2(vectorFields({ scopes: [] })),
      "v2|dev-1|openclaw-macos|ui|operator||1700000000000||nonce-abc",
    );
  });

  test("duplicate scopes are kept as sent", () => {
    assert.equal(
      buildSignaturePayloadV2(vectorFields({ scopes: ["operator.read", "operator.read"] })).split("|")[5],
      "operator.read,operator.read",
    );
  });
});

describe("signedToken: the credential that goes into the token slot", () => {
  const cases: [string, ConnectAuth | undefined, string][] = [
    ["no auth", undefined, ""],
    ["empty auth", {}, ""],
    ["token only", { token: "tok" }, "tok"],
    ["deviceToken only", { deviceToken: "dev" }, "dev"],
    ["bootstrapToken only", { bootstrapToken: "boot" }, "boot"],
    [
      "token beats deviceToken and bootstrapToken",
      { token: "tok", deviceToken: "dev", bootstrapToken: "boot" },
      "tok",
    ],
    ["deviceToken beats bootstrapToken", { deviceToken: "dev", bootstrapToken: "boot" }, "dev"],
    ["an empty token is still the token (??, not ||)", { token: "", deviceToken: "dev" }, ""],
    ["password is never signed", { password: "hunter2" }, ""],
    ["password with token: token signed", { password: "hunter2", token: "tok" }, "tok"],
    ["password with deviceToken: deviceToken signed", { password: "hunter2", deviceToken: "dev" }, "dev"],
    ["runtime tokens are not signed", { approvalRuntimeToken: "a", agentRuntimeIdentityToken: "b" }, ""],
  ];
  for (const [name, auth, expected] of cases) {
    test(name, () => {
      assert.equal(signedToken(auth), expected);
    });
  }

  test("the password never appears in a payload built from signedToken", () => {
    const auth: ConnectAuth = { password: "s3cret-pw" };
    const payload = buildSignaturePayloadV3(vectorFields({ token: signedToken(auth) }));
    assert.ok(!payload.includes("s3cret-pw"));
    assert.equal(payload.split("|")[7], "");
  });
});

describe("sign and verify a payload", () => {
  const identity = generateIdentity();
  const fields = vectorFields({
    deviceId: identity.deviceId,
    token: "tok-123",
    platform: "iOS",
    deviceFamily: "iPhone",
  });
  const payload = buildSignaturePayloadV3(fields);
  const signature = signPayload(identity, payload);
  const key = serverSideKey(identity);

  test("a signature over the v3 payload verifies with the wire public key", () => {
    assert.equal(verifyPayload(key, payload, signature), true);
  });

  test("metadata that normalizes to the same value still verifies", () => {
    const same = buildSignaturePayloadV3({ ...fields, platform: "  IOS  ", deviceFamily: "IPHONE" });
    assert.equal(same, payload);
    assert.equal(verifyPayload(key, same, signature), true);
  });

  const tampered: [string, Partial<SignatureFieldsV3>][] = [
    ["role", { role: "node" }],
    ["one scope", { scopes: ["operator.admin", "operator.write"] }],
    ["an added scope", { scopes: ["operator.admin", "operator.read", "operator.pairing"] }],
    ["scope order", { scopes: ["operator.read", "operator.admin"] }],
    ["nonce", { nonce: "nonce-abd" }],
    ["signedAt", { signedAtMs: fields.signedAtMs + 1 }],
    ["token", { token: "tok-124" }],
    ["token removed", { token: "" }],
    ["platform", { platform: "android" }],
    ["deviceFamily", { deviceFamily: "iPad" }],
    ["clientId", { clientId: "openclaw-ios" }],
    ["clientMode", { clientMode: "cli" }],
    ["deviceId", { deviceId: "0".repeat(64) }],
  ];
  for (const [name, change] of tampered) {
    test(`changing ${name} makes verification fail`, () => {
      const changed = buildSignaturePayloadV3({ ...fields, ...change });
      assert.notEqual(changed, payload);
      assert.equal(verifyPayload(key, changed, signature), false);
    });
  }

  test("a v3 signature does not verify as the v2 payload of the same fields (no downgrade)", () => {
    assert.equal(verifyPayload(key, buildSignaturePayloadV2(fields), signature), false);
  });

  test("another identity's key does not verify the signature", () => {
    assert.equal(verifyPayload(serverSideKey(generateIdentity()), payload, signature), false);
  });
});
