/** GatewayClient against the real gateway (not the scripted fake): what a library user sees. */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { GatewayClient, GatewayClientError, type GatewayEvent } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { createGatewayServer } from "../../src/gateway/server.js";
import { coreMethods } from "../../src/methods/index.js";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";

describe("GatewayClient ↔ gateway", () => {
  it("device-less cli: connect, request, and a MISSING_SCOPE error keeps the session", async () => {
    const gw = await startTestGateway();
    const client = new GatewayClient({ url: gw.url, auth: { token: TEST_TOKEN }, scopes: [] });
    try {
      const hello = await client.connect();
      assert.deepEqual(hello.auth.scopes, []);
      const err = await client.request("status").then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "REQUEST_FAILED");
      assert.equal(err.wireCode, "FORBIDDEN");
      assert.equal(err.detailCode, "MISSING_SCOPE");
      assert.equal(client.state, "open");
    } finally {
      await client.close();
      await gw.stop();
    }
  });

  it("a signed device that is not paired (and not silently approvable) gets HANDSHAKE_REJECTED with PAIRING_REQUIRED", async () => {
    const gw = await startTestGateway({ autoApproveLocal: false });
    const client = new GatewayClient({
      url: gw.url,
      auth: { token: TEST_TOKEN },
      identity: generateIdentity(),
      scopes: ["operator.read"],
    });
    try {
      const err = await client.connect().then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "HANDSHAKE_REJECTED");
      assert.equal(err.wireCode, "NOT_PAIRED");
      assert.equal(err.detailCode, "PAIRING_REQUIRED");
      assert.equal(err.reason, "not-paired");
      assert.match(err.requestId ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(err.closeCode, 1008);
    } finally {
      await client.close();
      await gw.stop();
    }
  });

  it("gateway restart: shutdown event, close 1012, then the client reconnects to the new process", async () => {
    const first = await startTestGateway();
    const port = first.server.port;
    const client = new GatewayClient({
      url: first.url,
      auth: { token: TEST_TOKEN },
      scopes: ["operator.read"],
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    const events: GatewayEvent[] = [];
    client.on("event", (e) => events.push(e));
    await client.connect();
    const closed = new Promise<{ code: number }>((r) => client.once("close", r));
    const rehello = new Promise((r) => client.once("hello", r));
    await first.server.stop({ reason: "restart", restartExpectedMs: 100 });
    assert.equal((await closed).code, 1012);
    assert.ok(events.some((e) => e.event === "shutdown"));
    const second = createGatewayServer({
      hosts: ["127.0.0.1"],
      port,
      methods: coreMethods,
      store: first.store,
      ownerDeviceId: first.owner.deviceId,
      auth: () => ({ mode: "token", token: TEST_TOKEN }),
    });
    await second.start();
    try {
      await rehello;
      const health = await client.request<{ ok: boolean }>("health");
      assert.equal(health.ok, true);
    } finally {
      await client.close();
      await second.stop({ graceMs: 100 });
      first.store.close();
      rmSync(first.stateDir, { recursive: true, force: true });
    }
  });
});
