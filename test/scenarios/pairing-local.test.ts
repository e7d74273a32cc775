/**
 * Section A/B scenarios on one gateway process: the owner and the gateway's own helpers are never
 * locked out, and upgrades never loop.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateIdentity } from "../../src/identity/keys.js";
import { importLegacyPaired } from "../../src/store/legacy.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { call, openPeer, sendConnect, type ConnectOptions, type Frame } from "../helpers/raw-client.js";

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.stop());

const auth = { token: TEST_TOKEN };

async function connect(o: ConnectOptions, headers: Record<string, string> = {}) {
  const peer = await openPeer(gw.url, headers);
  const res = await sendConnect(peer, o);
  return { peer, res };
}

async function once(o: ConnectOptions): Promise<Frame> {
  const { peer, res } = await connect(o);
  peer.ws.close();
  return res;
}

const helloAuth = (res: Frame) =>
  (res.payload as { auth: { method: string; scopes: string[]; deviceToken?: string } }).auth;

describe("S01/S07 — the owner key is never asked to pair", () => {
  it("S01: the owner identity is admitted for any operator scope, with no token at all", async () => {
    const res = await once({
      identity: gw.owner,
      scopes: ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"],
    });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.equal(helloAuth(res).method, "owner-key");
    assert.equal(helloAuth(res).deviceToken, undefined, "the owner needs no device token");
  });

  it("S07: a read-only first probe by the owner does not narrow what it gets next", async () => {
    assert.equal(
      (
        await once({
          identity: gw.owner,
          clientId: "openclaw-probe",
          mode: "probe",
          scopes: ["operator.read"],
        })
      ).ok,
      true,
    );
    const next = await once({ identity: gw.owner, scopes: ["operator.admin"] });
    assert.equal(next.ok, true);
    assert.equal(gw.store.pending.list(Date.now()).length, 0, "no pending request was created");
  });

  it("S10: the owner's node host on the same host connects as role node without pairing", async () => {
    const res = await once({ identity: gw.owner, role: "node", clientId: "node-host", mode: "node" });
    assert.equal(res.ok, true, JSON.stringify(res.error));
  });
});

describe("S02 — the gateway's own helpers on loopback", () => {
  it("S02: device-less gateway-client/backend with the token keeps its declared admin scope", async () => {
    const { peer, res } = await connect({
      auth,
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.admin"],
    });
    assert.deepEqual(helloAuth(res).scopes, ["operator.admin"]);
    assert.equal((await call(peer, "device.pair.list")).ok, true, "admin covers operator.pairing");
    peer.ws.close();
  });

  it("S02: a local backend with its own device and the token is admitted unpaired, so a wider ask never loops", async () => {
    const identity = generateIdentity();
    const first = await once({
      auth,
      identity,
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.read"],
    });
    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.deepEqual(helloAuth(first).scopes, ["operator.read"]);
    // A token narrower than the next ask would become its credential and refuse that ask (#22146).
    assert.equal(helloAuth(first).deviceToken, undefined, "no device token for the gateway's own backend");
    const upgrade = await once({
      auth,
      identity,
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.admin"],
    });
    assert.equal(upgrade.ok, true, "a wider ask by the local backend with the token is admitted (S01/S04)");
    assert.deepEqual(helloAuth(upgrade).scopes, ["operator.admin"]);
    assert.ok(!gw.store.devices.get(identity.deviceId), "the backend's device is left unpaired");
    assert.equal(
      gw.store.pending.list(Date.now()).filter((p) => p.deviceId === identity.deviceId).length,
      0,
      "and nothing waits for approval",
    );
  });

  it("S02: the same device from a browser Origin is not the gateway's backend and waits for approval", async () => {
    const identity = generateIdentity();
    const { peer, res } = await connect(
      { auth, identity, clientId: "gateway-client", mode: "backend", scopes: ["operator.read"] },
      { origin: new URL(gw.url.replace(/^ws/, "http")).origin },
    );
    peer.ws.close();
    assert.equal(res.ok, false, "a page is never the gateway's own backend");
    assert.ok(!gw.store.devices.get(identity.deviceId));
    const waiting = gw.store.pending.list(Date.now()).filter((p) => p.deviceId === identity.deviceId);
    assert.equal(waiting.length, 1, "its request waits for the owner");
    gw.store.pending.removeForDevice(identity.deviceId);
  });
});

describe("S07/S08/S09 — scope upgrades never loop", () => {
  it("S08: a legacy admin-only device is covered for read and write", async () => {
    const identity = generateIdentity();
    const now = Date.now();
    const imported = importLegacyPaired(
      gw.store,
      {
        deviceId: identity.deviceId,
        publicKey: identity.publicKey,
        role: "operator",
        scopes: ["operator.admin", "operator.approvals", "operator.pairing"],
        tokens: {},
        createdAtMs: now,
        approvedAtMs: now,
      },
      now,
    );
    assert.ok(imported.ok, JSON.stringify(imported));
    for (const scopes of [
      ["operator.write"],
      ["operator.read"],
      ["operator.read", "operator.write", "operator.admin"],
    ]) {
      const res = await once({ auth, identity, scopes, clientId: "gateway-client", mode: "backend" });
      assert.equal(res.ok, true, `${scopes}: ${JSON.stringify(res.error)}`);
    }
    assert.equal(gw.store.pending.getByDevice(identity.deviceId, Date.now()), null);
    assert.equal(
      gw.store.devices.get(identity.deviceId)?.approvedVia,
      "imported",
      "covered, not re-approved",
    );
  });

  it("S09: a subset of the approved scopes is admitted with its device token alone, never pending", async () => {
    const identity = generateIdentity();
    const first = await once({ auth, identity, scopes: ["operator.admin"] });
    const token = helloAuth(first).deviceToken!;
    for (let i = 0; i < 5; i++) {
      const res = await once({ auth: { deviceToken: token }, identity, scopes: ["operator.read"] });
      assert.equal(res.ok, true, JSON.stringify(res.error));
      assert.equal(helloAuth(res).method, "device-token");
    }
    assert.equal(gw.store.pending.list(Date.now()).filter((p) => p.deviceId === identity.deviceId).length, 0);
  });

  it("S05: a legacy record with an empty tokens map keeps its roles (no role-upgrade loop)", async () => {
    const identity = generateIdentity();
    const now = Date.now();
    const imported = importLegacyPaired(
      gw.store,
      {
        deviceId: identity.deviceId,
        publicKey: identity.publicKey,
        roles: ["operator", "node"],
        scopes: ["operator.admin"],
        tokens: {},
        createdAtMs: now,
        approvedAtMs: now,
      },
      now,
    );
    assert.ok(imported.ok);
    const res = await once({ auth, identity, role: "node", clientId: "node-host", mode: "node" });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    // Covered, not silently re-approved: a silent approval would have rewritten approvedVia.
    assert.equal(gw.store.devices.get(identity.deviceId)?.approvedVia, "imported");
  });
});

describe("S13 — device token mismatch is explained, never unpairs", () => {
  it("S13: a stale device token alone → AUTH_DEVICE_TOKEN_MISMATCH; the pairing stays; the shared token still works", async () => {
    const identity = generateIdentity();
    const first = await once({ auth, identity, scopes: ["operator.read"] });
    assert.equal(first.ok, true);
    const stale = await once({ auth: { deviceToken: "not-the-token" }, identity, scopes: ["operator.read"] });
    assert.equal(stale.error?.details?.code, "AUTH_DEVICE_TOKEN_MISMATCH");
    assert.match(stale.error!.message, /device token mismatch/);
    assert.ok(gw.store.devices.get(identity.deviceId), "the pairing is kept");
    const retry = await once({
      auth: { token: TEST_TOKEN, deviceToken: "not-the-token" },
      identity,
      scopes: ["operator.read"],
    });
    assert.equal(retry.ok, true, "shared secret + device proof still admits");
    assert.ok(helloAuth(retry).deviceToken, "and hands out a fresh token");
  });
});

describe("S10 — local role upgrade; legacy revoked tokens", () => {
  it("S10: a locally paired operator device asking for role node with the token is upgraded silently", async () => {
    const identity = generateIdentity();
    assert.equal((await once({ auth, identity, scopes: ["operator.read"] })).ok, true);
    const node = await once({ auth, identity, role: "node", clientId: "node-host", mode: "node" });
    assert.equal(node.ok, true, JSON.stringify(node.error));
    assert.deepEqual(gw.store.devices.get(identity.deviceId)?.roles, ["node", "operator"]);
  });

  it("a legacy record's revoked token stays revoked after import", async () => {
    const identity = generateIdentity();
    const now = Date.now();
    const legacyToken = "legacy-revoked-token-value-0123456789";
    const imported = importLegacyPaired(
      gw.store,
      {
        deviceId: identity.deviceId,
        publicKey: identity.publicKey,
        roles: ["operator"],
        approvedScopes: ["operator.read"],
        tokens: {
          operator: {
            token: legacyToken,
            role: "operator",
            scopes: ["operator.read"],
            createdAtMs: now,
            revokedAtMs: now,
          },
        },
        createdAtMs: now,
        approvedAtMs: now,
      },
      now,
    );
    assert.ok(imported.ok, JSON.stringify(imported));
    const res = await once({ auth: { deviceToken: legacyToken }, identity, scopes: ["operator.read"] });
    assert.equal(res.error?.details?.code, "AUTH_DEVICE_TOKEN_MISMATCH");
  });
});
