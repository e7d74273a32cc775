/**
 * Which lane a connect's signature takes (src/gateway/signature-lane.ts), and that a proof checked
 * on either lane is checked in the protocol's order: everything before the signature at once, v3,
 * then v2 only when v3 failed.
 */
import assert from "node:assert/strict";
import { pbkdf2, type KeyObject } from "node:crypto";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { checkDeviceProof, verifyDeviceProof } from "../../src/gateway/device-proof.js";
import { adaptiveSignatureLanes, type SignatureCheck } from "../../src/gateway/signature-lane.js";
import {
  generateIdentity,
  publicKeyFromRaw,
  signPayload,
  verifyPayloadOffLoop,
} from "../../src/identity/keys.js";
import type { ConnectParams, DeviceProof } from "../../src/protocol/connect.js";
import { buildSignaturePayloadV2, buildSignaturePayloadV3 } from "../../src/protocol/signature-payload.js";

describe("adaptive signature lanes", () => {
  /** Whether a connect's check, called now, answers at once (inline) or later (the pool). */
  const lane = (check: SignatureCheck) => {
    const { key, payload, signature } = signed();
    const answer = check(key, payload, signature);
    return { where: answer instanceof Promise ? "pool" : "inline", answer };
  };

  it("checks inline when nothing else is in hand, on the pool for a second connect in the same turn", async () => {
    await nextTurn();
    const lanes = adaptiveSignatureLanes();
    const first = lanes.forConnect();
    const second = lanes.forConnect();
    const a = lane(first);
    const b = lane(second);
    assert.equal(a.where, "inline", "the first connect of a turn is checked at once");
    assert.equal(b.where, "pool", "a second in the same turn goes to the pool");
    assert.equal(a.answer, true);
    assert.equal(await b.answer, true);
    assert.equal(lane(first).where, "inline", "a connect's second check (v2) takes its first one's lane");
    await nextTurn();
    assert.equal(
      lane(lanes.forConnect()).where,
      "inline",
      "a later turn, nothing on the pool: at once again",
    );
  });

  it("leaves the choice alone for a connect that checks no signature", async () => {
    await nextTurn();
    const lanes = adaptiveSignatureLanes();
    lanes.forConnect(); // a device-less connect, or a proof refused before its signature
    assert.equal(lane(lanes.forConnect()).where, "inline");
  });

  it("sends a connect to the pool while another connection waits between its challenge and its answer", async () => {
    await nextTurn();
    const lanes = adaptiveSignatureLanes();
    lanes.challenged!(); // this connect's own connection
    lanes.challenged!(); // another, whose connect is on the way
    const queued = lane(lanes.forConnect());
    assert.equal(queued.where, "pool");
    assert.equal(await queued.answer, true);
    lanes.settled!(); // the other is admitted or closed
    await nextTurn();
    assert.equal(lane(lanes.forConnect()).where, "inline", "only its own connection waits: at once");
  });

  it("sends every connect to the pool while a check is on it", async () => {
    // Every pool thread busy for a while: the check waits in the pool's queue across turns.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const busy = Array.from(
      { length: threads },
      () => new Promise((resolve) => pbkdf2("p", "s", 200_000, 32, "sha256", resolve)),
    );
    await nextTurn();
    const lanes = adaptiveSignatureLanes();
    lane(lanes.forConnect());
    const pending = lane(lanes.forConnect());
    assert.equal(pending.where, "pool");
    await nextTurn();
    const meanwhile = lane(lanes.forConnect());
    assert.equal(meanwhile.where, "pool", "a check is still on the pool");
    assert.equal(await pending.answer, true);
    assert.equal(await meanwhile.answer, true);
    await Promise.all(busy);
    await nextTurn();
    assert.equal(lane(lanes.forConnect()).where, "inline", "the pool is empty: at once again");
  });
});

/** A key, a payload and its signature. */
function signed() {
  const identity = generateIdentity();
  const payload = "payload";
  const key = publicKeyFromRaw(Buffer.from(identity.publicKey, "base64url"))!;
  return { key, payload, signature: signPayload(identity, payload) };
}

const NONCE = "the-challenge";
const PARAMS = {
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "cli", version: "test", platform: "linux", mode: "cli" },
  role: "operator",
  scopes: ["operator.read"],
} as ConnectParams;

/** A device block signed by a fresh identity over the v3 or the v2 payload. */
function proofOver(version: "v3" | "v2", signedAt = Date.now()): DeviceProof {
  const identity = generateIdentity();
  const fields = {
    deviceId: identity.deviceId,
    clientId: "cli",
    clientMode: "cli",
    role: "operator",
    scopes: ["operator.read"],
    signedAtMs: signedAt,
    token: "",
    nonce: NONCE,
  };
  const payload =
    version === "v3"
      ? buildSignaturePayloadV3({ ...fields, platform: "linux" })
      : buildSignaturePayloadV2(fields);
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature: signPayload(identity, payload),
    signedAt,
    nonce: NONCE,
  };
}

/** A check off the event loop that records which payloads it was asked about. */
function recordingPoolCheck() {
  const asked: string[] = [];
  const check = (key: KeyObject, payload: string, signature: string) => {
    asked.push(payload.slice(0, 3));
    return verifyPayloadOffLoop(key, payload, signature);
  };
  return { asked, check };
}

describe("a device proof checked off the event loop", () => {
  it("asks about v3 only when v3 holds", async () => {
    const { asked, check } = recordingPoolCheck();
    const device = proofOver("v3");
    const answer = checkDeviceProof(device, PARAMS, "operator", NONCE, device.signedAt, check);
    assert.ok(answer instanceof Promise);
    assert.deepEqual(await answer, {
      ok: true,
      deviceId: device.id,
      publicKey: device.publicKey,
      payloadVersion: "v3",
    });
    assert.deepEqual(asked, ["v3|"]);
  });

  it("asks about v2 only after v3 has failed, and admits a v2 signature as v2", async () => {
    const { asked, check } = recordingPoolCheck();
    const device = proofOver("v2");
    const answer = checkDeviceProof(device, PARAMS, "operator", NONCE, device.signedAt, check);
    assert.deepEqual(asked, ["v3|"], "v2 waits for v3's answer");
    assert.equal(((await answer) as { payloadVersion?: string }).payloadVersion, "v2");
    assert.deepEqual(asked, ["v3|", "v2|"]);
  });

  it("refuses a forged signature as the check on the loop does", async () => {
    const { check } = recordingPoolCheck();
    const device = { ...proofOver("v3"), signature: proofOver("v3").signature };
    const onLoop = verifyDeviceProof(device, PARAMS, "operator", NONCE, device.signedAt);
    assert.deepEqual(onLoop, { ok: false, code: "DEVICE_AUTH_SIGNATURE_INVALID" });
    assert.deepEqual(
      await checkDeviceProof(device, PARAMS, "operator", NONCE, device.signedAt, check),
      onLoop,
    );
  });

  it("answers the checks before the signature at once, in their order, without asking the pool", () => {
    const { asked, check } = recordingPoolCheck();
    const device = proofOver("v3");
    const now = device.signedAt;
    const cases: Array<[DeviceProof, number, string]> = [
      [{ ...device, id: "0".repeat(64), signedAt: now - 600_000 }, now, "DEVICE_AUTH_DEVICE_ID_MISMATCH"],
      [{ ...device, nonce: "" }, now + 600_000, "DEVICE_AUTH_SIGNATURE_EXPIRED"],
      [{ ...device, nonce: " " }, now, "DEVICE_AUTH_NONCE_REQUIRED"],
      [{ ...device, nonce: "another" }, now, "DEVICE_AUTH_NONCE_MISMATCH"],
    ];
    for (const [proof, at, code] of cases) {
      assert.deepEqual(checkDeviceProof(proof, PARAMS, "operator", NONCE, at, check), { ok: false, code });
    }
    assert.deepEqual(asked, []);
  });
});
