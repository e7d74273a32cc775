/**
 * The device-key cache (src/gateway/device-proof.ts) sits before authentication: any client that
 * reaches the connect frame chooses the key text it is keyed by. These tests pin its two promises —
 * it stays small whatever clients send, and a cached answer is exactly the answer deriving again
 * would give (one key, one device id, whatever its spelling; two keys never share one).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  derivedKeyCount,
  DERIVED_KEYS_MAX,
  DERIVED_KEY_TEXT_MAX,
  verifyDeviceProof,
} from "../../src/gateway/device-proof.js";
import { generateIdentity, signPayload, type DeviceIdentity } from "../../src/identity/keys.js";
import type { ConnectParams } from "../../src/protocol/connect.js";
import { buildSignaturePayloadV3 } from "../../src/protocol/signature-payload.js";
import { STATE_DIR_OWNER } from "../../src/devices/manager.js";
import { pairDevice, startTestGateway } from "../helpers/gateway.js";
import { connectOnce } from "../helpers/raw-client.js";

const NONCE = "nonce-for-the-cache-tests";
const PARAMS = {
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "cli", version: "test", platform: "linux", mode: "cli" },
  role: "operator",
  scopes: ["operator.read"],
} as ConnectParams;

/** A real v3 proof by `signer`, claiming device id `id` and carrying `keyText` as its key. */
function proof(signer: DeviceIdentity, keyText: string, id = signer.deviceId) {
  const signedAt = Date.now();
  const payload = buildSignaturePayloadV3({
    deviceId: id,
    clientId: "cli",
    clientMode: "cli",
    role: "operator",
    scopes: ["operator.read"],
    signedAtMs: signedAt,
    token: "",
    nonce: NONCE,
    platform: "linux",
  });
  const device = { id, publicKey: keyText, signature: signPayload(signer, payload), signedAt, nonce: NONCE };
  return verifyDeviceProof(device, PARAMS, "operator", NONCE, signedAt);
}

/** A line of `n` characters (and its line end) that OpenSSL skips before a PEM block, distinct per `seed`. */
const junk = (seed: number, n: number) => "j".repeat(n - String(seed).length) + String(seed) + "\n";

describe("device-key cache", () => {
  it("a key behind long leading text is admitted as itself but not kept, however many such texts arrive", () => {
    const identity = generateIdentity();
    const before = derivedKeyCount();
    for (let i = 0; i < 200; i++) {
      const text = junk(i, 60_000) + identity.publicKeyPem;
      assert.deepEqual(proof(identity, text), {
        ok: true,
        deviceId: identity.deviceId,
        publicKey: identity.publicKey,
        payloadVersion: "v3",
      });
    }
    assert.equal(derivedKeyCount(), before, "no long text entered the cache");
    // Just over the bound is not kept; the plain PEM (113 characters) is.
    assert.equal(proof(identity, junk(-1, DERIVED_KEY_TEXT_MAX - 113) + identity.publicKeyPem).ok, true);
    assert.equal(derivedKeyCount(), before);
    assert.equal(proof(identity, identity.publicKeyPem).ok, true);
    assert.equal(derivedKeyCount(), Math.min(before + 1, DERIVED_KEYS_MAX));
  });

  it("a paired device whose connect carries its PEM behind 60 KB of text is admitted as that device, and the gateway keeps none of it", async () => {
    const gw = await startTestGateway();
    try {
      const { identity, token } = pairDevice(gw, ["operator.read"]);
      const before = derivedKeyCount();
      // A full cache would hide growth: this runs before the test that fills it.
      assert.ok(before + 20 <= DERIVED_KEYS_MAX);
      for (let i = 0; i < 20; i++) {
        const res = await connectOnce(gw.url, {
          identity,
          scopes: ["operator.read"],
          auth: { deviceToken: token },
          device: { publicKey: junk(i, 60_000) + identity.publicKeyPem },
        });
        assert.equal(res.ok, true, JSON.stringify(res.error));
        const auth = (res.payload as { auth?: { method?: string; scopes?: string[] } }).auth;
        assert.deepEqual([auth?.method, auth?.scopes], ["device-token", ["operator.read"]]);
      }
      assert.equal(derivedKeyCount(), before);
      // Still one device, stored under its canonical key, and nothing pending for a second identity.
      assert.equal(gw.store.devices.get(identity.deviceId)?.publicKey, identity.publicKey);
      assert.deepEqual(gw.store.pending.list(Date.now()), []);
    } finally {
      await gw.stop();
    }
  });

  it("a cached key admits nothing by itself: a removed device, a revoked token and a replaced token are refused with the key warm", async () => {
    const gw = await startTestGateway();
    try {
      const { identity, token } = pairDevice(gw, ["operator.read"]);
      const before = derivedKeyCount();
      assert.ok(before + 1 <= DERIVED_KEYS_MAX, "runs before the test that fills the cache");
      const connect = (deviceToken: string) =>
        connectOnce(gw.url, { identity, scopes: ["operator.read"], auth: { deviceToken } });
      const refusal = (res: Awaited<ReturnType<typeof connect>>) => {
        assert.equal(res.ok, false, "refused");
        // Still a hit: the key was derived once, by the first connect, and not again.
        assert.equal(derivedKeyCount(), before + 1);
        return res.error?.details?.code ?? res.error?.code;
      };

      // Warm: the key enters the cache on its first connect.
      assert.equal((await connect(token)).ok, true);
      assert.equal(derivedKeyCount(), before + 1);

      // A replaced token (what rotation does): the old one no longer admits, the new one does.
      const replaced = gw.store.tokens.issue(identity.deviceId, "operator", ["operator.read"], Date.now());
      assert.equal(refusal(await connect(token)), "AUTH_DEVICE_TOKEN_MISMATCH");
      assert.equal((await connect(replaced)).ok, true);

      // Revoked: refused.
      gw.server.devices.revoke(STATE_DIR_OWNER, identity.deviceId, "operator");
      assert.notEqual(refusal(await connect(replaced)), undefined);

      // Removed: its token went with its record, so nothing admits it and nothing re-pairs it.
      gw.server.devices.remove(STATE_DIR_OWNER, identity.deviceId);
      assert.equal(refusal(await connect(replaced)), "AUTH_DEVICE_TOKEN_MISMATCH");
      assert.equal(gw.store.devices.get(identity.deviceId), null);
    } finally {
      await gw.stop();
    }
  });

  it(`holds at most ${DERIVED_KEYS_MAX} keys, and an evicted key derives to the same device again`, () => {
    const first = generateIdentity();
    assert.equal(proof(first, first.publicKey).ok, true);
    for (let i = 0; i < DERIVED_KEYS_MAX + 50; i++) {
      const id = generateIdentity();
      assert.equal(proof(id, id.publicKey).ok, true);
      assert.ok(derivedKeyCount() <= DERIVED_KEYS_MAX);
    }
    assert.equal(derivedKeyCount(), DERIVED_KEYS_MAX);
    // `first` was the oldest entry and is gone; deriving it again gives the same answer.
    assert.deepEqual(proof(first, first.publicKey), {
      ok: true,
      deviceId: first.deviceId,
      publicKey: first.publicKey,
      payloadVersion: "v3",
    });
  });

  it("every spelling of one key is one device, from the cache as from a fresh derivation", () => {
    const identity = generateIdentity();
    const raw = Buffer.from(identity.publicKey, "base64url");
    const spellings = {
      "raw base64url": identity.publicKey,
      "standard base64": raw.toString("base64"),
      PEM: identity.publicKeyPem,
      "PEM with CRLF": identity.publicKeyPem.replace(/\n/g, "\r\n"),
      "PEM after short text": junk(1, 8) + identity.publicKeyPem,
      "PEM after long text": junk(2, 5_000) + identity.publicKeyPem,
      "PEM before trailing text": identity.publicKeyPem + "trailing text",
    };
    for (const [name, text] of Object.entries(spellings)) {
      for (const pass of ["derived", "cached"]) {
        assert.deepEqual(
          proof(identity, text),
          { ok: true, deviceId: identity.deviceId, publicKey: identity.publicKey, payloadVersion: "v3" },
          `${name}, ${pass}`,
        );
      }
    }
  });

  it("two keys behind the same long text stay two devices, and neither answers for the other", () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const prefix = junk(7, 4 * DERIVED_KEY_TEXT_MAX);
    const textA = prefix + a.publicKeyPem;
    const textB = prefix + b.publicKeyPem;
    for (let pass = 0; pass < 2; pass++) {
      for (const [who, text] of [
        [a, textA],
        [b, textB],
      ] as const) {
        const res = proof(who, text);
        assert.equal(res.ok ? res.deviceId : res.code, who.deviceId);
      }
      // B's key claiming A's id (signed by A) is refused, both ways, short and long texts alike.
      for (const [signer, text, claimed] of [
        [a, textB, a.deviceId],
        [b, textA, b.deviceId],
        [a, b.publicKey, a.deviceId],
        [a, b.publicKeyPem, a.deviceId],
      ] as const) {
        assert.deepEqual(proof(signer, text, claimed), { ok: false, code: "DEVICE_AUTH_DEVICE_ID_MISMATCH" });
      }
      // B's key and id with A's signature: the key is B's, so the signature is not.
      assert.deepEqual(proof(a, b.publicKey, b.deviceId), {
        ok: false,
        code: "DEVICE_AUTH_SIGNATURE_INVALID",
      });
      assert.deepEqual(proof(a, textB, b.deviceId), { ok: false, code: "DEVICE_AUTH_SIGNATURE_INVALID" });
    }
  });
});
