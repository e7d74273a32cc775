import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { inspect } from "node:util";
import { GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { GatewayError } from "../../src/protocol/index.js";
import { FakeGateway, helloOk, waitFor } from "./fake-gateway.js";

const SECRET = "shared-secret-9f8e7d";
const pkgVersion = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

test("device-less connect with a shared token sends documented defaults and resolves hello-ok", async (t) => {
  const hello = helloOk({ role: "operator", scopes: ["operator.read"] });
  const gw = await FakeGateway.start({ onConnect: () => ({ hello }) });
  const client = new GatewayClient({ url: gw.url, auth: { token: SECRET } });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const got = await client.connect();

  assert.deepEqual(got, hello);
  assert.equal(client.state, "open");
  assert.equal(gw.connects.length, 1);
  const params = gw.connects[0]!.params;
  assert.equal(params.minProtocol, 4);
  assert.equal(params.maxProtocol, 4);
  assert.deepEqual(params.client, {
    id: "cli",
    mode: "cli",
    version: pkgVersion,
    platform: process.platform,
  });
  assert.equal(params.role, "operator");
  assert.deepEqual(params.scopes, []);
  assert.deepEqual(params.auth, { token: SECRET });
  assert.equal(params.device, undefined);
});

test("signed connect: the v3 signature verifies and deviceId is the sha256 of the raw key", async (t) => {
  const identity = generateIdentity();
  const gw = await FakeGateway.start();
  const client = new GatewayClient({
    url: gw.url,
    auth: { token: SECRET },
    identity,
    scopes: ["operator.write", "operator.read"],
    client: {
      id: "openclaw-macos",
      mode: "ui",
      platform: "  MacOS ",
      deviceFamily: "Laptop",
      displayName: "Mac",
    },
  });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const before = Date.now();
  await client.connect();

  const record = gw.connects[0]!;
  const device = record.params.device;
  assert.ok(device, "device proof sent");
  const raw = Buffer.from(device.publicKey, "base64url");
  assert.equal(raw.length, 32);
  assert.equal(device.id, createHash("sha256").update(raw).digest("hex"));
  assert.equal(device.nonce, record.nonce);
  assert.ok(device.signedAt >= before && device.signedAt <= Date.now());
  assert.deepEqual(record.signature, {
    payload: `v3|${device.id}|openclaw-macos|ui|operator|operator.write,operator.read|${device.signedAt}|${SECRET}|${record.nonce}|macos|laptop`,
    valid: true,
    deviceIdMatchesKey: true,
    nonceMatches: true,
  });
});

test("handshake rejection surfaces wire code, detail code, requestId, reason and close code", async (t) => {
  const identity = generateIdentity();
  const gw = await FakeGateway.start({
    onConnect: () => ({
      error: new GatewayError("PAIRING_REQUIRED", {
        message: "pairing required: device is not approved yet",
        details: { reason: "not-paired", requestId: "req-42", deviceId: identity.deviceId },
        closeReason: "pairing required: device is not approved yet (requestId: req-42)",
      }),
    }),
  });
  const client = new GatewayClient({ url: gw.url, auth: { token: SECRET }, identity });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const err = await client.connect().then(
    () => assert.fail("connect should be rejected"),
    (e: unknown) => e,
  );

  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "HANDSHAKE_REJECTED");
  assert.equal(err.wireCode, "NOT_PAIRED");
  assert.equal(err.detailCode, "PAIRING_REQUIRED");
  assert.equal(err.requestId, "req-42");
  assert.equal(err.reason, "not-paired");
  assert.equal(err.message, "pairing required: device is not approved yet");
  assert.equal(err.closeCode, 1008);
  assert.equal(err.closeReason, "pairing required: device is not approved yet (requestId: req-42)");
  assert.equal(client.state, "idle");
  // Secrets never leak into what the caller sees or logs.
  const signature = gw.connects[0]!.params.device!.signature;
  for (const text of [err.message, inspect(err), inspect(client)]) {
    assert.ok(!text.includes(SECRET), "shared secret leaked");
    assert.ok(!text.includes(signature), "signature leaked");
  }
});

test("protocol mismatch and retryAfterMs are carried on the error", async (t) => {
  const gw = await FakeGateway.start({
    onConnect: (r) =>
      r.index === 1
        ? { error: new GatewayError("PROTOCOL_MISMATCH", { details: { expectedProtocol: 4 } }) }
        : {
            errorShape: {
              code: "UNAVAILABLE",
              message: "gateway starting; retry shortly",
              retryable: true,
              retryAfterMs: 500,
              details: { reason: "startup-sidecars" },
            },
            closeCode: 1013,
            closeReason: "gateway starting",
          },
  });
  const client = new GatewayClient({ url: gw.url, minProtocol: 5, maxProtocol: 6 });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const first = await client.connect().catch((e: unknown) => e);
  assert.ok(first instanceof GatewayClientError);
  assert.equal(first.detailCode, "PROTOCOL_MISMATCH");
  assert.equal(first.closeCode, 1002);
  assert.equal(gw.connects[0]!.params.minProtocol, 5);

  const second = await client.connect().catch((e: unknown) => e);
  assert.ok(second instanceof GatewayClientError);
  assert.equal(second.wireCode, "UNAVAILABLE");
  assert.equal(second.retryAfterMs, 500);
  assert.equal(second.retryable, true);
  assert.equal(second.reason, "startup-sidecars");
  assert.equal(second.closeCode, 1013);
});

test("no challenge within connectTimeoutMs fails with CHALLENGE_TIMEOUT and closes the socket", async (t) => {
  const gw = await FakeGateway.start({ challenge: false });
  const client = new GatewayClient({ url: gw.url, connectTimeoutMs: 150 });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const started = Date.now();
  const err = await client.connect().catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "CHALLENGE_TIMEOUT");
  assert.ok(Date.now() - started >= 140, "did not wait for the timeout");
  assert.equal(gw.connects.length, 0, "no connect frame without a challenge");
  await waitFor(() => gw.closes.length === 1, 2000, "server to see the close");
  assert.equal(gw.closes[0]!.code, 1008);
});

test("a challenge without a nonce is refused with close 1008", async (t) => {
  const gw = await FakeGateway.start({ challenge: { ts: Date.now() } });
  const client = new GatewayClient({ url: gw.url, auth: { token: SECRET } });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });

  const err = await client.connect().catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.message, "connect challenge missing nonce");
  assert.equal(gw.connects.length, 0, "no credentials sent");
  await waitFor(() => gw.closes.length === 1, 2000, "server to see the close");
  assert.deepEqual(gw.closes[0], { code: 1008, reason: "connect challenge missing nonce" });
});

test("an invalid hello-ok is rejected as INVALID_RESPONSE", async (t) => {
  const gw = await FakeGateway.start({
    onConnect: () => ({ hello: { ...helloOk(), auth: undefined } as never }),
  });
  const client = new GatewayClient({ url: gw.url });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  const err = await client.connect().catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "INVALID_RESPONSE");
  assert.match(err.message, /hello-ok/);
});

test("connection refused fails with CONNECT_FAILED", async () => {
  const gw = await FakeGateway.start();
  const url = gw.url;
  await gw.stop();
  const client = new GatewayClient({ url, connectTimeoutMs: 2000 });
  const err = await client.connect().catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "CONNECT_FAILED");
  assert.match(err.message, /ECONNREFUSED/);
  await client.close();
});

test("close() during the handshake rejects connect with CLIENT_CLOSED", async (t) => {
  const gw = await FakeGateway.start({ onConnect: () => ({ silent: true }) });
  t.after(() => gw.stop());
  const client = new GatewayClient({ url: gw.url });
  const pending = client.connect();
  await waitFor(() => gw.connects.length === 1, 2000, "connect frame");
  await client.close();
  const err = await pending.catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "CLIENT_CLOSED");
  assert.equal(client.state, "closed");
  await assert.rejects(client.connect(), { code: "CLIENT_CLOSED" });
});
