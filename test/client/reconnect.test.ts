import { strict as assert } from "node:assert";
import { test } from "node:test";
import { GatewayClient, type GatewayClientError, type ReconnectingInfo } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { GatewayError, type HelloOk } from "../../src/protocol/index.js";
import { FakeGateway, helloOk, nextEvent, waitFor, type ConnectAnswer } from "./fake-gateway.js";

const fast = { initialDelayMs: 20, maxDelayMs: 40 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pairingRequired(extra: Record<string, unknown> = {}): ConnectAnswer {
  return {
    error: new GatewayError("PAIRING_REQUIRED", {
      message: "pairing required: device is asking for more scopes than currently approved",
      details: { reason: "scope-upgrade", requestId: "req-7", ...extra },
    }),
  };
}

test("after a 1012 service restart the client reconnects and requests work again", async (t) => {
  const gw = await FakeGateway.start();
  const client = new GatewayClient({ url: gw.url, auth: { token: "t" }, reconnect: fast });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  const reconnecting: ReconnectingInfo[] = [];
  client.on("reconnecting", (info) => reconnecting.push(info));
  await client.connect();

  const closed = nextEvent(client, "close");
  const rehello = nextEvent<HelloOk>(client, "hello");
  gw.closeAll(1012, "service restart");

  assert.deepEqual(await closed, { code: 1012, reason: "service restart" });
  await rehello;
  assert.equal(gw.connects.length, 2);
  assert.equal(reconnecting.length, 1);
  assert.equal(reconnecting[0]!.attempt, 1);
  assert.ok(
    reconnecting[0]!.delayMs >= 10 && reconnecting[0]!.delayMs <= 20,
    `delay ${reconnecting[0]!.delayMs}`,
  );
  assert.equal(client.state, "open");
  assert.deepEqual(await client.request("health"), { method: "health", params: null });
});

test("failed reconnect attempts back off with growing attempt numbers until the gateway is back", async (t) => {
  let up = true;
  const gw = await FakeGateway.start({
    onConnect: (): ConnectAnswer =>
      up
        ? { hello: helloOk() }
        : {
            errorShape: { code: "UNAVAILABLE", message: "gateway starting; retry shortly", retryAfterMs: 30 },
            closeCode: 1013,
            closeReason: "gateway starting",
          },
  });
  const client = new GatewayClient({ url: gw.url, reconnect: fast });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  const attempts: ReconnectingInfo[] = [];
  client.on("reconnecting", (info) => attempts.push(info));
  await client.connect();

  up = false;
  gw.closeAll(1012);
  await waitFor(() => attempts.length >= 3, 3000, "three reconnect attempts");
  up = true;
  await nextEvent(client, "hello");

  assert.deepEqual(
    attempts.slice(0, 3).map((a) => a.attempt),
    [1, 2, 3],
  );
  // retryAfterMs from the gateway is a floor for the next delay.
  assert.ok(attempts[1]!.delayMs >= 30);
});

test("close() stops reconnecting, closes with 1000 and is final", async (t) => {
  const gw = await FakeGateway.start();
  t.after(() => gw.stop());
  const client = new GatewayClient({ url: gw.url, reconnect: fast });
  let reconnects = 0;
  client.on("reconnecting", () => reconnects++);
  await client.connect();

  const closed = nextEvent(client, "close");
  await client.close();

  assert.deepEqual(await closed, { code: 1000, reason: "" });
  assert.equal(client.state, "closed");
  await waitFor(() => gw.closes.length === 1, 2000, "server to see the close");
  assert.equal(gw.closes[0]!.code, 1000);
  await sleep(150);
  assert.equal(reconnects, 0);
  assert.equal(gw.connects.length, 1);
  await assert.rejects(client.connect(), { code: "CLIENT_CLOSED" });
  await assert.rejects(client.request("health"), { code: "CLIENT_CLOSED" });
});

test("close() while a reconnect is scheduled cancels it", async (t) => {
  const gw = await FakeGateway.start();
  t.after(() => gw.stop());
  const client = new GatewayClient({ url: gw.url, reconnect: { initialDelayMs: 100, maxDelayMs: 100 } });
  await client.connect();

  const reconnecting = nextEvent(client, "reconnecting");
  gw.closeAll(1012);
  await reconnecting;
  await client.close();
  await sleep(200);

  assert.equal(gw.socketCount, 1);
  assert.equal(client.state, "closed");
});

test("without reconnect a dropped session stays down", async (t) => {
  const gw = await FakeGateway.start();
  const client = new GatewayClient({ url: gw.url });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await client.connect();
  const closed = nextEvent(client, "close");
  gw.closeAll(1012);
  await closed;
  await sleep(100);
  assert.equal(gw.socketCount, 1);
  assert.equal(client.state, "idle");
});

test("PAIRING_REQUIRED on reconnect pauses: error emitted, no further attempts", async (t) => {
  const identity = generateIdentity();
  const gw = await FakeGateway.start({
    onConnect: (r) => (r.index === 1 ? { hello: helloOk() } : pairingRequired()),
  });
  const client = new GatewayClient({ url: gw.url, identity, reconnect: fast });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  const errors: GatewayClientError[] = [];
  client.on("error", (e) => errors.push(e));
  await client.connect();

  const paused = nextEvent<GatewayClientError>(client, "paused");
  gw.closeAll(1012);
  const err = await paused;

  assert.equal(err.detailCode, "PAIRING_REQUIRED");
  assert.equal(err.requestId, "req-7");
  assert.equal(client.state, "paused");
  assert.deepEqual(errors, [err]);
  await sleep(200);
  assert.equal(gw.connects.length, 2, "no attempts while paused");
});

test("PAIRING_REQUIRED with pauseReconnect:false keeps retrying until approved", async (t) => {
  const identity = generateIdentity();
  let approved = false;
  const gw = await FakeGateway.start({
    onConnect: (r) =>
      r.index === 1 || approved
        ? { hello: helloOk() }
        : pairingRequired({ pauseReconnect: false, retryable: true, recommendedNextStep: "wait_then_retry" }),
  });
  const client = new GatewayClient({ url: gw.url, identity, reconnect: fast });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  let paused = false;
  client.on("paused", () => (paused = true));
  await client.connect();

  gw.closeAll(1012);
  await waitFor(() => gw.connects.length >= 4, 3000, "repeated attempts while pending");
  approved = true;
  await nextEvent(client, "hello");
  assert.equal(paused, false);
  assert.equal(client.state, "open");
});

test("a paused client with no error listener does not crash and resumes on connect()", async (t) => {
  let answer: ConnectAnswer = { hello: helloOk() };
  const gw = await FakeGateway.start({ onConnect: () => answer });
  const client = new GatewayClient({ url: gw.url, auth: { token: "t" }, reconnect: fast });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await client.connect();
  answer = { error: new GatewayError("AUTH_TOKEN_MISMATCH") };
  const paused = nextEvent<GatewayClientError>(client, "paused");
  gw.closeAll(1012);
  assert.equal((await paused).detailCode, "AUTH_TOKEN_MISMATCH");

  answer = { hello: helloOk() };
  await client.connect();
  assert.equal(client.state, "open");
});
