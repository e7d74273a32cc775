/**
 * `gatehouse nodes pending|approve|reject|remove` and the node commands shown by `devices list` /
 * `devices approve`, as real CLI processes (the owner's CLI: the gateway's state dir) against an
 * in-process gateway, with a node elsewhere (behind a trusted same-host proxy) whose command
 * surface is approved, widened and removed (C19).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDeviceTokenStore } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { NodePairList, NodePairPending } from "../../src/protocol/node-pairing.js";
import { NodeHost, type PendingInfo } from "../../src/runtime/node-host.js";
import { CLI_MAIN } from "../helpers/gateway-process.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "./node-gateway.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
  return env;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

function nodeHost(gw: NodeTestGateway, dir: string, commands: string[], withToken: boolean): NodeHost {
  const host = new NodeHost({
    url: gw.url,
    identity: loadOrCreateIdentity(join(dir, "identity", "device.json")),
    tokenStore: new FileDeviceTokenStore(join(dir, "identity", "device-auth.json")),
    headers: { "X-Forwarded-For": "203.0.113.60" },
    commands,
    displayName: "lab box",
    pendingRetryMs: 100,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...(withToken ? { auth: { token: TEST_TOKEN } } : {}),
  });
  cleanups.push(() => host.stop());
  void host.run();
  return host;
}

/** The host's next `event`, failing with `what` after 10 s. */
async function next(host: NodeHost, event: "pending" | "connected", what: string): Promise<unknown> {
  try {
    return ((await once(host, event, { signal: AbortSignal.timeout(10_000) })) as unknown[])[0];
  } catch {
    return assert.fail(`no ${event} event within 10 s: ${what}`);
  }
}

describe("gatehouse nodes pending / approve / reject / remove", () => {
  it("C19: shows the declared commands at both approvals, approves exactly one request, removes the node", async () => {
    const gw = await startNodeGateway({ trustedProxies: ["127.0.0.1"] });
    cleanups.push(() => gw.stop());
    const common = ["--url", gw.url, "--state-dir", gw.stateDir];
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-nodes-cli-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const nodeId = loadOrCreateIdentity(join(dir, "identity", "device.json")).deviceId;

    // Device approval shows the commands it pins.
    const first = nodeHost(gw, dir, ["system.which"], true);
    const pend = (await next(first, "pending", "the node's device request")) as PendingInfo;
    const devices = await cli(["devices", "list", ...common]);
    assert.equal(devices.code, 0, devices.stderr);
    assert.match(
      devices.stdout,
      /commands +system\.which \[exec\] \(pinned as its command surface when approved\)/,
    );
    const admitted = next(first, "connected", "the node after its device approval");
    const approvedDevice = await cli(["devices", "approve", pend.requestId!, ...common]);
    assert.equal(approvedDevice.code, 0, approvedDevice.stderr);
    assert.match(approvedDevice.stdout, /node command surface pinned: system\.which/);
    await admitted;
    await first.stop();

    // The node comes back declaring system.run: the wider surface waits for `nodes approve`.
    const wider = nodeHost(gw, dir, ["system.run", "system.which"], false);
    await next(wider, "connected", "the node back with its device token");
    const json = await cli(["nodes", "pending", ...common, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as NodePairList;
    assert.equal(list.pending.length, 1);
    const request: NodePairPending = list.pending[0]!;
    assert.equal(request.nodeId, nodeId);
    assert.deepEqual(request.commands, ["system.run", "system.which"]);
    assert.deepEqual(request.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
    assert.deepEqual(
      list.paired.map((n) => n.commands),
      [["system.which"]],
    );

    const text = await cli(["nodes", "pending", ...common]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Pending node surface requests \(1\)$/m);
    assert.match(text.stdout, new RegExp(`^  ${request.requestId}$`, "m"));
    assert.match(text.stdout, /declares +system\.run \[exec\], system\.which \[exec\]/);
    assert.match(text.stdout, /approved +system\.which; this adds system\.run/);
    assert.match(text.stdout, /needs +operator\.pairing \+ operator\.admin \(exec-capable commands\)/);
    assert.match(text.stdout, new RegExp(`approve +gatehouse nodes approve ${request.requestId}`));

    const nodesList = await cli(["nodes", "list", ...common]);
    assert.equal(nodesList.code, 0, nodesList.stderr);
    assert.match(nodesList.stdout, /lab box .* system\.which \(not approved: system\.run\)$/m);
    assert.match(
      nodesList.stdout,
      new RegExp(`waits for approval of a wider surface: gatehouse nodes approve ${request.requestId}$`, "m"),
    );

    // No implicit latest: without an id it lists the choices and exits 2.
    const noId = await cli(["nodes", "approve", ...common]);
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /there is no implicit "latest"/);
    assert.match(noId.stderr, new RegExp(request.requestId));
    const unknown = await cli(["nodes", "reject", "no-such-request", ...common]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error UNKNOWN_REQUEST: no pending node surface request no-such-request/);

    const approved = await cli(["nodes", "approve", request.requestId, ...common]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(
      approved.stdout,
      /may now expose system\.run, system\.which\n {2}added: system\.run\n {2}exec-capable: system\.run, system\.which/,
    );
    assert.deepEqual(gw.store.nodeSurfaces.get(nodeId)?.commands, ["system.run", "system.which"]);

    // Removing the node by a prefix ends its role and surface.
    const removed = await cli(["nodes", "remove", nodeId.slice(0, 12), ...common, "--json"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout), { nodeId });
    assert.equal(gw.store.nodeSurfaces.get(nodeId), null);
    assert.equal(gw.store.devices.get(nodeId), null);
  });

  it("help explains the two approvals and gives examples", async () => {
    const help = await cli(["nodes", "approve", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /exec-capable commands need\s+operator\.admin/);
    assert.match(help.stdout, /Examples:\n {2}gatehouse nodes approve /);
    const pending = await cli(["nodes", "pending", "--help"]);
    assert.match(pending.stdout, /A node is approved twice/);
    const remove = await cli(["nodes", "remove", "--help"]);
    assert.match(remove.stdout, /--node <nodeId>/);
  });
});
