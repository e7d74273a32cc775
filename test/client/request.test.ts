import { strict as assert } from "node:assert";
import { test } from "node:test";
import { GatewayClient, GatewayClientError, type GatewayEvent } from "../../src/client/index.js";
import { GatewayError } from "../../src/protocol/index.js";
import { FakeGateway, waitFor, type FakeGatewayOptions } from "./fake-gateway.js";

async function connected(t: { after(fn: () => Promise<void>): void }, options: FakeGatewayOptions = {}) {
  const gw = await FakeGateway.start(options);
  const client = new GatewayClient({ url: gw.url, auth: { token: "tok-req" } });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await client.connect();
  return { gw, client };
}

test("request resolves with the response payload; concurrent ids are unique and matched", async (t) => {
  const { gw, client } = await connected(t, {
    // Answer the first request last, so matching by id (not order) is exercised.
    onRequest: async (frame) => {
      if (frame.method === "slow-first") await new Promise((r) => setTimeout(r, 50));
      return { payload: { echoed: frame.method, params: frame.params ?? null } };
    },
  });

  const [a, b, c] = await Promise.all([
    client.request("slow-first", { n: 1 }),
    client.request("health"),
    client.request("echo", { n: 3 }),
  ]);

  assert.deepEqual(a, { echoed: "slow-first", params: { n: 1 } });
  assert.deepEqual(b, { echoed: "health", params: null });
  assert.deepEqual(c, { echoed: "echo", params: { n: 3 } });
  const ids = gw.requests.map((r) => r.id);
  assert.equal(new Set(ids).size, 3);
  assert.equal(
    "params" in gw.requests.find((r) => r.method === "health")!,
    false,
    "params omitted when absent",
  );
});

test("a method error surfaces REQUEST_FAILED with MISSING_SCOPE and the connection stays usable", async (t) => {
  const { client } = await connected(t, {
    onRequest: (frame) =>
      frame.method === "devices.approve"
        ? {
            error: new GatewayError("MISSING_SCOPE", {
              message: "missing scope: operator.pairing",
              details: { missingScope: "operator.pairing", requiredScopes: ["operator.pairing"] },
            }),
          }
        : { payload: "ok" },
  });

  const err = await client.request("devices.approve", { requestId: "r1" }).catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "REQUEST_FAILED");
  assert.equal(err.wireCode, "FORBIDDEN");
  assert.equal(err.detailCode, "MISSING_SCOPE");
  assert.equal(err.message, "missing scope: operator.pairing");
  assert.equal(err.details?.missingScope, "operator.pairing");
  assert.equal(await client.request("health"), "ok");
});

test("a request with no answer times out and sends a cancel frame", async (t) => {
  const { gw, client } = await connected(t, { onRequest: () => undefined });

  const started = Date.now();
  const err = await client.request("agent.wait", {}, { timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "REQUEST_TIMEOUT");
  assert.ok(Date.now() - started >= 95);
  const id = gw.requests[0]!.id;
  await waitFor(() => gw.cancels.includes(id), 2000, "cancel frame");
});

test("server events after hello are emitted with event, payload and seq", async (t) => {
  const { gw, client } = await connected(t);
  const seen: GatewayEvent[] = [];
  client.on("event", (e) => seen.push(e));

  gw.broadcast("tick", { ts: 1 }, 7);
  gw.broadcast("device.pair.requested", { requestId: "r9" }, 8);
  await waitFor(() => seen.length === 2, 2000, "two events");

  assert.deepEqual(seen, [
    { event: "tick", payload: { ts: 1 }, seq: 7 },
    { event: "device.pair.requested", payload: { requestId: "r9" }, seq: 8 },
  ]);
});

test("pending requests fail with CONNECTION_CLOSED when the socket drops", async (t) => {
  const { gw, client } = await connected(t, { onRequest: () => undefined });
  const closed = new Promise((resolve) => client.once("close", resolve));

  const pending = client.request("agent.wait");
  await waitFor(() => gw.requests.length === 1, 2000, "request to arrive");
  gw.closeAll(1012, "service restart");

  const err = await pending.catch((e: unknown) => e);
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "CONNECTION_CLOSED");
  assert.equal(err.closeCode, 1012);
  assert.deepEqual(await closed, { code: 1012, reason: "service restart" });
  await assert.rejects(client.request("health"), { code: "CONNECTION_CLOSED" });
});
