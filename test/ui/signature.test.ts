/**
 * The browser's v3 signature payload (src/ui/static/signature.js, shipped as-is) is byte for byte
 * the server's `buildSignaturePayloadV3` for the same fields: the reference vectors, then random
 * fields (odd metadata, empty slots, non-ASCII). browser.test.ts checks the same file inside Chromium.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  buildSignaturePayloadV3,
  normalizeDeviceMetadata,
  signedToken,
  type SignatureFieldsV3,
} from "../../src/protocol/signature-payload.js";

interface BrowserSignature {
  buildSignaturePayloadV3(f: SignatureFieldsV3): string;
  normalizeDeviceMetadata(v: unknown): string;
  signedToken(auth: unknown): string;
}

const browser = (await import(
  new URL("../../../src/ui/static/signature.js", import.meta.url).href
)) as BrowserSignature;

describe("browser signature.js equals the server's builder", () => {
  it("reference vectors (§1.5)", () => {
    const v3 = {
      deviceId: "dev-1",
      clientId: "openclaw-macos",
      clientMode: "ui",
      role: "operator",
      scopes: ["operator.admin", "operator.read"],
      signedAtMs: 1700000000000,
      token: "tok-123",
      nonce: "nonce-abc",
      platform: "ios",
      deviceFamily: "iphone",
    };
    const expected =
      "v3|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000|tok-123|nonce-abc|ios|iphone";
    assert.equal(browser.buildSignaturePayloadV3(v3), expected);
    assert.equal(buildSignaturePayloadV3(v3), expected);
    const empty = {
      deviceId: "dev-2",
      clientId: "openclaw-ios",
      clientMode: "ui",
      role: "operator",
      scopes: ["operator.read"],
      signedAtMs: 1700000000001,
      token: "",
      nonce: "nonce-def",
    };
    assert.equal(
      browser.buildSignaturePayloadV3(empty),
      "v3|dev-2|openclaw-ios|ui|operator|operator.read|1700000000001||nonce-def||",
    );
  });

  it("the Control UI's own connect fields", () => {
    const f = {
      deviceId: "a".repeat(64),
      clientId: "openclaw-control-ui",
      clientMode: "webchat",
      role: "operator",
      scopes: ["operator.admin", "operator.pairing", "operator.read"],
      signedAtMs: 1767225600000,
      token: "shared-token",
      nonce: "2b0d3f4e-1111-4222-8333-944455556666",
      platform: "web",
      deviceFamily: "browser",
    };
    assert.equal(browser.buildSignaturePayloadV3(f), buildSignaturePayloadV3(f));
  });

  it("random fields: same string, same normalization, same token slot", () => {
    const text = fc.string({ unit: "binary", maxLength: 24 });
    fc.assert(
      fc.property(
        fc.record({
          deviceId: fc.stringMatching(/^[0-9a-f]{64}$/),
          clientId: text,
          clientMode: text,
          role: fc.constantFrom("operator", "node"),
          scopes: fc.array(text, { maxLength: 6 }),
          signedAtMs: fc.nat(),
          token: text,
          nonce: text,
          platform: fc.option(fc.oneof(text, fc.constantFrom("  Linux ", "İOS", "MacIntel", "")), {
            nil: undefined,
          }),
          deviceFamily: fc.option(text, { nil: undefined }),
        }),
        (f) => {
          assert.equal(browser.buildSignaturePayloadV3(f), buildSignaturePayloadV3(f));
          assert.equal(browser.normalizeDeviceMetadata(f.platform), normalizeDeviceMetadata(f.platform));
        },
      ),
      { numRuns: 500 },
    );
    const auths = [
      undefined,
      {},
      { token: "t" },
      { deviceToken: "d" },
      { bootstrapToken: "b" },
      { token: "t", deviceToken: "d" },
      { deviceToken: "d", bootstrapToken: "b" },
      { token: "", deviceToken: "d" },
    ];
    for (const a of auths) assert.equal(browser.signedToken(a), signedToken(a), JSON.stringify(a));
  });
});
