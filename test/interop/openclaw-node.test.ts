/**
 * A real third-party client against the gateway: `openclaw-node` 0.14 (protocol 4, client
 * `gateway-client`/`backend`, signs a v2 device payload with the shared token in it).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OpenClawClient } from "openclaw-node";
import { WebSocket } from "ws";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";

// On Node 20 openclaw-node's ESM build finds no WebSocket by itself.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

let gw: TestGateway;
let dir: string;
before(async () => {
  gw = await startTestGateway();
  dir = mkdtempSync(join(tmpdir(), "gatehouse-openclaw-node-"));
});
after(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(token: string, name: string) {
  return new OpenClawClient({
    url: gw.url,
    token,
    deviceIdentityPath: join(dir, `${name}.json`),
    autoReconnect: false,
  });
}

describe("openclaw-node 0.14 interop", () => {
  it("connects with the shared token and calls health", async () => {
    const c = client(TEST_TOKEN, "good");
    const hello = (await c.connect()) as { protocol: number; auth: { scopes: string[] } };
    assert.equal(hello.protocol, 4);
    assert.deepEqual(hello.auth.scopes, ["operator.read", "operator.write"]);
    // health() resolves to the payload; request() to the whole response frame.
    const health = (await c.health()) as { ok: boolean; version: string };
    assert.equal(health.ok, true);
    assert.match(health.version, /^\d+\.\d+\.\d+/);
    const status = (await c.request("status")) as unknown as {
      ok: boolean;
      payload: { self: { client: string } };
    };
    assert.equal(status.ok, true);
    assert.equal(status.payload.self.client, "gateway-client/backend");
    await c.disconnect();
  });

  it("is refused with a wrong token", async () => {
    const c = client("not-the-token", "bad");
    c.on("error", () => {});
    await assert.rejects(c.connect());
    await c.disconnect();
  });
});
