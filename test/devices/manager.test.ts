/**
 * Device management below the gateway, on a real store: what each action does to the store (one
 * transaction, an audit row with the policy's trace) and what it asks of the gateway through its
 * ports — which sessions to close, which authority ended. The offline CLI runs the same code with
 * no gateway behind the ports.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DeviceManager,
  OFFLINE_PORTS,
  STATE_DIR_OWNER,
  type CloseSelector,
  type DevicePorts,
  type ManagementCaller,
} from "../../src/devices/index.js";
import { GatewayError } from "../../src/protocol/errors.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import type { Store } from "../../src/store/index.js";
import { cronJob, deviceRecord, freshStore, identity } from "../store/helpers.js";

interface Recorded {
  closed: Array<[CloseSelector, string]>;
  revoked: Array<[string, string, readonly string[]]>;
  events: string[];
}

function recordingPorts(): { ports: DevicePorts; seen: Recorded } {
  const seen: Recorded = { closed: [], revoked: [], events: [] };
  return {
    seen,
    ports: {
      broadcast: (event) => void seen.events.push(event),
      closeSessions: (select, reason) => (seen.closed.push([select, reason]), 0),
      isConnected: () => false,
      authorityRevoked: (deviceId, reason, jobs) => void seen.revoked.push([deviceId, reason, jobs]),
    },
  };
}

const OWNER = identity();
const ownerCli: ManagementCaller = {
  authority: { scopes: [...ALL_OPERATOR_SCOPES], deviceId: OWNER.deviceId, proof: "owner-key", onHost: true },
  actor: `device:${OWNER.deviceId}`,
  connId: "conn-owner",
};

/** A store with the owner and one admin device holding a token, a cron job, a runtime token and a code. */
function seeded(): { store: Store; dev: string; token: string; runtime: string } {
  const { store } = freshStore();
  store.devices.upsert(
    deviceRecord(OWNER, { roles: ["node", "operator"], scopes: [...ALL_OPERATOR_SCOPES] }),
  );
  const d = identity();
  store.devices.upsert(deviceRecord(d, { roles: ["operator"], scopes: ["operator.admin"] }));
  const token = store.tokens.issue(d.deviceId, "operator", ["operator.admin"], 1_000);
  const runtime = store.runtimeTokens.issue(
    "sess_x",
    ["operator.read"],
    1_000,
    Date.now() + 60_000,
    d.deviceId,
  );
  store.cron.insert(cronJob("cron_x", { createdBy: `device:${d.deviceId}`, creatorDeviceId: d.deviceId }));
  return { store, dev: d.deviceId, token, runtime };
}

describe("DeviceManager", () => {
  test("revoking the operator role ends what rests on the device, in the store and through the ports", () => {
    const { store, dev, token, runtime } = seeded();
    const { ports, seen } = recordingPorts();
    const m = new DeviceManager(store, OWNER.deviceId, ports);
    m.revoke(ownerCli, dev, "operator");
    assert.equal(store.tokens.verify(dev, "operator", token).kind, "revoked");
    assert.equal(store.runtimeTokens.verify(runtime, Date.now()).kind, "invalid");
    assert.equal(store.cron.get("cron_x")!.enabled, false);
    assert.match(store.cron.get("cron_x")!.disabledReason ?? "", /operator role of device .* was revoked/);
    assert.deepEqual(seen.closed, [[{ deviceId: dev, role: "operator" }, "device token revoked"]]);
    assert.equal(seen.revoked.length, 1);
    assert.deepEqual(seen.revoked[0]![2], ["cron_x"]);
    const row = store.audit.list({ deviceId: dev }).find((r) => r.kind === "revoke")!;
    assert.ok(row.trace?.includes("manage-caller-owner-on-host"), JSON.stringify(row.trace));
    store.close();
  });

  test("revoking the node role closes node sessions only; nothing the device started rests on it", () => {
    const { store, dev, runtime } = seeded();
    store.devices.upsert({ ...store.devices.get(dev)!, roles: ["node", "operator"] });
    const { ports, seen } = recordingPorts();
    new DeviceManager(store, OWNER.deviceId, ports).revoke(ownerCli, dev, "node");
    assert.equal(store.runtimeTokens.verify(runtime, Date.now()).kind, "valid");
    assert.equal(store.cron.get("cron_x")!.enabled, true);
    assert.deepEqual(seen.revoked, []);
    assert.deepEqual(seen.closed, [[{ deviceId: dev, role: "node" }, "device token revoked"]]);
    store.close();
  });

  test("rotating closes only the sessions that used the old token, never the caller's own", () => {
    const { store, dev } = seeded();
    const { ports, seen } = recordingPorts();
    const r = new DeviceManager(store, OWNER.deviceId, ports).rotate(ownerCli, dev, "operator", [
      "operator.read",
    ]);
    assert.equal(r.tokenDelivery, "withheld-cross-device");
    assert.equal(r.token, undefined);
    assert.deepEqual(seen.closed, [
      [
        { deviceId: dev, role: "operator", tokenSessionsOnly: true, exceptConnId: "conn-owner" },
        "device token rotated",
      ],
    ]);
    assert.deepEqual(seen.revoked, [], "a rotation ends no derived work");
    store.close();
  });

  test("offline (the break-glass CLI): removal ends the device's runtime tokens and disables its jobs in the store", () => {
    const { store, dev, runtime } = seeded();
    const m = new DeviceManager(store, OWNER.deviceId, OFFLINE_PORTS);
    m.remove(STATE_DIR_OWNER, dev);
    assert.equal(store.devices.get(dev), null);
    assert.equal(store.runtimeTokens.verify(runtime, Date.now()).kind, "invalid");
    assert.match(store.cron.get("cron_x")!.disabledReason ?? "", /was removed/);
    const row = store.audit.list({ deviceId: dev }).find((r) => r.kind === "remove")!;
    assert.equal(row.actor, "cli-offline");
    store.close();
  });

  test("a refusal is a typed error naming the rule, and changes nothing", () => {
    const { store, dev, token } = seeded();
    const { ports, seen } = recordingPorts();
    const pairingOnly: ManagementCaller = {
      authority: { scopes: ["operator.pairing"], deviceId: "dev-p", proof: "shared-secret", onHost: false },
      actor: "device:dev-p",
    };
    const m = new DeviceManager(store, OWNER.deviceId, ports);
    assert.throws(
      () => m.rotate(pairingOnly, dev, "operator", []),
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === "MISSING_SCOPE" &&
        err.details?.rule === "manage-target-wider-than-caller" &&
        err.details?.missingScope === "operator.admin",
    );
    assert.equal(store.tokens.verify(dev, "operator", token).kind, "valid");
    assert.deepEqual(seen.closed, []);
    store.close();
  });
});
