/** Scenarios that need real gateway processes: restarts, a second gateway, a corrupt store. */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { GatewayClient, MemoryDeviceTokenStore } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/keys.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli, spawnGateway } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
const cleanEnv = sandbox.env;
const stateDir = () => sandbox.stateDir();
after(() => sandbox.cleanup());

const TOKEN = "scenario-token-0123456789abcdefghijkl";

describe("S01 — pairing survives a restart", () => {
  it("S01: a device paired before a restart reconnects after it with its device token alone", async () => {
    const dir = stateDir();
    const identity = generateIdentity();
    const tokens = new MemoryDeviceTokenStore();
    const first = await spawnGateway(["--port", "0", "--state-dir", dir, "--token", TOKEN], cleanEnv);
    const port = new URL(first.url).port;
    try {
      const c = new GatewayClient({
        url: first.url,
        auth: { token: TOKEN },
        identity,
        deviceTokenStore: tokens,
        scopes: ["operator.write"],
      });
      const hello = await c.connect();
      assert.ok(hello.auth.deviceToken, "approved silently on loopback and issued a device token");
      await c.close();
    } finally {
      await first.stop();
    }
    const second = await spawnGateway(["--port", port, "--state-dir", dir, "--token", TOKEN], cleanEnv);
    try {
      // No shared secret this time: the device token from before the restart must do.
      const c = new GatewayClient({
        url: second.url,
        identity,
        deviceTokenStore: tokens,
        scopes: ["operator.read"],
      });
      const hello = await c.connect();
      assert.equal(hello.auth.method, "device-token");
      assert.equal((await c.request<{ ok: boolean }>("health")).ok, true);
      await c.close();
    } finally {
      await second.stop();
    }
  });
});

describe("S15 — one gateway per state dir, and a broken store is never papered over", () => {
  it("a second gateway on the same state dir refuses to start and names the process holding it", async () => {
    const dir = stateDir();
    const gw = await spawnGateway(["--port", "0", "--state-dir", dir, "--token", TOKEN], cleanEnv);
    try {
      const r = await runCli(
        ["gateway", "run", "--port", "0", "--state-dir", dir, "--token", TOKEN],
        cleanEnv,
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^error STORE_LOCKED: .*pid ${gw.child.pid}`));
    } finally {
      await gw.stop();
    }
  });

  it("S15: a corrupt store stops the gateway with a clear message and is left untouched", async () => {
    const dir = stateDir();
    mkdirSync(join(dir, "state"), { recursive: true });
    const file = join(dir, "state", "gatehouse.sqlite");
    const garbage = Buffer.from("this is not a database, but it is someone's data ".repeat(100));
    writeFileSync(file, garbage);
    const r = await runCli(["gateway", "run", "--port", "0", "--state-dir", dir, "--token", TOKEN], cleanEnv);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error STORE_CORRUPT: state store .*gatehouse\.sqlite is corrupt/);
    assert.match(r.stderr, /refusing to start/);
    assert.deepEqual(readFileSync(file), garbage, "never recreated or overwritten");
    // The lock was released: after moving the store aside, the gateway starts.
    rmSync(file);
    const gw = await spawnGateway(["--port", "0", "--state-dir", dir, "--token", TOKEN], cleanEnv);
    await gw.stop();
  });
});
