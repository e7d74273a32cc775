/**
 * `gatehouse nodes rename <node> <name>`, as a user runs it: the real CLI against an in-process
 * gateway with a node host connected. A node's name is its device label (`node.rename`); who may
 * rename is the gateway's decision, and its refusal is what the CLI shows.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDeviceTokenStore } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { NodePairList, NodeRenameResult } from "../../src/protocol/node-pairing.js";
import { NodeHost } from "../../src/runtime/node-host.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli } from "../helpers/gateway-process.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "../runtime/node-gateway.js";

const sandbox = createCliSandbox();
const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  sandbox.cleanup();
});

/** A node host on loopback with the shared secret: paired silently as a local node. */
async function connectedNode(gw: NodeTestGateway): Promise<NodeHost> {
  const dir = sandbox.stateDir();
  const host = new NodeHost({
    url: gw.url,
    identity: loadOrCreateIdentity(join(dir, "identity", "device.json")),
    tokenStore: new FileDeviceTokenStore(join(dir, "identity", "device-auth.json")),
    auth: { token: TEST_TOKEN },
    commands: ["camera.snap"],
    displayName: "lab box",
    pendingRetryMs: 100,
  });
  cleanups.push(() => host.stop());
  const connected = once(host, "connected", { signal: AbortSignal.timeout(10_000) });
  void host.run();
  await connected;
  return host;
}

describe("gatehouse nodes rename", () => {
  it("the owner renames a node by id prefix or by its name; --json is the gateway's answer; the name shows in nodes pending", async () => {
    const gw = await startNodeGateway();
    cleanups.push(() => gw.stop());
    const node = await connectedNode(gw);
    const owner = (args: string[]) =>
      runCli([...args, "--url", gw.url, "--state-dir", gw.stateDir], sandbox.env);

    const text = await owner(["nodes", "rename", node.nodeId.slice(0, 12), "kitchen camera"]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.trim(), `renamed node ${node.nodeId.slice(0, 12)} to "kitchen camera"`);
    assert.equal(gw.store.devices.get(node.nodeId)?.label, "kitchen camera");

    const json = await owner(["nodes", "rename", "kitchen camera", "  build server ", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout) as NodeRenameResult, {
      nodeId: node.nodeId,
      displayName: "build server",
    });

    const flags = await owner(["nodes", "rename", "--node", node.nodeId, "--name", "lab box 2", "--json"]);
    assert.equal(flags.code, 0, flags.stderr);
    // Its surface waits for approval: the request is listed under the owner's name for the node.
    const pending = await owner(["nodes", "pending", "--json"]);
    const list = JSON.parse(pending.stdout) as NodePairList;
    assert.deepEqual(
      list.pending.map((r) => [r.nodeId, r.displayName]),
      [[node.nodeId, "lab box 2"]],
    );
    // The connected node is listed under it too.
    const connected = await owner(["nodes", "list", "--json"]);
    assert.equal(connected.code, 0, connected.stderr);
    const nodes = (JSON.parse(connected.stdout) as { nodes: Array<{ nodeId: string; displayName: string }> })
      .nodes;
    assert.deepEqual(
      nodes.map((n) => [n.nodeId, n.displayName]),
      [[node.nodeId, "lab box 2"]],
    );
    const devices = await owner(["devices", "list"]);
    assert.match(devices.stdout, /lab box 2/);
  });

  it("an unknown node: exit 1, NOT_FOUND, says where to look; a missing or too long name: exit 2, nothing sent", async () => {
    const gw = await startNodeGateway();
    cleanups.push(() => gw.stop());
    const node = await connectedNode(gw);
    const owner = (args: string[]) =>
      runCli([...args, "--url", gw.url, "--state-dir", gw.stateDir], sandbox.env);

    const unknown = await owner(["nodes", "rename", "f".repeat(64), "x"]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^error NOT_FOUND: no node f{64}: the gateway knows no node by that id or name/m,
    );
    assert.match(unknown.stderr, /gatehouse nodes pending/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, "no stack trace");
    const unknownJson = await owner(["nodes", "rename", "no-such-node", "x", "--json"]);
    assert.equal(unknownJson.code, 1);
    assert.equal((JSON.parse(unknownJson.stdout) as { error: { code: string } }).error.code, "NOT_FOUND");

    const noName = await owner(["nodes", "rename", node.nodeId]);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /^error MISSING_ARGUMENT: give the new name, 1 to 64 characters/m);
    const long = await owner(["nodes", "rename", node.nodeId, "n".repeat(65)]);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /^error INVALID_ARGUMENT: /m);
    assert.equal(gw.store.devices.get(node.nodeId)?.label ?? null, null, "nothing was renamed");
  });

  it("a device holding only operator.pairing: the gateway refuses (a node row takes operator.admin) and the CLI shows that refusal", async () => {
    const gw = await startNodeGateway();
    cleanups.push(() => gw.stop());
    const node = await connectedNode(gw);
    // Another CLI on loopback with the shared secret: paired silently for operator.pairing only.
    const other = sandbox.stateDir();
    const device = (args: string[]) =>
      runCli([...args, "--url", gw.url, "--token", TEST_TOKEN, "--state-dir", other], sandbox.env);

    const refused = await device(["nodes", "rename", node.nodeId, "kitchen camera"]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /^error (MISSING_SCOPE|FORBIDDEN_ACTION): node rename denied: /m);
    assert.match(refused.stderr, /operator\.admin/);
    const json = await device(["nodes", "rename", node.nodeId, "kitchen camera", "--json"]);
    assert.equal(json.code, 1);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.match(error.code, /^(MISSING_SCOPE|FORBIDDEN_ACTION)$/);
    assert.match(error.message, /^node rename denied: /);
    assert.equal(gw.store.devices.get(node.nodeId)?.label ?? null, null, "nothing was renamed");
  });
});
