/**
 * Node hosts end to end over real sockets: S10 (a node host on the gateway host uses the owner
 * identity, needs no pairing, and operators run its commands), S45 (a node host elsewhere pairs once,
 * with the exact approve command, and keeps working across restarts of either side) and C19 (no
 * command reaches a node before an admin approved it). "Elsewhere" is a client behind a same-host
 * proxy listed in trustedProxies that forwards the client's real address.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDeviceTokenStore, GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { DeviceIdentity } from "../../src/identity/keys.js";
import type { HelloOk } from "../../src/protocol/index.js";
import { NodeHost, type NodeHostOptions, type PendingInfo } from "../../src/runtime/node-host.js";
import type { SystemRunResult } from "../../src/runtime/node-host-commands.js";
import type { NodeSummary } from "../../src/protocol/nodes.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "./node-gateway.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function gateway(options: Parameters<typeof startNodeGateway>[0] = {}): Promise<NodeTestGateway> {
  const gw = await startNodeGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

/** An operator session signed with the gateway host's owner key, asking for exactly `scopes`. */
async function operator(gw: NodeTestGateway, scopes: string[]): Promise<GatewayClient> {
  const client = new GatewayClient({ url: gw.url, identity: gw.owner, scopes });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

/** A node state dir of its own (identity + device tokens), as on another machine. */
function nodeStateDir() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-node-state-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const identityPath = join(dir, "identity", "device.json");
  const tokenPath = join(dir, "identity", "device-auth.json");
  const identity: DeviceIdentity = loadOrCreateIdentity(identityPath);
  return { identity, identityPath, tokenStore: new FileDeviceTokenStore(tokenPath), tokenPath };
}

function startHost(options: NodeHostOptions): NodeHost {
  const host = new NodeHost({
    pendingRetryMs: 100,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  cleanups.push(() => host.stop());
  void host.run();
  return host;
}

/** A node host on the gateway host: the gateway's state dir, so the owner identity. */
function ownerHost(gw: NodeTestGateway, extra: Partial<NodeHostOptions> = {}): NodeHost {
  return startHost({
    url: gw.url,
    identity: gw.owner,
    tokenStore: new FileDeviceTokenStore(join(gw.stateDir, "identity", "device-auth.json")),
    ...extra,
  });
}

async function connected(host: NodeHost): Promise<HelloOk> {
  const [hello] = (await once(host, "connected", { signal: AbortSignal.timeout(5000) })) as [HelloOk];
  return hello;
}

async function listed(client: GatewayClient): Promise<NodeSummary[]> {
  return (await client.request<{ nodes: NodeSummary[] }>("node.list", {})).nodes;
}

interface InvokeAnswer<T> {
  ok: true;
  nodeId: string;
  command: string;
  payload: T;
}

function invoke<T>(client: GatewayClient, nodeId: string, command: string, params?: unknown) {
  return client.request<InvokeAnswer<T>>("node.invoke", { nodeId, command, params, timeoutMs: 10_000 });
}

async function refusal(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => assert.fail("expected the gateway to refuse"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, String(err));
  return err;
}

/** Polls `probe` every 20 ms until it returns a value (5 s at most). */
async function until<T>(probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const RUN_42 = { command: [process.execPath, "-e", "console.log(42)"] };

describe("S10 — a node host on the gateway host uses the owner identity and needs no pairing", () => {
  it("S10: connects as role node with the owner key; operators list it and run system.which / system.run", async () => {
    const gw = await gateway();
    // Same state dir as the gateway: the node host finds the owner identity there.
    const identity = loadOrCreateIdentity(join(gw.stateDir, "identity", "device.json"));
    assert.equal(identity.deviceId, gw.owner.deviceId);
    const host = ownerHost(gw, { identity, displayName: "gateway host" });
    const hello = await connected(host);
    assert.equal(hello.auth.role, "node");
    assert.equal(hello.auth.method, "owner-key");
    assert.equal(hello.auth.deviceToken, undefined, "the owner key needs no device token");
    assert.deepEqual(gw.store.pending.list(Date.now()), [], "no pairing request was made");

    const admin = await operator(gw, ["operator.admin"]);
    const nodes = await listed(admin);
    assert.equal(nodes.length, 1);
    assert.deepEqual(
      { ...nodes[0], connId: undefined, connectedAtMs: undefined },
      {
        nodeId: gw.owner.deviceId,
        connId: undefined,
        displayName: "gateway host",
        platform: process.platform,
        commands: ["system.run", "system.which"],
        declaredCommands: ["system.run", "system.which"],
        surfaceRequestId: null,
        connectedAtMs: undefined,
      },
    );
    // C19: the owner key holds operator.admin, so its surface is pinned without a request.
    assert.deepEqual(gw.store.nodeSurfaces.get(gw.owner.deviceId)?.commands, ["system.run", "system.which"]);
    assert.deepEqual(gw.store.nodeSurfaces.requests(), []);

    const which = await invoke<{ path: string | null }>(admin, gw.owner.deviceId, "system.which", {
      bin: "node",
    });
    assert.equal(which.ok, true);
    assert.equal(which.command, "system.which");
    assert.ok(which.payload.path && isAbsolute(which.payload.path), JSON.stringify(which.payload));
    assert.match(basename(which.payload.path), /^node(\.exe)?$/);
    assert.equal(statSync(which.payload.path).isFile(), true);

    const ran = await invoke<SystemRunResult>(admin, gw.owner.deviceId, "system.run", RUN_42);
    assert.equal(ran.payload.exitCode, 0);
    assert.equal(ran.payload.stdout, "42\n");
    assert.equal(ran.payload.timedOut, false);
  });

  it("S10: system.run needs operator.admin (write gets MISSING_SCOPE); system.which needs only write", async () => {
    const gw = await gateway();
    const host = ownerHost(gw);
    await connected(host);
    const ran: string[] = [];
    host.on("invoked", (i) => ran.push(i.command));

    const writer = await operator(gw, ["operator.write"]);
    const denied = await refusal(invoke(writer, gw.owner.deviceId, "system.run", RUN_42));
    assert.equal(denied.wireCode, "FORBIDDEN");
    assert.equal(denied.detailCode, "MISSING_SCOPE");
    assert.equal(denied.details?.missingScope, "operator.admin");
    const which = await invoke<{ path: string | null }>(writer, gw.owner.deviceId, "system.which", {
      bin: "no-such-program-gatehouse",
    });
    assert.deepEqual(which.payload, { path: null });
    assert.deepEqual(ran, ["system.which"], "the refused system.run never reached the node");

    const reader = await operator(gw, ["operator.read"]);
    assert.equal((await listed(reader)).length, 1, "node.list needs only read");
    const readDenied = await refusal(invoke(reader, gw.owner.deviceId, "system.which", { bin: "node" }));
    assert.equal(readDenied.detailCode, "MISSING_SCOPE");
    assert.equal(readDenied.details?.missingScope, "operator.write");
  });

  it("S10: commands the node did not offer, node-side failures and a vanished node are clear errors", async () => {
    const gw = await gateway();
    const host = ownerHost(gw, { commands: ["system.which"] });
    await connected(host);
    const admin = await operator(gw, ["operator.admin"]);

    const notOffered = await refusal(invoke(admin, gw.owner.deviceId, "system.run", RUN_42));
    assert.equal(notOffered.detailCode, "FORBIDDEN_ACTION");
    assert.match(notOffered.message, /does not offer system\.run/);

    const bad = await refusal(invoke(admin, gw.owner.deviceId, "system.which", { bin: "/bin/sh" }));
    // The node refused the params: the caller's mistake, not the gateway's.
    assert.equal(bad.detailCode, "INVALID_PARAMS");
    assert.equal(bad.details?.reason, "node-refused-params");
    assert.match(bad.message, /^invalid params for system\.which: bin must be a program name/);

    const invalid = await refusal(admin.request("node.invoke", { nodeId: gw.owner.deviceId }));
    assert.equal(invalid.detailCode, "INVALID_PARAMS");

    await host.stop();
    assert.deepEqual(await listed(admin), []);
    const gone = await refusal(invoke(admin, gw.owner.deviceId, "system.which", { bin: "node" }));
    assert.equal(gone.detailCode, "INVALID_PARAMS", "an absent node is not an internal error");
    assert.equal(gone.details?.reason, "node-not-connected");
  });

  it("stopping the node host kills the command it runs; the caller learns the node went away", async () => {
    const gw = await gateway();
    const host = ownerHost(gw);
    await connected(host);
    const admin = await operator(gw, ["operator.admin"]);
    const pidFile = join(gw.stateDir, "run.pid");
    const script = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(()=>{}, 60000)`;
    const call = invoke(admin, gw.owner.deviceId, "system.run", {
      command: [process.execPath, "-e", script],
    });
    const pid = await until(() => {
      const n = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
      return n > 0 ? n : undefined;
    });
    await host.stop();
    const err = await refusal(call);
    assert.equal(err.details?.reason, "node-disconnected");
    await until(() => (alive(pid) ? undefined : true));
  });

  it("an operator cannot answer invocations (node.invoke.result is for role node)", async () => {
    const gw = await gateway();
    const admin = await operator(gw, ["operator.admin"]);
    const err = await refusal(admin.request("node.invoke.result", { id: "x", ok: true }));
    assert.equal(err.detailCode, "ROLE_NOT_ALLOWED");
  });
});

describe("S45/C19 — a node host elsewhere pairs once and keeps working", () => {
  const elsewhere = { "X-Forwarded-For": "203.0.113.50" };

  it("S45: pending under one requestId; C19: invisible and uninvokable until an admin approves; then survives restarts of both sides", async () => {
    const gw = await gateway({ trustedProxies: ["127.0.0.1"] });
    const node = nodeStateDir();
    const host = startHost({
      url: gw.url,
      auth: { token: TEST_TOKEN },
      identity: node.identity,
      tokenStore: node.tokenStore,
      headers: elsewhere,
      displayName: "remote box",
    });
    const invoked: string[] = [];
    host.on("invoked", (i) => invoked.push(i.command));

    // S45: the node host keeps asking under one requestId, which the refusal names with the fix.
    const [first] = (await once(host, "pending", { signal: AbortSignal.timeout(5000) })) as [PendingInfo];
    const [second] = (await once(host, "pending", { signal: AbortSignal.timeout(5000) })) as [PendingInfo];
    const requestId = first.requestId;
    assert.ok(requestId, "the refusal carries a requestId");
    assert.equal(second.requestId, requestId, "retries refresh the same request");
    const pending = gw.store.pending.list(Date.now());
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.deviceId, node.identity.deviceId);
    assert.deepEqual(pending[0]!.roles, ["node"]);

    // C19: nothing about the node is reachable before approval.
    const admin = await operator(gw, ["operator.admin", "operator.pairing"]);
    assert.deepEqual(await listed(admin), []);
    const early = await refusal(invoke(admin, node.identity.deviceId, "system.run", RUN_42));
    assert.equal(early.details?.reason, "node-not-connected");
    assert.equal(host.connected, false);

    // C19: approving the node role takes operator.admin; pairing alone is not enough.
    const pairingOnly = await operator(gw, ["operator.pairing"]);
    const notAdmin = await refusal(pairingOnly.request("device.pair.approve", { requestId }));
    assert.equal(notAdmin.detailCode, "MISSING_SCOPE");
    assert.equal(notAdmin.details?.missingScope, "operator.admin");
    assert.equal(host.connected, false);
    assert.deepEqual(invoked, [], "no command reached the node before approval");

    const approvedAt = connected(host);
    await admin.request("device.pair.approve", { requestId });
    const hello = await approvedAt;
    assert.equal(hello.auth.role, "node");
    assert.equal(typeof hello.auth.deviceToken, "string", "approval issues a device token");
    const saved = JSON.parse(readFileSync(node.tokenPath, "utf8")) as {
      devices: Record<string, Record<string, { token: string }>>;
    };
    assert.equal(saved.devices[node.identity.deviceId]?.node?.token, hello.auth.deviceToken);

    const [listedNode] = await listed(admin);
    assert.equal(listedNode?.nodeId, node.identity.deviceId);
    assert.equal(listedNode?.displayName, "remote box");
    const ran = await invoke<SystemRunResult>(admin, node.identity.deviceId, "system.run", RUN_42);
    assert.equal(ran.payload.stdout, "42\n");

    // Gateway restart: the node host reconnects by itself and works without a new approval.
    const dropped = once(host, "disconnected", { signal: AbortSignal.timeout(5000) });
    const back = connected(host);
    await gw.restart();
    assert.equal(((await dropped)[0] as { code: number }).code, 1012);
    await back;
    const admin2 = await operator(gw, ["operator.admin"]);
    const again = await invoke<SystemRunResult>(admin2, node.identity.deviceId, "system.run", RUN_42);
    assert.equal(again.payload.exitCode, 0);

    // Node host restart with no shared secret at all: its stored device token is the whole proof.
    await host.stop();
    const restarted = startHost({
      url: gw.url,
      identity: loadOrCreateIdentity(node.identityPath),
      tokenStore: new FileDeviceTokenStore(node.tokenPath),
      headers: elsewhere,
    });
    const rehello = await connected(restarted);
    assert.equal(rehello.auth.method, "device-token");
    const which = await invoke<{ path: string | null }>(admin2, node.identity.deviceId, "system.which", {
      bin: "node",
    });
    assert.ok(which.payload.path);
    assert.deepEqual(gw.store.pending.list(Date.now()), [], "no new approval was asked for");
  });

  it("C19: a node elsewhere without a shared secret or device token is refused outright, nothing pends", async () => {
    const gw = await gateway({ trustedProxies: ["127.0.0.1"] });
    const node = nodeStateDir();
    const host = startHost({
      url: gw.url,
      identity: node.identity,
      tokenStore: node.tokenStore,
      headers: elsewhere,
    });
    const [retry] = (await once(host, "retrying", { signal: AbortSignal.timeout(5000) })) as [
      { error: GatewayClientError },
    ];
    assert.equal(retry.error.detailCode, "AUTH_TOKEN_MISSING");
    assert.deepEqual(gw.store.pending.list(Date.now()), []);
    assert.equal(existsSync(node.tokenPath), false);
  });
});
