/**
 * Device management decided in policy (issue "Authority is one lifecycle", items 3 and 4): a revoked
 * role comes back only through an approval, acting on another device's token needs covering that
 * token and the device's baseline (rotating to [] is no way around a refused revoke), only the owner
 * key touches the owner device, and the owner on the gateway host may remove devices with a
 * pairing-only session while a remote pairing-only device may not remove one wider than itself.
 *
 * "Remote" is a client behind a same-host reverse proxy listed in trustedProxies, forwarding the
 * client's address: exactly how the gateway sees a LAN client through a proxy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { call, openPeer, sendConnect, type Frame, type RawPeer } from "../helpers/raw-client.js";

let gw: TestGateway;
let owner: RawPeer;
const peers: RawPeer[] = [];
before(async () => {
  gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
  owner = await ownerSession(["operator.admin", "operator.pairing"]);
});
after(async () => {
  for (const p of peers) p.ws.close();
  await gw.stop();
});

const auth = { token: TEST_TOKEN };
let nextHost = 40;

interface RemoteDevice {
  identity: DeviceIdentity;
  headers: Record<string, string>;
}

async function ownerSession(scopes: string[]): Promise<RawPeer> {
  const peer = await openPeer(gw.url);
  peers.push(peer);
  const res = await sendConnect(peer, { identity: gw.owner, scopes });
  assert.equal(res.ok, true, JSON.stringify(res.error));
  return peer;
}

/** A device on another machine that the owner approved for exactly `scopes`. */
async function pairRemote(scopes: string[]): Promise<RemoteDevice> {
  const device = { identity: generateIdentity(), headers: { "X-Forwarded-For": `203.0.113.${nextHost++}` } };
  const asked = await connectAs(device, scopes);
  assert.equal(asked.res.ok, false);
  const requestId = asked.res.error?.details?.requestId;
  assert.equal(typeof requestId, "string", JSON.stringify(asked.res.error));
  const approved = await call(owner, "device.pair.approve", { requestId });
  assert.equal(approved.ok, true, JSON.stringify(approved.error));
  return device;
}

/** Connects as the device with the shared token (its proof from afar), asking `scopes`. */
async function connectAs(device: RemoteDevice, scopes: string[]): Promise<{ res: Frame; peer: RawPeer }> {
  const peer = await openPeer(gw.url, device.headers);
  peers.push(peer);
  const res = await sendConnect(peer, { auth, identity: device.identity, scopes });
  return { res, peer };
}

/** The owner's CLI on the gateway host: device-less, loopback, the shared token. */
async function hostCli(scopes: string[]): Promise<RawPeer> {
  const cli = await openPeer(gw.url);
  peers.push(cli);
  const hello = await sendConnect(cli, { auth, clientId: "cli", mode: "cli", scopes });
  assert.equal(hello.ok, true, JSON.stringify(hello.error));
  return cli;
}

async function session(device: RemoteDevice, scopes: string[]): Promise<RawPeer> {
  const { res, peer } = await connectAs(device, scopes);
  assert.equal(res.ok, true, JSON.stringify(res.error));
  return peer;
}

/** A refusal's detail code and the rule that refused. */
function refusal(res: Frame): { code: unknown; rule: unknown; missingScope: unknown } {
  assert.equal(res.ok, false, `expected a refusal, got ${JSON.stringify(res.payload)}`);
  const d = res.error?.details ?? {};
  return { code: d.code, rule: d.rule, missingScope: d.missingScope };
}

async function stillOpen(peer: RawPeer, what: string): Promise<void> {
  const health = await call(peer, "health");
  assert.equal(health.ok, true, `${what}: the session was closed or refused`);
}

describe("a revoked role is revived only by an approval", () => {
  it("attack: a device holding only operator.pairing + operator.read rotates the token of a device an admin just revoked; that device then reconnects with the shared token and has operator.admin again", async () => {
    const victim = await pairRemote(["operator.admin"]);
    const attacker = await pairRemote(["operator.pairing", "operator.read"]);
    const revoked = await call(owner, "device.token.revoke", {
      deviceId: victim.identity.deviceId,
      role: "operator",
    });
    assert.equal(revoked.ok, true, JSON.stringify(revoked.error));

    const a = await session(attacker, ["operator.pairing", "operator.read"]);
    for (const scopes of [["operator.read"], [], undefined]) {
      const rotated = await call(a, "device.token.rotate", {
        deviceId: victim.identity.deviceId,
        role: "operator",
        ...(scopes ? { scopes } : {}),
      });
      const r = refusal(rotated);
      assert.equal(r.code, "FORBIDDEN_ACTION");
      assert.equal(r.rule, "manage-revoked-slot-needs-approval");
    }
    // Even the owner cannot revive it by rotating.
    const byOwner = await call(owner, "device.token.rotate", {
      deviceId: victim.identity.deviceId,
      role: "operator",
    });
    assert.equal(refusal(byOwner).rule, "manage-revoked-slot-needs-approval");

    // The victim's shared-token reconnect is a role upgrade again: pending, not admin.
    const back = await connectAs(victim, ["operator.admin"]);
    assert.equal(back.res.ok, false, "a revoked device came back with operator.admin");
    assert.equal(back.res.error?.details?.code, "PAIRING_REQUIRED");
    assert.equal(back.res.error?.details?.reason, "role-upgrade");

    // Only an approval by someone covering the role's baseline revives it.
    const approvedAgain = await call(owner, "device.pair.approve", {
      requestId: back.res.error?.details?.requestId,
    });
    assert.equal(approvedAgain.ok, true, JSON.stringify(approvedAgain.error));
    const revived = await connectAs(victim, ["operator.admin"]);
    assert.equal(revived.res.ok, true, JSON.stringify(revived.res.error));
  });
});

describe("acting on another device's token needs covering it and the device", () => {
  it("attack: a pairing-only caller cannot revoke an admin's token but can rotate it to [], which kills it all the same; aimed at the owner device it closes every owner session (4001), repeatably", async () => {
    const admin = await pairRemote(["operator.admin"]);
    const adminSession = await session(admin, ["operator.admin"]);
    const attacker = await pairRemote(["operator.pairing"]);
    const a = await session(attacker, ["operator.pairing"]);

    const revoke = refusal(
      await call(a, "device.token.revoke", { deviceId: admin.identity.deviceId, role: "operator" }),
    );
    assert.equal(revoke.code, "MISSING_SCOPE");
    assert.equal(revoke.missingScope, "operator.admin");

    const toEmpty = refusal(
      await call(a, "device.token.rotate", {
        deviceId: admin.identity.deviceId,
        role: "operator",
        scopes: [],
      }),
    );
    assert.equal(toEmpty.code, "MISSING_SCOPE");
    assert.equal(toEmpty.rule, "manage-target-wider-than-caller");
    assert.equal(toEmpty.missingScope, "operator.admin");
    await stillOpen(adminSession, "the admin device's session after a refused rotation");

    const ownerUser = await ownerSession(["operator.read"]);
    for (let i = 0; i < 3; i++) {
      const atOwner = refusal(
        await call(a, "device.token.rotate", { deviceId: gw.owner.deviceId, role: "operator", scopes: [] }),
      );
      assert.equal(atOwner.code, "FORBIDDEN_ACTION");
      assert.equal(atOwner.rule, "manage-owner-device-owner-key-only");
      await stillOpen(ownerUser, `the owner's session after attempt ${i + 1}`);
      await stillOpen(owner, `the owner's approver session after attempt ${i + 1}`);
    }
    // An admin session elsewhere may rotate the admin device's token; it does not touch the owner.
    const rotated = await call(owner, "device.token.rotate", {
      deviceId: admin.identity.deviceId,
      role: "operator",
      scopes: ["operator.read"],
    });
    assert.equal(rotated.ok, true, JSON.stringify(rotated.error));
  });
});

describe("the owner on the gateway host removes devices; a remote pairing-only device cannot remove a wider one", () => {
  it("issue 13: the owner's device-less CLI on loopback with the shared token and only operator.pairing removes an admin device", async () => {
    const wide = await pairRemote(["operator.admin"]);
    const wideSession = await session(wide, ["operator.admin"]);
    const cli = await hostCli(["operator.pairing"]);
    const removed = await call(cli, "device.pair.remove", { deviceId: wide.identity.deviceId });
    assert.equal(removed.ok, true, JSON.stringify(removed.error));
    assert.equal((await wideSession.closed).code, 4001);
    assert.equal(gw.store.devices.get(wide.identity.deviceId), null);
  });

  it("a remote device holding only operator.pairing cannot remove an admin device", async () => {
    const wide = await pairRemote(["operator.admin"]);
    const remote = await pairRemote(["operator.pairing"]);
    const r = await session(remote, ["operator.pairing"]);
    const refused = refusal(await call(r, "device.pair.remove", { deviceId: wide.identity.deviceId }));
    assert.equal(refused.code, "MISSING_SCOPE");
    assert.equal(refused.missingScope, "operator.admin");
    assert.notEqual(gw.store.devices.get(wide.identity.deviceId), null);
  });

  it("the owner device's tokens are the owner key's alone, even for the owner on the host", async () => {
    const cli = await hostCli(["operator.pairing", "operator.admin"]);
    const rotate = refusal(
      await call(cli, "device.token.rotate", { deviceId: gw.owner.deviceId, role: "operator" }),
    );
    assert.equal(rotate.rule, "manage-owner-device-owner-key-only");
    const revoke = refusal(
      await call(cli, "device.token.revoke", { deviceId: gw.owner.deviceId, role: "operator" }),
    );
    assert.equal(revoke.rule, "manage-owner-roles-not-revocable");
    const remove = refusal(await call(cli, "device.pair.remove", { deviceId: gw.owner.deviceId }));
    assert.equal(remove.rule, "manage-owner-device-not-removable");
  });
});
