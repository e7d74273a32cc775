import { strict as assert } from "node:assert";
import { test } from "node:test";
import { GatewayClient, GatewayClientError, isLoopbackUrl } from "../../src/client/index.js";
import { FakeGateway } from "./fake-gateway.js";

test("ws:// to non-loopback hosts is refused in the constructor, before any network I/O", () => {
  for (const url of [
    "ws://10.0.0.5:1",
    "ws://127.evil.com:1",
    "ws://gateway.example:18789",
    "ws://[fe80::1]:1",
  ]) {
    let thrown: unknown;
    try {
      new GatewayClient({ url, auth: { token: "never-sent" } });
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown instanceof GatewayClientError, `${url} accepted`);
    assert.equal(thrown.code, "INSECURE_URL");
    assert.match(thrown.message, /plaintext ws:\/\/ to non-loopback host/);
    assert.match(thrown.message, /wss:\/\//);
    assert.ok(!thrown.message.includes("never-sent"));
  }
});

test("loopback ws://, wss:// and allowInsecure are accepted", () => {
  for (const url of [
    "ws://127.0.0.1:18789",
    "ws://[::1]:18789",
    "ws://localhost:18789",
    "ws://127.9.9.9",
    "wss://gateway.example",
  ]) {
    assert.doesNotThrow(() => new GatewayClient({ url }), url);
  }
  assert.doesNotThrow(() => new GatewayClient({ url: "ws://10.0.0.5:1", allowInsecure: true }));
});

test("non-WebSocket schemes and garbage are rejected as INVALID_OPTIONS", () => {
  assert.throws(() => new GatewayClient({ url: "http://127.0.0.1:1" }), { code: "INVALID_OPTIONS" });
  assert.throws(() => new GatewayClient({ url: "not a url" }), { code: "INVALID_OPTIONS" });
});

test("isLoopbackUrl parses the address instead of matching prefixes", () => {
  const loopback = [
    "ws://127.0.0.1",
    "ws://127.255.255.254:9",
    "ws://127.1",
    "ws://0x7f.0.0.1",
    "ws://[::1]:1",
    "ws://[0:0:0:0:0:0:0:1]",
    "ws://[::ffff:127.0.0.1]",
    "ws://localhost",
    "ws://LOCALHOST:1",
  ];
  const remote = [
    "ws://127.evil.com",
    "ws://127.0.0.1.evil.com",
    "ws://localhost.evil.com",
    "ws://128.0.0.1",
    "ws://10.0.0.5",
    "ws://[::2]",
    "ws://[::ffff:10.0.0.1]",
    "ws://0.0.0.0",
    "nonsense",
  ];
  for (const u of loopback) assert.equal(isLoopbackUrl(u), true, u);
  for (const u of remote) assert.equal(isLoopbackUrl(u), false, u);
});

test("a client on ws://localhost reaches a loopback gateway", async (t) => {
  const gw = await FakeGateway.start();
  const client = new GatewayClient({ url: `ws://localhost:${gw.port}` });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await client.connect();
  assert.equal(gw.connects.length, 1);
});
