/** Every handshake path over real sockets: the error a client sees, its detail code and close code. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { generateIdentity, toBase64Url } from "../../src/identity/keys.js";
import { validateHelloOk } from "../../src/protocol/validate.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { call, openPeer, sendConnect, type ConnectOptions, type Frame } from "../helpers/raw-client.js";

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.stop());

const identity = generateIdentity();
const auth = { token: TEST_TOKEN };

/** Connects with `o` and returns the response and how the socket closed (if it did). */
async function attempt(o: ConnectOptions) {
  const peer = await openPeer(gw.url);
  const res = await sendConnect(peer, o);
  if (res.ok) {
    peer.ws.close();
    return { res, close: null };
  }
  return { res, close: await peer.closed };
}

function assertRefused(
  r: { res: Frame; close: { code: number; reason: string } | null },
  wire: string,
  detail: string,
  closeCode = 1008,
) {
  assert.equal(r.res.ok, false, "connect must be refused");
  assert.equal(r.res.error?.code, wire);
  assert.equal(r.res.error?.details?.code, detail);
  assert.equal(r.close?.code, closeCode);
  assert.equal(r.close?.reason, r.res.error?.message.slice(0, 123));
}

describe("challenge", () => {
  it("sends connect.challenge with a fresh uuid nonce and the server time before any client frame", async () => {
    const a = await openPeer(gw.url);
    const b = await openPeer(gw.url);
    assert.match(a.challenge.nonce, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.challenge.nonce, b.challenge.nonce);
    assert.ok(Math.abs(a.challenge.ts - Date.now()) < 5000);
    a.ws.close();
    b.ws.close();
  });
});

describe("frame and params errors", () => {
  it("closes 1008 without a response when the first frame is not JSON", async () => {
    const peer = await openPeer(gw.url);
    peer.send("this is not json");
    const close = await peer.closed;
    assert.deepEqual(close, { code: 1008, reason: "invalid request frame" });
  });

  it("closes 1008 on a binary first frame", async () => {
    const peer = await openPeer(gw.url);
    peer.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await peer.closed).code, 1008);
  });

  it("answers a first request that is not connect, then closes 1008", async () => {
    const peer = await openPeer(gw.url);
    peer.send({ type: "req", id: "x1", method: "health" });
    const res = await peer.next();
    assert.equal(res.id, "x1");
    assert.equal(res.error?.code, "INVALID_REQUEST");
    assert.equal(res.error?.message, "invalid handshake: first request must be connect");
    assert.equal((await peer.closed).code, 1008);
  });

  it("rejects unknown fields in connect params and names the path", async () => {
    const r = await attempt({ auth, extra: { bogus: true } });
    assertRefused(r, "INVALID_REQUEST", "INVALID_CONNECT_PARAMS");
    assert.match(r.res.error!.message, /^invalid connect params: at \//);
  });

  it("rejects a client id outside the closed list", async () => {
    const r = await attempt({ auth, clientId: "ios-node" });
    assertRefused(r, "INVALID_REQUEST", "INVALID_CONNECT_PARAMS");
    assert.match(r.res.error!.message, /\/client\/id/);
  });

  it("accepts client ids case-insensitively", async () => {
    const r = await attempt({ auth, clientId: "CLI", scopes: ["operator.read"] });
    assert.equal(r.res.ok, true);
  });

  it("rejects auth.deviceToken: null", async () => {
    const peer = await openPeer(gw.url);
    peer.send({
      type: "req",
      id: "n1",
      method: "connect",
      params: {
        minProtocol: 4,
        maxProtocol: 4,
        client: { id: "cli", version: "t", platform: "linux", mode: "cli" },
        auth: { deviceToken: null },
      },
    });
    const res = await peer.next();
    assert.match(res.error!.message, /at \/auth\/deviceToken/);
  });

  it("refuses protocol 3 for operators with PROTOCOL_MISMATCH and close 1002", async () => {
    const r = await attempt({ auth, minProtocol: 3, maxProtocol: 3 });
    assertRefused(r, "INVALID_REQUEST", "PROTOCOL_MISMATCH", 1002);
    assert.equal(r.res.error?.message, "protocol mismatch");
    assert.equal(r.res.error?.details?.expectedProtocol, 4);
    assert.equal(r.res.error?.details?.clientMaxProtocol, 3);
  });

  it("refuses an unknown role", async () => {
    const r = await attempt({ auth, role: "admin" });
    assertRefused(r, "INVALID_REQUEST", "INVALID_ROLE");
    assert.equal(r.res.error?.message, "invalid role");
  });
});

describe("device proof (checked in order: id, age, nonce present, nonce equal, signature, key)", () => {
  it("C15: refuses a device id that is not the key's hash", async () => {
    const other = generateIdentity();
    const r = await attempt({ auth, identity, device: { id: other.deviceId } });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_DEVICE_ID_MISMATCH");
    assert.equal(r.res.error?.details?.reason, "device-id-mismatch");
    assert.equal(r.close?.reason, "device identity mismatch");
  });

  it("C15: refuses a known device id presented with a different key", async () => {
    const other = generateIdentity();
    const r = await attempt({ auth, identity: other, device: { id: identity.deviceId } });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_DEVICE_ID_MISMATCH");
  });

  it("C16: refuses a stale signedAt (3 minutes old)", async () => {
    const r = await attempt({ auth, identity, signedAt: Date.now() - 3 * 60_000 });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_SIGNATURE_EXPIRED");
    assert.equal(r.res.error?.details?.reason, "device-signature-stale");
  });

  it("C16: refuses a future signedAt (3 minutes ahead)", async () => {
    const r = await attempt({ auth, identity, signedAt: Date.now() + 3 * 60_000 });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_SIGNATURE_EXPIRED");
  });

  it("accepts a signature 90 seconds old (inside the ±2 min window)", async () => {
    const r = await attempt({
      auth,
      identity,
      clientId: "gateway-client",
      mode: "backend",
      signedAt: Date.now() - 90_000,
    });
    assert.equal(r.res.ok, true);
  });

  it("refuses an empty nonce", async () => {
    const r = await attempt({ auth, identity, signNonce: "", device: { nonce: "" } });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_NONCE_REQUIRED");
    assert.equal(r.res.error?.details?.reason, "device-nonce-missing");
  });

  it("C16: refuses a nonce from another connection", async () => {
    const a = await openPeer(gw.url);
    const r = await attempt({ auth, identity, signNonce: a.challenge.nonce });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_NONCE_MISMATCH");
    assert.equal(r.res.error?.details?.reason, "device-nonce-mismatch");
    a.ws.close();
  });

  it("C16: a replayed connect frame from an earlier connection is refused", async () => {
    const first = await openPeer(gw.url);
    const frame = {
      type: "req",
      id: "replay",
      method: "connect",
      params: (await import("../helpers/raw-client.js")).connectParams(first.challenge.nonce, {
        auth,
        identity,
        clientId: "gateway-client",
        mode: "backend",
        scopes: ["operator.read"],
      }),
    };
    first.send(frame);
    assert.equal((await first.next()).ok, true, "the original connect is admitted");
    first.ws.close();
    const second = await openPeer(gw.url);
    second.send(frame);
    const res = await second.next();
    assert.equal(res.error?.details?.code, "DEVICE_AUTH_NONCE_MISMATCH");
    assert.equal((await second.closed).code, 1008);
  });

  it("checks signature age before the nonce", async () => {
    const r = await attempt({ auth, identity, signNonce: "wrong", device: { nonce: "wrong" }, signedAt: 1 });
    assert.equal(r.res.error?.details?.code, "DEVICE_AUTH_SIGNATURE_EXPIRED");
  });

  it("checks id derivation before signature age", async () => {
    const r = await attempt({ auth, identity, signedAt: 1, device: { id: "0".repeat(64) } });
    assert.equal(r.res.error?.details?.code, "DEVICE_AUTH_DEVICE_ID_MISMATCH");
  });

  it("refuses a signature made over different scopes", async () => {
    const r = await attempt({
      auth,
      identity,
      scopes: ["operator.admin"],
      signOverride: { scopes: ["operator.read"] },
    });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_SIGNATURE_INVALID");
    assert.equal(r.res.error?.details?.reason, "device-signature");
  });

  it("refuses a signature made over a different role", async () => {
    const r = await attempt({
      auth,
      identity,
      role: "node",
      mode: "node",
      clientId: "node-host",
      signOverride: { role: "operator" },
    });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_SIGNATURE_INVALID");
  });

  it("refuses a signature over a different presented token", async () => {
    const r = await attempt({ auth, identity, signOverride: { token: "something-else" } });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_SIGNATURE_INVALID");
  });

  it("refuses a public key that is not an Ed25519 key even when the id matches its bytes", async () => {
    const bytes = Buffer.alloc(31, 7);
    const r = await attempt({
      auth,
      identity,
      device: { publicKey: toBase64Url(bytes), id: createHash("sha256").update(bytes).digest("hex") },
    });
    assertRefused(r, "INVALID_REQUEST", "DEVICE_AUTH_PUBLIC_KEY_INVALID");
    assert.equal(r.res.error?.details?.reason, "device-public-key");
  });

  it("accepts the same key sent as PEM", async () => {
    const r = await attempt({
      auth,
      identity,
      clientId: "gateway-client",
      mode: "backend",
      device: { publicKey: identity.publicKeyPem },
    });
    assert.equal(r.res.ok, true);
  });

  it("a device that passes its proof but presents no credential is refused (never admitted on the proof alone)", async () => {
    const r = await attempt({ identity, scopes: ["operator.read"] });
    assertRefused(r, "INVALID_REQUEST", "AUTH_TOKEN_MISSING");
  });

  it("a device with proof and token that is not local is answered NOT_PAIRED with a requestId", async () => {
    const peer = await openPeer(gw.url, { Host: "gateway.example:18789" });
    const res = await sendConnect(peer, { auth, identity: generateIdentity(), scopes: ["operator.read"] });
    assert.equal(res.error?.code, "NOT_PAIRED");
    assert.equal(res.error?.details?.code, "PAIRING_REQUIRED");
    assert.equal(res.error?.message, "pairing required: device is not approved yet");
    assert.equal(res.error?.details?.reason, "not-paired");
    assert.match(String(res.error?.details?.requestId), /^[0-9a-f-]{36}$/);
    const close = await peer.closed;
    assert.equal(close.code, 1008);
    assert.equal(
      close.reason,
      `pairing required: device is not approved yet (requestId: ${res.error?.details?.requestId})`,
    );
  });
});

describe("shared secret", () => {
  it("refuses a missing token with AUTH_TOKEN_MISSING and says what to do", async () => {
    const r = await attempt({ scopes: ["operator.read"] });
    assertRefused(r, "INVALID_REQUEST", "AUTH_TOKEN_MISSING");
    assert.match(r.res.error!.message, /^unauthorized: gateway token missing \(.*--token/);
    assert.equal(r.res.error?.details?.authReason, "token_missing");
  });

  it("refuses a wrong token with AUTH_TOKEN_MISMATCH without echoing any token", async () => {
    const wrong = "wrong-token-value-that-must-not-leak";
    const r = await attempt({ auth: { token: wrong } });
    assertRefused(r, "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH");
    const text = JSON.stringify(r);
    assert.ok(!text.includes(wrong), "presented token must not be echoed");
    assert.ok(!text.includes(TEST_TOKEN), "gateway token must not leak");
  });

  it("a device with a wrong token is refused as unauthorized, not paired", async () => {
    const r = await attempt({
      auth: { token: "nope" },
      identity,
      clientId: "gateway-client",
      mode: "backend",
    });
    assertRefused(r, "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH");
  });

  it("C08: a rotated shared token takes effect for the next connection", async () => {
    const local = await startTestGateway();
    try {
      const before = await openPeer(local.url);
      assert.equal((await sendConnect(before, { auth, scopes: ["operator.read"] })).ok, true);
      local.auth.token = "rotated-token-abcdefghijklmnopqrstuvwxyz0123";
      const oldPeer = await openPeer(local.url);
      assert.equal((await sendConnect(oldPeer, { auth })).error?.details?.code, "AUTH_TOKEN_MISMATCH");
      const newPeer = await openPeer(local.url);
      assert.equal((await sendConnect(newPeer, { auth: { token: local.auth.token } })).ok, true);
      before.ws.close();
      newPeer.ws.close();
    } finally {
      await local.stop();
    }
  });

  it("password mode: wrong password → AUTH_PASSWORD_MISMATCH, right one admits", async () => {
    const local = await startTestGateway({ auth: { mode: "password", password: "correct horse battery" } });
    try {
      const bad = await openPeer(local.url);
      assert.equal(
        (await sendConnect(bad, { auth: { password: "wrong" } })).error?.details?.code,
        "AUTH_PASSWORD_MISMATCH",
      );
      const good = await openPeer(local.url);
      const res = await sendConnect(good, {
        auth: { password: "correct horse battery" },
        scopes: ["operator.read"],
      });
      assert.equal(res.ok, true);
      assert.equal((res.payload as { auth: { method: string } }).auth.method, "password");
      good.ws.close();
    } finally {
      await local.stop();
    }
  });
});

describe("admitted sessions", () => {
  it("S02: device-less local cli with the token keeps its declared scopes; hello-ok matches the schema", async () => {
    const peer = await openPeer(gw.url);
    const res = await sendConnect(peer, { auth, scopes: ["operator.read", "operator.write"] });
    assert.equal(res.ok, true);
    const hello = validateHelloOk(res.payload);
    assert.ok(hello.ok, JSON.stringify(hello));
    if (!hello.ok) return;
    assert.equal(hello.value.protocol, 4);
    assert.deepEqual(hello.value.auth.scopes, ["operator.read", "operator.write"]);
    assert.equal(hello.value.auth.role, "operator");
    assert.equal(hello.value.policy.maxPayload, 25 * 1024 * 1024);
    assert.equal(hello.value.policy.maxBufferedBytes, 50 * 1024 * 1024);
    assert.ok(hello.value.features.methods.includes("health"));
    assert.equal(hello.value.auth.deviceToken, undefined);
    peer.ws.close();
  });

  it("C13: a device-less client outside the local lanes gets no scopes", async () => {
    const peer = await openPeer(gw.url);
    const res = await sendConnect(peer, {
      auth,
      clientId: "openclaw-tui",
      mode: "ui",
      scopes: ["operator.admin"],
    });
    assert.equal(res.ok, true);
    assert.deepEqual((res.payload as { auth: { scopes: string[] } }).auth.scopes, []);
    const health = await call(peer, "health");
    assert.equal(health.error?.code, "FORBIDDEN");
    peer.ws.close();
  });

  it("a device-less node is refused with DEVICE_IDENTITY_REQUIRED", async () => {
    const r = await attempt({ auth, role: "node", clientId: "node-host", mode: "node" });
    assertRefused(r, "NOT_PAIRED", "DEVICE_IDENTITY_REQUIRED");
  });

  it("health and status answer; status reports connections by role without secrets", async () => {
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth, scopes: ["operator.read"] });
    const health = await call(peer, "health");
    assert.equal(health.ok, true);
    assert.equal((health.payload as { ok: boolean }).ok, true);
    const status = await call(peer, "status");
    assert.equal(status.ok, true);
    const payload = status.payload as {
      gateway: { authMode: string; bind: { port: number } };
      connections: { byRole: { operator: number } };
      self: { scopes: string[] };
    };
    assert.equal(payload.gateway.authMode, "token");
    assert.equal(payload.gateway.bind.port, gw.server.port);
    assert.ok(payload.connections.byRole.operator >= 1);
    assert.deepEqual(payload.self.scopes, ["operator.read"]);
    assert.ok(!JSON.stringify(payload).includes(TEST_TOKEN));
    peer.ws.close();
  });

  it("unknown method → INVALID_REQUEST UNKNOWN_METHOD, connection stays usable", async () => {
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth, scopes: ["operator.read"] });
    const res = await call(peer, "no.such.method");
    assert.equal(res.error?.code, "INVALID_REQUEST");
    assert.equal(res.error?.details?.code, "UNKNOWN_METHOD");
    assert.equal(res.error?.message, "unknown method: no.such.method");
    assert.equal((await call(peer, "health")).ok, true);
    peer.ws.close();
  });

  it("missing scope → FORBIDDEN with MISSING_SCOPE details, connection stays usable", async () => {
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth, scopes: [] });
    const res = await call(peer, "status");
    assert.equal(res.error?.code, "FORBIDDEN");
    assert.equal(res.error?.message, "missing scope: operator.read");
    assert.deepEqual(res.error?.details, {
      code: "MISSING_SCOPE",
      missingScope: "operator.read",
      requiredScopes: ["operator.read"],
    });
    assert.equal(peer.ws.readyState, peer.ws.OPEN);
    peer.ws.close();
  });

  it("operator.write satisfies a read method; operator.admin satisfies everything", async () => {
    for (const scopes of [["operator.write"], ["operator.admin"]]) {
      const peer = await openPeer(gw.url);
      await sendConnect(peer, { auth, scopes });
      assert.equal((await call(peer, "status")).ok, true, `scopes ${scopes}`);
      peer.ws.close();
    }
  });

  it("a second connect on an open session is refused without closing it", async () => {
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth, scopes: ["operator.read"] });
    const res = await call(peer, "connect", {});
    assert.equal(res.error?.details?.code, "DUPLICATE_CONNECT");
    assert.equal((await call(peer, "health")).ok, true);
    peer.ws.close();
  });

  it("an invalid frame after hello closes the connection with 1008", async () => {
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth, scopes: ["operator.read"] });
    peer.send({ type: "req", id: "", method: "health" });
    assert.equal((await peer.closed).code, 1008);
  });
});
