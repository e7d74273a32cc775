/**
 * What `gatehouse gateway run` loads: it runs from the CLI bundle, and starts and serves valid frames and params without the
 * schema library (precompiled checks), and still words a bad frame the way TypeBox does; it serves
 * WebSockets with its own server socket, without `ws`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, spawnGateway } from "../helpers/gateway-process.js";
import { call, openPeer, sendConnect } from "../helpers/raw-client.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());
const MODULE_LOG = fileURLToPath(new URL("../helpers/module-log.js", import.meta.url));
const token = "start-modules-token-" + "t".repeat(32);

describe("gatehouse gateway run's module graph", () => {
  it("serves a client without loading TypeBox; a malformed request still gets its wording", async () => {
    const port = await freePort();
    const dir = sandbox.stateDir({ gateway: { port, auth: { token } } });
    const log = join(dir, "modules.log");
    const cjsLog = join(dir, "commonjs.log");
    const gw = await spawnGateway(["--state-dir", dir], {
      ...sandbox.env,
      NODE_OPTIONS: `--import ${MODULE_LOG}`,
      GATEHOUSE_TEST_MODULE_LOG: log,
      GATEHOUSE_TEST_CJS_LOG: cjsLog,
    });
    const loaded = (): string[] => readFileSync(log, "utf8").split("\n").filter(Boolean);
    const typebox = (): string[] => loaded().filter((u) => u.includes("@sinclair/typebox"));
    try {
      const peer = await openPeer(gw.url);
      const hello = await sendConnect(peer, { auth: { token }, scopes: ["operator.read"] });
      assert.equal(hello.ok, true, JSON.stringify(hello));
      assert.equal((await call(peer, "health")).ok, true);
      assert.equal((await call(peer, "sessions.list", { limit: 5 })).ok, true);
      assert.ok(
        loaded().some((u) => u.endsWith("/dist/src/bundle/cli.js")),
        "the gateway runs from the CLI bundle",
      );
      // Of tsc's modules only the entry and its start settings load; the rest is the bundle's.
      const unbundled = loaded()
        .filter((u) => u.includes("/dist/src/") && !u.includes("/dist/src/bundle/"))
        .map((u) => u.slice(u.indexOf("/dist/src/") + "/dist/src/".length));
      assert.deepEqual(unbundled.sort(), ["cli/lifecycle/start-settings.js", "cli/main.js"]);
      assert.deepEqual(typebox(), [], "no TypeBox module loaded");

      const bad = await call(peer, "sessions.list", { limit: 0 });
      assert.equal(bad.ok, false);
      assert.deepEqual(bad.error, {
        code: "INVALID_REQUEST",
        details: { code: "INVALID_PARAMS" },
        message: "invalid params: at /limit: Expected integer to be greater or equal to 1",
      });
      peer.ws.close();
    } finally {
      await gw.stop();
    }
    const commonJs = readFileSync(cjsLog, "utf8").split("\n").filter(Boolean);
    assert.ok(
      commonJs.some((p) => p.includes("better-sqlite3")),
      `the log holds the gateway's CommonJS packages: ${commonJs.join(" ")}`,
    );
    assert.deepEqual(
      commonJs.filter((p) => p.includes("/node_modules/ws/")),
      [],
      "ws is not loaded",
    );
  });
});
