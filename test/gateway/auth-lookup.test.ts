/**
 * The shared-auth settings are the embedder's port (`auth()`, a stat of the config file in
 * `gatehouse gateway run`): looked up once per connect, by its connect frame, so a changed secret
 * or mode counts from the next connect frame. The upgrade goes by the last lookup; these tests pin
 * what a client sees when the settings change between connects.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { createGatewayApp } from "../../src/runtime/gateway-app.js";
import { ensureOwner } from "../../src/store/approve.js";
import { openStore } from "../../src/store/db.js";
import { TEST_TOKEN } from "../helpers/gateway.js";
import { connectOnce, openPeer, sendConnect } from "../helpers/raw-client.js";

/** A gateway whose auth port returns `settings.current` and counts its calls. */
async function gatewayWith(settings: { current: GatewayAuth }) {
  const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-auth-lookup-"));
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const lookups = { count: 0 };
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    trustedProxies: ["127.0.0.1"],
    auth: () => {
      lookups.count++;
      return settings.current;
    },
  });
  await app.start();
  return {
    url: `ws://127.0.0.1:${app.server.port}`,
    lookups,
    stop: async () => {
      await app.stop({ graceMs: 200 });
      store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` against a fresh {@link gatewayWith} gateway in token mode, then stops it. */
async function withGateway(body: (gw: Gw, settings: { current: GatewayAuth }) => Promise<void>) {
  const settings = { current: TOKEN_MODE };
  const gw = await gatewayWith(settings);
  try {
    // The very first upgrade has no earlier lookup to go by, so it makes one.
    admitted(await connectOnce(gw.url, { auth: { token: TEST_TOKEN } }));
    await body(gw, settings);
  } finally {
    await gw.stop();
  }
}
type Gw = Awaited<ReturnType<typeof gatewayWith>>;

const TOKEN_MODE: GatewayAuth = { mode: "token", token: TEST_TOKEN };
const admitted = (res: { ok?: boolean; error?: unknown }) =>
  assert.equal(res.ok, true, JSON.stringify(res.error));

describe("auth settings lookups", () => {
  it("are one per connect", () =>
    withGateway(async (gw) => {
      const before = gw.lookups.count;
      for (let i = 0; i < 10; i++) admitted(await connectOnce(gw.url, { auth: { token: TEST_TOKEN } }));
      assert.equal(gw.lookups.count - before, 10);
    }));

  it("a mode changed after the last connect judges the next connect at once", () =>
    withGateway(async (gw, settings) => {
      settings.current = { mode: "password", password: "correct horse battery" };
      const old = await connectOnce(gw.url, { auth: { token: TEST_TOKEN } });
      assert.equal(old.error?.details?.code, "AUTH_PASSWORD_MISSING");
      admitted(await connectOnce(gw.url, { auth: { password: "correct horse battery" } }));
    }));

  it("a switch into trusted-proxy mode asks the first connect after it to reconnect, and the reconnect is judged as the proxy's user", () =>
    withGateway(async (gw, settings) => {
      settings.current = {
        mode: "trusted-proxy",
        identityScopes: { alice: ["operator.read"] },
        trustedProxy: {
          userHeader: "x-forwarded-user",
          requiredHeaders: [],
          allowUsers: ["alice"],
          allowLoopback: true,
          deviceAutoApprove: { enabled: false, scopes: [] },
        },
      };
      // As a trusted proxy on this host forwards a remote user.
      const headers = { "X-Forwarded-For": "203.0.113.7", "X-Forwarded-User": "alice" };
      // Its upgrade went by the token mode, so no proxy facts were gathered for it.
      const first = await openPeer(gw.url, headers);
      first.send({ type: "req", id: "c1", method: "connect", params: {} });
      assert.deepEqual(await first.closed, { code: 1013, reason: "gateway auth mode changed; reconnect" });
      const again = await openPeer(gw.url, headers);
      const res = await sendConnect(again, { scopes: ["operator.read"] });
      again.ws.close();
      admitted(res);
      const auth = (res.payload as { auth?: { method?: string; scopes?: string[] } }).auth;
      assert.deepEqual([auth?.method, auth?.scopes], ["trusted-proxy", ["operator.read"]]);
    }));
});
