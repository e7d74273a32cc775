import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  FileDeviceTokenStore,
  GatewayClient,
  GatewayClientError,
  MemoryDeviceTokenStore,
} from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { GatewayError } from "../../src/protocol/index.js";
import { FakeGateway, helloOk, type ConnectRecord } from "./fake-gateway.js";

const SECRET = "shared-secret-1a2b3c";

function deviceTokenMismatch(): GatewayError {
  return new GatewayError("AUTH_DEVICE_TOKEN_MISMATCH", { details: { authReason: "device_token_mismatch" } });
}

test("hello-ok device token is stored per (device, role) and re-sent on the next connect", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-client-"));
  const identity = generateIdentity();
  const gw = await FakeGateway.start({
    onConnect: (r) =>
      r.index === 1
        ? {
            hello: helloOk({
              scopes: ["operator.read"],
              deviceToken: "dt-issued-1",
              issuedAtMs: 1_700_000_000_000,
            }),
          }
        : { hello: helloOk({ scopes: ["operator.read"] }) },
  });
  t.after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, "state", "device-auth.json");

  const first = new GatewayClient({
    url: gw.url,
    auth: { token: SECRET },
    identity,
    scopes: ["operator.read"],
    deviceTokenStore: new FileDeviceTokenStore(path),
  });
  await first.connect();
  await first.close();

  // A fresh store object reading the same file, as a new process would.
  const store = new FileDeviceTokenStore(path);
  const entry = store.get(identity.deviceId, "operator");
  assert.equal(entry?.token, "dt-issued-1");
  assert.deepEqual(entry?.scopes, ["operator.read"]);
  assert.equal(entry?.issuedAtMs, 1_700_000_000_000);
  const onDisk = JSON.parse(readFileSync(path, "utf8")) as {
    version: number;
    devices: Record<string, unknown>;
  };
  assert.equal(onDisk.version, 1);
  assert.deepEqual(Object.keys(onDisk.devices), [identity.deviceId]);

  const second = new GatewayClient({
    url: gw.url,
    auth: { token: SECRET },
    identity,
    scopes: ["operator.read"],
    deviceTokenStore: store,
  });
  await second.connect();
  await second.close();

  const auth = gw.connects[1]!.params.auth;
  assert.deepEqual(auth, { token: SECRET, deviceToken: "dt-issued-1" });
  assert.equal(gw.connects[1]!.signature?.valid, true);
  assert.equal(gw.connects[0]!.params.auth?.deviceToken, undefined, "first connect had no device token");
});

test("device-less clients never read or write the token store", async (t) => {
  const calls: string[] = [];
  const store = {
    get: () => {
      calls.push("get");
      return undefined;
    },
    set: () => {
      calls.push("set");
    },
    delete: () => {
      calls.push("delete");
    },
  };
  const gw = await FakeGateway.start({ onConnect: () => ({ hello: helloOk({ deviceToken: "dt-x" }) }) });
  const client = new GatewayClient({ url: gw.url, auth: { token: SECRET }, deviceTokenStore: store });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await client.connect();
  assert.deepEqual(calls, []);
});

test("AUTH_DEVICE_TOKEN_MISMATCH drops only the cached token and retries once with the shared secret", async (t) => {
  const identity = generateIdentity();
  const store = new MemoryDeviceTokenStore();
  store.set(identity.deviceId, "operator", {
    token: "dt-stale",
    role: "operator",
    scopes: ["operator.read"],
    issuedAtMs: 1,
  });
  store.set(identity.deviceId, "node", { token: "dt-node", role: "node", scopes: [], issuedAtMs: 2 });
  store.set("other-device", "operator", { token: "dt-other", role: "operator", scopes: [], issuedAtMs: 3 });
  const gw = await FakeGateway.start({
    onConnect: (r: ConnectRecord) =>
      r.params.auth?.deviceToken === "dt-stale"
        ? { error: deviceTokenMismatch() }
        : { hello: helloOk({ scopes: ["operator.read"], deviceToken: "dt-fresh", issuedAtMs: 10 }) },
  });
  const client = new GatewayClient({
    url: gw.url,
    auth: { token: SECRET },
    identity,
    deviceTokenStore: store,
  });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  await client.connect();

  assert.equal(gw.connects.length, 2);
  assert.deepEqual(gw.connects[0]!.params.auth, { token: SECRET, deviceToken: "dt-stale" });
  assert.deepEqual(gw.connects[1]!.params.auth, { token: SECRET });
  assert.equal(gw.connects[1]!.signature?.valid, true);
  assert.equal(store.get(identity.deviceId, "operator")?.token, "dt-fresh");
  assert.equal(store.get(identity.deviceId, "node")?.token, "dt-node");
  assert.equal(store.get("other-device", "operator")?.token, "dt-other");
});

test("the device-token retry happens only once", async (t) => {
  const identity = generateIdentity();
  const store = new MemoryDeviceTokenStore();
  store.set(identity.deviceId, "operator", {
    token: "dt-stale",
    role: "operator",
    scopes: [],
    issuedAtMs: 1,
  });
  const gw = await FakeGateway.start({ onConnect: () => ({ error: deviceTokenMismatch() }) });
  const client = new GatewayClient({
    url: gw.url,
    auth: { token: SECRET },
    identity,
    deviceTokenStore: store,
  });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const err = await client.connect().catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.detailCode, "AUTH_DEVICE_TOKEN_MISMATCH");
  assert.equal(gw.connects.length, 2);
  assert.ok(!err.message.includes("dt-stale"));
});

test("an explicit deviceToken that mismatches is neither retried nor deletes the stored one", async (t) => {
  const identity = generateIdentity();
  const store = new MemoryDeviceTokenStore();
  store.set(identity.deviceId, "operator", {
    token: "dt-stored",
    role: "operator",
    scopes: [],
    issuedAtMs: 1,
  });
  const gw = await FakeGateway.start({ onConnect: () => ({ error: deviceTokenMismatch() }) });
  const client = new GatewayClient({
    url: gw.url,
    auth: { deviceToken: "dt-explicit" },
    identity,
    deviceTokenStore: store,
  });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  await assert.rejects(client.connect(), { detailCode: "AUTH_DEVICE_TOKEN_MISMATCH" });
  assert.equal(gw.connects.length, 1);
  assert.deepEqual(gw.connects[0]!.params.auth, { deviceToken: "dt-explicit" });
  assert.equal(store.get(identity.deviceId, "operator")?.token, "dt-stored");
});
