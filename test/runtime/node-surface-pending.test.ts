/**
 * C19, the node's side: a node admitted with its approved surface only learns, in its hello-ok,
 * that a request for the wider surface it declared is pending (which requestId, which commands
 * wait, which of them are exec-capable, what approving needs). Gatehouse's node host emits that,
 * and `gatehouse node run` prints it with the exact approve command, then what it exposes once the
 * request is approved while it stays connected.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDeviceTokenStore, GatewayClient } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { HelloNodeSurface, HelloOk } from "../../src/protocol/index.js";
import type { NodePairList } from "../../src/protocol/node-pairing.js";
import { NodeHost } from "../../src/runtime/node-host.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN } from "../helpers/gateway-process.js";
import { watchLines } from "../helpers/watch-lines.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "./node-gateway.js";

const sandbox = createCliSandbox();
const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  sandbox.cleanup();
});

async function gateway(): Promise<NodeTestGateway> {
  const gw = await startNodeGateway();
  cleanups.push(() => gw.stop());
  return gw;
}

async function admin(gw: NodeTestGateway): Promise<GatewayClient> {
  const client = new GatewayClient({ url: gw.url, identity: gw.owner, scopes: ["operator.admin"] });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

/** A node of its own on loopback (paired silently as a local node), offering `commands`. */
function nodeIn(gw: NodeTestGateway, dir: string, commands: string[]) {
  const host = new NodeHost({
    url: gw.url,
    identity: loadOrCreateIdentity(join(dir, "identity", "device.json")),
    tokenStore: new FileDeviceTokenStore(join(dir, "identity", "device-auth.json")),
    auth: { token: TEST_TOKEN },
    commands,
    displayName: "lab box",
    pendingRetryMs: 100,
  });
  cleanups.push(() => host.stop());
  const surfaces: HelloNodeSurface[] = [];
  host.on("surface", (s) => surfaces.push(s));
  const connected = once(host, "connected", { signal: AbortSignal.timeout(10_000) }) as Promise<[HelloOk]>;
  void host.run();
  return { host, surfaces, hello: connected.then(([h]) => h) };
}

describe("a node learns that its surface request is pending", () => {
  it("C19: approved with [system.which], back offering system.run: hello-ok names the pending request and the exec-capable command that waits; once approved, nothing waits", async () => {
    const gw = await gateway();
    const owner = await admin(gw);
    const dir = sandbox.stateDir();

    const first = nodeIn(gw, dir, ["system.which"]);
    const firstHello = await first.hello;
    const asked = firstHello.nodeSurface?.pending;
    assert.ok(asked, "a first surface waits for approval too");
    assert.deepEqual(firstHello.nodeSurface, {
      exposed: [],
      approved: null,
      pending: {
        requestId: asked.requestId,
        commands: ["system.which"],
        waiting: ["system.which"],
        execCommands: ["system.which"],
        requiredApproveScopes: ["operator.pairing", "operator.admin"],
      },
    });
    await owner.request("node.pair.approve", { requestId: asked.requestId });
    await first.host.stop();

    const wider = nodeIn(gw, dir, ["system.run", "system.which", "camera.snap"]);
    const hello = await wider.hello;
    const { pending } = await owner.request<NodePairList>("node.pair.list", {});
    assert.equal(pending.length, 1);
    assert.deepEqual(hello.nodeSurface, {
      exposed: ["system.which"],
      approved: ["system.which"],
      pending: {
        requestId: pending[0]!.requestId,
        commands: ["camera.snap", "system.run", "system.which"],
        waiting: ["camera.snap", "system.run"],
        execCommands: ["system.run"],
        requiredApproveScopes: ["operator.pairing", "operator.admin"],
      },
    });
    // The node host passes it on as its own event, right after connected.
    assert.deepEqual(wider.surfaces, [hello.nodeSurface]);

    await owner.request("node.pair.approve", { requestId: pending[0]!.requestId });
    await wider.host.stop();
    const again = nodeIn(gw, dir, ["system.run", "system.which", "camera.snap"]);
    assert.deepEqual((await again.hello).nodeSurface, {
      exposed: ["camera.snap", "system.run", "system.which"],
      approved: ["camera.snap", "system.run", "system.which"],
      pending: null,
    });
  });

  it("an operator's hello-ok has no nodeSurface", async () => {
    const gw = await gateway();
    const client = new GatewayClient({ url: gw.url, identity: gw.owner, scopes: ["operator.read"] });
    cleanups.push(() => client.close());
    const hello = await client.connect();
    assert.equal(hello.nodeSurface, undefined);
  });

  it("gatehouse node run prints the surface that waits and the exact command that approves it", async () => {
    const gw = await gateway();
    const dir = sandbox.stateDir();
    const child = spawn(
      process.execPath,
      [CLI_MAIN, "node", "run", "--url", gw.url, "--token", TEST_TOKEN, "--state-dir", dir],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...sandbox.env } },
    );
    const exited = once(child, "exit");
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    });
    const out = watchLines(child);
    const [, requestId] = await out.waitFor(
      /^exposing \(none\); its command surface waits for approval \(request (\S+)\): system\.run, system\.which \(exec-capable: system\.run, system\.which\)$/,
    );
    await out.waitFor(
      new RegExp(
        `^  on the gateway host run: gatehouse nodes approve ${requestId} \\(needs operator\\.pairing \\+ operator\\.admin\\)$`,
      ),
    );
    const owner = await admin(gw);
    const { pending } = await owner.request<NodePairList>("node.pair.list", {});
    assert.deepEqual(
      pending.map((r) => r.requestId),
      [requestId],
    );
    // Approved while it runs: it says what it exposes now, in the session it has.
    await owner.request("node.pair.approve", { requestId });
    await out.waitFor(
      new RegExp(
        `^surface request ${requestId} approved: exposing system\\.run, system\\.which now \\(no reconnect needed\\)$`,
      ),
    );
    assert.doesNotMatch(out.lines.join("\n"), /disconnected/);
  });
});
