/**
 * S45/C19 across network namespaces: a node host in container B (its own identity, only the token)
 * reaches the gateway in container A, waits for one approval, then serves operators — also after
 * the gateway restarts. Layout as in containers.test.ts; skipped with the reason where namespaces
 * cannot be made.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { watchLines } from "../helpers/watch-lines.js";
import { after, before, describe, it } from "node:test";
import type { ChildProcess } from "node:child_process";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, type GatewayProcess } from "../helpers/gateway-process.js";
import {
  createNetnsPair,
  netnsUnavailableReason,
  runCliIn,
  spawnGatewayIn,
  spawnIn,
  type NetnsPair,
} from "../helpers/netns.js";

const unavailable = netnsUnavailableReason();
const needsNetns = unavailable ? { skip: unavailable } : {};
const PORT = 18789;
const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

describe("S45/C19 — a node host in another namespace", () => {
  let pair: NetnsPair;
  let gw: GatewayProcess | null = null;
  let node: ChildProcess | null = null;
  const gwDir = sandbox.stateDir();
  const nodeDir = sandbox.stateDir();

  const startGateway = async () => {
    gw = await spawnGatewayIn(pair.a, ["--state-dir", gwDir], sandbox.env);
  };
  const owner = (args: string[]) =>
    runCliIn(pair.a, [...args, "--state-dir", gwDir, "--allow-insecure"], sandbox.env);
  const nodeId = () =>
    (JSON.parse(readFileSync(join(nodeDir, "identity", "device.json"), "utf8")) as { deviceId: string })
      .deviceId;
  const which = async () => {
    const r = await owner([
      "nodes",
      "invoke",
      nodeId(),
      "system.which",
      "--params",
      '{"bin":"node"}',
      "--json",
    ]);
    return r;
  };

  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    writeFileSync(
      join(gwDir, "gatehouse.json"),
      JSON.stringify({ gateway: { port: PORT, bind: "custom", customBindHost: pair.addrA } }),
    );
    await startGateway();
  });
  after(async () => {
    node?.kill("SIGTERM");
    await gw?.stop();
    await pair?.destroy();
  });

  it(
    "S45/C19: pending until an admin approves; then system.which works, also after a gateway restart",
    needsNetns,
    async () => {
      const token = (
        JSON.parse(readFileSync(join(gwDir, "gatehouse.json"), "utf8")) as {
          gateway: { auth: { token: string } };
        }
      ).gateway.auth.token;
      node = spawnIn(
        pair.b,
        [
          process.execPath,
          CLI_MAIN,
          "node",
          "run",
          "--url",
          `ws://${pair.addrA}:${PORT}`,
          "--token",
          token,
          "--state-dir",
          nodeDir,
          "--allow-insecure",
        ],
        sandbox.env,
      );
      const out = watchLines(node);
      const [, requestId] = await out.waitFor(/waiting for approval of request (\S+);/);

      // C19: before approval the node is not reachable at all.
      const before = await which();
      assert.equal(before.code, 1, before.stdout + before.stderr);
      const list = JSON.parse((await owner(["nodes", "list", "--json"])).stdout) as { nodes: unknown[] };
      assert.equal(list.nodes.length, 0, "an unapproved node is not listed");

      const approved = await owner(["devices", "approve", requestId!]);
      assert.equal(approved.code, 0, approved.stderr);
      await out.waitFor(/^connected to /);
      const r = await which();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /"path": "\/[^"]*node"/);

      // The gateway restarts; the node reconnects with its device token, no second approval.
      const seen = out.lines.length;
      await gw!.stop();
      await startGateway();
      await out.waitFor(/^connected to /, 30_000, seen);
      const again = await which();
      assert.equal(again.code, 0, again.stderr);
      const pending = JSON.parse((await owner(["devices", "list", "--json"])).stdout) as {
        pending: unknown[];
      };
      assert.equal(pending.pending.length, 0, "no second request");
    },
  );
});
