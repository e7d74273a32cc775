/**
 * Counter-scenarios (section 2) and remote pairing: what must stay refused or pending. "Remote"
 * here is a client behind a same-host reverse proxy listed in trustedProxies, forwarding the
 * client's real address — exactly how the gateway sees a LAN or tailnet client through a proxy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import {
  call,
  openPeer,
  sendConnect,
  type ConnectOptions,
  type Frame,
  type RawPeer,
} from "../helpers/raw-client.js";

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway({
    trustedProxies: ["127.0.0.1"],
    allowedOrigins: ["https://ui.example"],
    pendingLimits: { perIp: 4, total: 50 },
  });
});
after(() => gw.stop());

const auth = { token: TEST_TOKEN };
let nextHost = 10;
/** Forwarded-for headers of a fresh remote address (each test its own, so per-address caps don't interfere). */
function remote(): Record<string, string> {
  return { "X-Forwarded-For": `203.0.113.${nextHost++}` };
}

async function attempt(
  o: ConnectOptions,
  headers: Record<string, string> = {},
): Promise<{ res: Frame; close: { code: number; reason: string } | null }> {
  const peer = await openPeer(gw.url, headers);
  const res = await sendConnect(peer, o);
  if (res.ok) {
    peer.ws.close();
    return { res, close: null };
  }
  return { res, close: await peer.closed };
}

/** An owner session for approvals and events. */
async function ownerSession(): Promise<RawPeer> {
  const peer = await openPeer(gw.url);
  const res = await sendConnect(peer, { identity: gw.owner, scopes: ["operator.admin", "operator.pairing"] });
  assert.equal(res.ok, true);
  return peer;
}

function requestIdOf(res: Frame): string {
  const id = res.error?.details?.requestId;
  assert.equal(typeof id, "string", `expected a requestId in ${JSON.stringify(res.error)}`);
  return id as string;
}

describe("C01 — a remote peer never gets silent pairing, whatever it claims", () => {
  it("C01: remote gateway-client/backend with the right token asking admin → NOT_PAIRED with a requestId", async () => {
    const from = remote();
    const identity = generateIdentity();
    const r = await attempt(
      { auth, identity, clientId: "gateway-client", mode: "backend", scopes: ["operator.admin"] },
      from,
    );
    assert.equal(r.res.error?.code, "NOT_PAIRED");
    assert.equal(r.res.error?.details?.code, "PAIRING_REQUIRED");
    assert.equal(r.res.error?.details?.reason, "not-paired");
    const requestId = requestIdOf(r.res);
    assert.equal(r.close?.code, 1008);
    assert.equal(r.close?.reason, `pairing required: device is not approved yet (requestId: ${requestId})`);
    assert.match(
      String(r.res.error?.details?.remediationHint),
      new RegExp(`gatehouse devices approve ${requestId}`),
    );
    assert.equal(gw.store.devices.get(identity.deviceId), null, "nothing was paired");
  });

  it("S42: retries keep one requestId; the pending request is refreshed, not re-created", async () => {
    const from = remote();
    const identity = generateIdentity();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ids.add(requestIdOf((await attempt({ auth, identity, scopes: ["operator.read"] }, from)).res));
    }
    assert.equal(ids.size, 1);
    assert.equal(gw.store.pending.list(Date.now()).filter((p) => p.deviceId === identity.deviceId).length, 1);
  });

  it("S10: a remotely paired operator asking for role node pends as role-upgrade", async () => {
    const from = remote();
    const identity = generateIdentity();
    const id = requestIdOf((await attempt({ auth, identity, scopes: ["operator.read"] }, from)).res);
    const owner = await ownerSession();
    assert.equal((await call(owner, "device.pair.approve", { requestId: id })).ok, true);
    owner.ws.close();
    assert.equal((await attempt({ auth, identity, scopes: ["operator.read"] }, from)).res.ok, true);
    const upgrade = await attempt(
      { auth, identity, role: "node", clientId: "node-host", mode: "node" },
      from,
    );
    assert.equal(upgrade.res.error?.details?.reason, "role-upgrade");
    assert.deepEqual(upgrade.res.error?.details?.approvedRoles, ["operator"]);
  });
});

describe("C02/C03/C05 — Origin, forged headers and Host never confer silent approval", () => {
  it("C02: an allowed browser Origin on loopback with the token still pends", async () => {
    const r = await attempt(
      {
        auth,
        identity: generateIdentity(),
        clientId: "openclaw-control-ui",
        mode: "webchat",
        scopes: ["operator.admin"],
      },
      { Origin: "https://ui.example" },
    );
    assert.equal(r.res.error?.details?.code, "PAIRING_REQUIRED");
  });

  it("C03: X-Forwarded-For: 127.0.0.1 from an untrusted peer is not local", async () => {
    const plain = await startTestGateway();
    try {
      const peer = await openPeer(plain.url, { "X-Forwarded-For": "127.0.0.1" });
      const res = await sendConnect(peer, { auth, identity: generateIdentity(), scopes: ["operator.admin"] });
      assert.equal(res.error?.details?.code, "PAIRING_REQUIRED");
    } finally {
      await plain.stop();
    }
  });

  it("C05: a loopback peer with Host: x.ts.net is not local", async () => {
    const r = await attempt(
      { auth, identity: generateIdentity(), scopes: ["operator.admin"] },
      { Host: "gateway.tailnet.ts.net" },
    );
    assert.equal(r.res.error?.details?.code, "PAIRING_REQUIRED");
  });
});

describe("C08 — revoked or rotated credentials stay dead", () => {
  it("C08: revoke closes the live session with 4001, and the revoked token never admits again, also after a restart", async () => {
    const local = await startTestGateway();
    try {
      const identity = generateIdentity();
      const first = await openPeer(local.url);
      const hello = await sendConnect(first, { auth, identity, scopes: ["operator.read"] });
      const token = (hello.payload as { auth: { deviceToken: string } }).auth.deviceToken;
      assert.ok(token);
      const owner = await openPeer(local.url);
      await sendConnect(owner, { identity: local.owner, scopes: ["operator.admin"] });
      const revoked = await call(owner, "device.token.revoke", {
        deviceId: identity.deviceId,
        role: "operator",
      });
      assert.equal(revoked.ok, true, JSON.stringify(revoked.error));
      assert.deepEqual(await first.closed, { code: 4001, reason: "device token revoked" });
      owner.ws.close();

      const again = await openPeer(local.url);
      const res = await sendConnect(again, {
        auth: { deviceToken: token },
        identity,
        scopes: ["operator.read"],
      });
      assert.equal(res.error?.details?.code, "AUTH_DEVICE_TOKEN_MISMATCH");
      // A new gateway process over the same store: the token is still dead.
      await local.server.stop({ graceMs: 100 });
      const { createGatewayServer } = await import("../../src/gateway/server.js");
      const { coreMethods } = await import("../../src/methods/index.js");
      const restarted = createGatewayServer({
        hosts: ["127.0.0.1"],
        port: 0,
        methods: coreMethods,
        store: local.store,
        ownerDeviceId: local.owner.deviceId,
        auth: () => local.auth,
      });
      await restarted.start();
      try {
        const peer = await openPeer(`ws://127.0.0.1:${restarted.port}`);
        const after = await sendConnect(peer, {
          auth: { deviceToken: token },
          identity,
          scopes: ["operator.read"],
        });
        assert.equal(after.error?.details?.code, "AUTH_DEVICE_TOKEN_MISMATCH");
      } finally {
        await restarted.stop({ graceMs: 100 });
      }
    } finally {
      await local.stop();
    }
  });

  it("C08: removing a device closes its sessions with 4001 'device removed'", async () => {
    const identity = generateIdentity();
    const peer = await openPeer(gw.url);
    assert.equal((await sendConnect(peer, { auth, identity, scopes: ["operator.read"] })).ok, true);
    const owner = await ownerSession();
    assert.equal((await call(owner, "device.pair.remove", { deviceId: identity.deviceId })).ok, true);
    assert.deepEqual(await peer.closed, { code: 4001, reason: "device removed" });
    assert.equal(gw.store.devices.get(identity.deviceId), null);
    owner.ws.close();
  });
});

/** Pairs a device locally (silent) with exactly `scopes` and returns an open session asking for them. */
async function pairedSession(scopes: string[]): Promise<{ identity: DeviceIdentity; peer: RawPeer }> {
  const identity = generateIdentity();
  const peer = await openPeer(gw.url);
  const res = await sendConnect(peer, { auth, identity, scopes });
  assert.equal(res.ok, true, JSON.stringify(res.error));
  return { identity, peer };
}

describe("C09/C10 — rotation and approval are not escalation primitives", () => {
  it("C09: a pairing-only caller cannot rotate an admin device's token to admin, nor revoke it", async () => {
    const admin = await pairedSession(["operator.admin"]);
    const pairingOnly = await pairedSession(["operator.pairing"]);
    const rotate = await call(pairingOnly.peer, "device.token.rotate", {
      deviceId: admin.identity.deviceId,
      role: "operator",
      scopes: ["operator.admin"],
    });
    assert.equal(rotate.ok, false);
    assert.equal(rotate.error?.code, "FORBIDDEN");
    assert.equal(rotate.error?.details?.missingScope, "operator.admin");
    const revoke = await call(pairingOnly.peer, "device.token.revoke", {
      deviceId: admin.identity.deviceId,
      role: "operator",
    });
    assert.equal(revoke.ok, false);
    admin.peer.ws.close();
    pairingOnly.peer.ws.close();
  });

  it("C10: a write+pairing caller cannot approve a request asking for admin; an admin can", async () => {
    const from = remote();
    const approver = await pairedSession(["operator.write", "operator.pairing"]);
    const requester = generateIdentity();
    const id = requestIdOf(
      (await attempt({ auth, identity: requester, scopes: ["operator.admin"] }, from)).res,
    );
    const denied = await call(approver.peer, "device.pair.approve", { requestId: id });
    assert.equal(denied.ok, false);
    assert.equal(denied.error?.details?.missingScope, "operator.admin");
    assert.equal(gw.store.devices.get(requester.deviceId), null);
    const owner = await ownerSession();
    assert.equal((await call(owner, "device.pair.approve", { requestId: id })).ok, true);
    assert.deepEqual(gw.store.devices.get(requester.deviceId)?.scopes, ["operator.admin"]);
    owner.ws.close();
    approver.peer.ws.close();
  });

  it("S46: a device cannot approve its own upgrade over the network", async () => {
    const from = remote();
    const self = await pairedSession(["operator.admin", "operator.pairing"]);
    const id = requestIdOf(
      (
        await attempt(
          { auth, identity: self.identity, role: "node", clientId: "node-host", mode: "node" },
          from,
        )
      ).res,
    );
    const res = await call(self.peer, "device.pair.approve", { requestId: id });
    assert.equal(res.ok, false);
    assert.match(res.error!.message, /cannot approve its own request/);
    self.peer.ws.close();
  });
});

describe("C11 — a pending request mutated before approval", () => {
  it("C11: a wider re-request supersedes with a new requestId; approving the old id grants nothing", async () => {
    const from = remote();
    const owner = await ownerSession();
    const identity = generateIdentity();
    const narrow = requestIdOf((await attempt({ auth, identity, scopes: ["operator.read"] }, from)).res);
    const wide = requestIdOf((await attempt({ auth, identity, scopes: ["operator.admin"] }, from)).res);
    assert.notEqual(narrow, wide);
    // The superseded request was announced as rejected, the new one as requested.
    const events: Frame[] = [];
    while (!events.some((e) => e.event === "device.pair.requested" && e.payload?.requestId === wide)) {
      const f = await owner.next();
      if (f.type === "event") events.push(f);
    }
    assert.ok(
      events.some(
        (e) =>
          e.event === "device.pair.resolved" &&
          e.payload?.requestId === narrow &&
          e.payload?.decision === "rejected",
      ),
    );
    const stale = await call(owner, "device.pair.approve", { requestId: narrow });
    assert.equal(stale.ok, false);
    assert.match(stale.error!.message, /unknown requestId/);
    assert.equal(gw.store.devices.get(identity.deviceId), null);
    const granted = await call(owner, "device.pair.approve", { requestId: wide });
    assert.equal(granted.ok, true);
    assert.deepEqual(
      gw.store.devices.get(identity.deviceId)?.scopes,
      ["operator.admin", "operator.read"],
      "the union of both asks",
    );
    owner.ws.close();
  });
});

describe("C13/C15/C18", () => {
  it("C13: a device-less remote backend with the token asking admin is admitted with no scopes", async () => {
    const from = remote();
    const peer = await openPeer(gw.url, from);
    const res = await sendConnect(peer, {
      auth,
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.admin"],
    });
    assert.deepEqual((res.payload as { auth: { scopes: string[] } }).auth.scopes, []);
    assert.equal((await call(peer, "device.pair.list")).error?.code, "FORBIDDEN");
    peer.ws.close();
  });

  it("C15: presenting the owner's deviceId with another key is refused and changes nothing", async () => {
    const before = gw.store.devices.get(gw.owner.deviceId);
    const r = await attempt({ auth, identity: generateIdentity(), device: { id: gw.owner.deviceId } });
    assert.equal(r.res.error?.details?.code, "DEVICE_AUTH_DEVICE_ID_MISMATCH");
    assert.deepEqual(gw.store.devices.get(gw.owner.deviceId), before);
  });

  it("C18: a flood of keys from one address gets at most perIp pending requests; the rest are told to wait", async () => {
    const flood = { "X-Forwarded-For": "198.51.100.77" };
    const outcomes: Frame[] = [];
    for (let i = 0; i < 12; i++)
      outcomes.push((await attempt({ auth, identity: generateIdentity() }, flood)).res);
    const withId = outcomes.filter((r) => typeof r.error?.details?.requestId === "string");
    const full = outcomes.filter((r) => r.error?.message.includes("too many pending requests"));
    assert.equal(withId.length, 4);
    assert.equal(full.length, 8);
    assert.ok(full.every((r) => (r.error as { retryAfterMs?: number }).retryAfterMs! > 0));
    assert.equal(gw.store.pending.list(Date.now()).filter((p) => p.remoteIp === "198.51.100.77").length, 4);
  });
});
