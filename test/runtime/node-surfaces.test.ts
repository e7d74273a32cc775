/**
 * C19 end to end over real sockets: a node's command surface is recorded with its pairing request,
 * pinned at approval, and a node that reconnects declaring more pends for the wider surface while
 * exposing only the approved one. Exec-capable surfaces need an admin to approve; a restart keeps
 * what was pinned; removing the node removes its surface. "Elsewhere" is a client behind a
 * same-host proxy listed in trustedProxies that forwards the client's real address.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  FileDeviceTokenStore,
  GatewayClient,
  GatewayClientError,
  type GatewayEvent,
} from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { PairList } from "../../src/protocol/devices.js";
import type { HelloOk } from "../../src/protocol/index.js";
import type { NodePairApproveResult, NodePairList } from "../../src/protocol/node-pairing.js";
import {
  NodeHost,
  type NodeHostOptions,
  type PendingInfo,
  type SurfaceResolvedInfo,
} from "../../src/runtime/node-host.js";
import type { SystemRunResult } from "../../src/runtime/node-host-commands.js";
import type { NodeSummary } from "../../src/protocol/nodes.js";
import { explainSurfaceRequest } from "../../src/cli/explain/surface.js";
import { openStore } from "../../src/store/db.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "./node-gateway.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const ELSEWHERE = { "X-Forwarded-For": "203.0.113.50" };
const RUN_42 = { command: [process.execPath, "-e", "console.log(42)"] };

async function gateway(): Promise<NodeTestGateway> {
  const gw = await startNodeGateway({ trustedProxies: ["127.0.0.1"] });
  cleanups.push(() => gw.stop());
  return gw;
}

/** An operator session signed with the owner key, asking for exactly `scopes`. */
async function operator(
  gw: NodeTestGateway,
  scopes: string[],
  events?: GatewayEvent[],
): Promise<GatewayClient> {
  const client = new GatewayClient({ url: gw.url, identity: gw.owner, scopes });
  if (events) client.on("event", (e: GatewayEvent) => events.push(e));
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

/** A node on another machine: its own identity and token file, behind the proxy. */
function remoteNode(gw: NodeTestGateway, commands: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-node-surface-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const identityPath = join(dir, "identity", "device.json");
  const tokenPath = join(dir, "identity", "device-auth.json");
  const identity = loadOrCreateIdentity(identityPath);
  const start = (offered: string[], extra: Partial<NodeHostOptions> = {}) => {
    const host = new NodeHost({
      url: gw.url,
      identity: loadOrCreateIdentity(identityPath),
      tokenStore: new FileDeviceTokenStore(tokenPath),
      headers: ELSEWHERE,
      commands: offered,
      displayName: "build box",
      pendingRetryMs: 100,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      ...extra,
    });
    cleanups.push(() => host.stop());
    void host.run();
    return host;
  };
  return {
    nodeId: identity.deviceId,
    identityPath,
    first: start(commands, { auth: { token: TEST_TOKEN } }),
    start,
  };
}

/** A gateway, an admin on it, and a node elsewhere offering `commands`, paired by its device request. */
async function pairedNode(commands: string[]) {
  const gw = await gateway();
  const admin = await operator(gw, ["operator.admin"]);
  const node = remoteNode(gw, commands);
  const [pend] = (await once(node.first, "pending", { signal: AbortSignal.timeout(5000) })) as [PendingInfo];
  const approvedAt = connected(node.first);
  await admin.request("device.pair.approve", { requestId: pend.requestId });
  await approvedAt;
  return { gw, admin, node };
}

async function connected(host: NodeHost): Promise<HelloOk> {
  const [hello] = (await once(host, "connected", { signal: AbortSignal.timeout(5000) })) as [HelloOk];
  return hello;
}

async function refusal(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => assert.fail("expected the gateway to refuse"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, String(err));
  return err;
}

function invoke<T>(client: GatewayClient, nodeId: string, command: string, params?: unknown) {
  return client.request<{ ok: true; payload: T }>("node.invoke", {
    nodeId,
    command,
    params,
    timeoutMs: 10_000,
  });
}

/** Polls `probe` every 20 ms until it returns a value (5 s at most). */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("C19 — a node's command surface is approved and pinned", () => {
  it("approved with [system.which], it reconnects offering system.run: refused until an admin approves the wider surface (a pairing+write operator cannot); restart keeps it; removing the node removes it", async () => {
    const gw = await gateway();
    const admin = await operator(gw, ["operator.admin"]);
    const node = remoteNode(gw, ["system.which"]);

    // The device request records the declared commands and what approving it needs.
    const [pend] = (await once(node.first, "pending", { signal: AbortSignal.timeout(5000) })) as [
      PendingInfo,
    ];
    const devices = await admin.request<PairList>("device.pair.list", {});
    const request = devices.pending.find((p) => p.requestId === pend.requestId);
    assert.deepEqual(request?.commands, ["system.which"]);
    assert.deepEqual(request?.execCommands, ["system.which"]);
    assert.deepEqual(request?.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
    const approvedAt = connected(node.first);
    await admin.request("device.pair.approve", { requestId: pend.requestId });
    await approvedAt;
    assert.deepEqual(
      gw.store.nodeSurfaces.get(node.nodeId)?.commands,
      ["system.which"],
      "pinned at approval",
    );
    const pairedFirst = await admin.request<NodePairList>("node.pair.list", {});
    assert.deepEqual(pairedFirst.pending, []);
    assert.deepEqual(
      pairedFirst.paired.map((n) => [n.nodeId, n.commands, n.approvedVia]),
      [[node.nodeId, ["system.which"], "device-approval"]],
    );

    // The node comes back offering system.run: admitted by its device token, the wider surface pends.
    const pairingEvents: GatewayEvent[] = [];
    await operator(gw, ["operator.pairing"], pairingEvents);
    const invoked: string[] = [];
    await node.first.stop();
    const wider = node.start(["system.run", "system.which"]);
    wider.on("invoked", (i) => invoked.push(i.command));
    const told: SurfaceResolvedInfo[] = [];
    wider.on("surfaceResolved", (r) => told.push(r));
    // Every drop of its session, so "no reconnect" is what happened, not how things stand at one instant.
    const drops: unknown[] = [];
    wider.on("disconnected", (c) => drops.push(c));
    assert.equal((await connected(wider)).auth.method, "device-token", "device pairing alone admits it");
    const list = await admin.request<NodePairList>("node.pair.list", {});
    assert.equal(list.pending.length, 1);
    const surface = list.pending[0]!;
    assert.equal(surface.nodeId, node.nodeId);
    assert.notEqual(surface.requestId, pend.requestId, "the surface request is not the device request");
    assert.deepEqual(surface.commands, ["system.run", "system.which"]);
    assert.deepEqual(surface.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
    assert.deepEqual(surface.approvedCommands, ["system.which"]);
    assert.deepEqual(surface.addedCommands, ["system.run"]);
    assert.equal(surface.displayName, "build box");
    const requested = await until(() => pairingEvents.find((e) => e.event === "node.pair.requested"));
    assert.equal((requested.payload as { requestId: string }).requestId, surface.requestId);

    // Meanwhile only the approved surface is exposed.
    const [listed] = (await admin.request<{ nodes: NodeSummary[] }>("node.list", {})).nodes;
    assert.deepEqual(listed?.commands, ["system.which"]);
    assert.deepEqual(listed?.declaredCommands, ["system.run", "system.which"]);
    const early = await refusal(invoke(admin, node.nodeId, "system.run", RUN_42));
    assert.equal(early.wireCode, "INVALID_REQUEST");
    assert.equal(early.detailCode, "NODE_COMMAND_NOT_APPROVED");
    assert.equal(early.details?.requestId, surface.requestId);
    assert.match(early.message, new RegExp(`gatehouse nodes approve ${surface.requestId}`));
    const which = await invoke<{ path: string | null }>(admin, node.nodeId, "system.which", { bin: "node" });
    assert.ok(which.payload.path, "the approved command still works");

    // A pairing+write operator cannot approve an exec-capable surface.
    const writer = await operator(gw, ["operator.pairing", "operator.write"]);
    const denied = await refusal(writer.request("node.pair.approve", { requestId: surface.requestId }));
    assert.equal(denied.detailCode, "MISSING_SCOPE");
    assert.equal(denied.details?.missingScope, "operator.admin");
    assert.deepEqual(denied.details?.requiredScopes, ["operator.pairing", "operator.admin"]);
    assert.equal(
      (await refusal(invoke(admin, node.nodeId, "system.run", RUN_42))).detailCode,
      "NODE_COMMAND_NOT_APPROVED",
    );
    assert.deepEqual(invoked, ["system.which"], "system.run never reached the node");

    assert.deepEqual(told, [], "nothing resolved yet");

    // An admin approves: the live session exposes it at once, and the node is told so.
    const approved = await admin.request<NodePairApproveResult>("node.pair.approve", {
      requestId: surface.requestId,
    });
    assert.equal(approved.requestId, surface.requestId);
    assert.equal(approved.node.nodeId, node.nodeId);
    assert.deepEqual(approved.node.commands, ["system.run", "system.which"]);
    const resolved = await until(() => pairingEvents.find((e) => e.event === "node.pair.resolved"));
    assert.deepEqual(
      { ...(resolved.payload as object), ts: 0 },
      {
        requestId: surface.requestId,
        nodeId: node.nodeId,
        decision: "approved",
        ts: 0,
        approvedCommands: ["system.run", "system.which"],
      },
    );
    assert.deepEqual(await until(() => told[0]), {
      requestId: surface.requestId,
      decision: "approved",
      exposed: ["system.run", "system.which"],
      notApproved: [],
    });
    const ran = await invoke<SystemRunResult>(admin, node.nodeId, "system.run", RUN_42);
    assert.equal(ran.payload.stdout, "42\n");
    const again = await refusal(admin.request("node.pair.approve", { requestId: surface.requestId }));
    assert.equal(again.wireCode, "INVALID_REQUEST");
    assert.equal(again.message, "unknown requestId");
    assert.deepEqual(drops, [], "no reconnect was needed: its session was never dropped");
    assert.ok(wider.connected);

    // A gateway restart keeps the pinned surface: the node comes back and runs it without a request.
    const back = connected(wider);
    await gw.restart();
    await back;
    const admin2 = await operator(gw, ["operator.admin"]);
    const rerun = await invoke<SystemRunResult>(admin2, node.nodeId, "system.run", RUN_42);
    assert.equal(rerun.payload.exitCode, 0);
    assert.deepEqual((await admin2.request<NodePairList>("node.pair.list", {})).pending, []);
    const onDisk = openStore(gw.store.path, { readonly: true });
    try {
      assert.deepEqual(onDisk.nodeSurfaces.get(node.nodeId)?.commands, ["system.run", "system.which"]);
    } finally {
      onDisk.close();
    }

    // Removing the node removes its surface: its session closes, nothing of it is left.
    const dropped = once(wider, "disconnected", { signal: AbortSignal.timeout(5000) });
    assert.deepEqual(await admin2.request("node.pair.remove", { nodeId: node.nodeId }), {
      nodeId: node.nodeId,
    });
    assert.equal(((await dropped)[0] as { code: number }).code, 4001);
    await wider.stop();
    assert.equal(gw.store.nodeSurfaces.get(node.nodeId), null);
    assert.equal(gw.store.devices.get(node.nodeId), null, "a node-only device is removed");
    assert.deepEqual(await admin2.request<NodePairList>("node.pair.list", {}), { pending: [], paired: [] });
    const gone = await refusal(admin2.request("node.pair.remove", { nodeId: node.nodeId }));
    assert.equal(gone.message, "unknown nodeId");
  });

  it("a surface without exec-capable commands: pairing+write approves it; reject keeps the old surface", async () => {
    const { gw, admin, node } = await pairedNode(["camera.snap"]);

    await node.first.stop();
    const wider = node.start(["camera.snap", "screen.record"]);
    const told: SurfaceResolvedInfo[] = [];
    wider.on("surfaceResolved", (r) => told.push(r));
    await connected(wider);
    const [req] = (await admin.request<NodePairList>("node.pair.list", {})).pending;
    assert.deepEqual(req?.requiredApproveScopes, ["operator.pairing", "operator.write"]);
    assert.deepEqual(req?.execCommands, []);

    // Rejecting drops the request; the approved surface stays as it was.
    const pairingOnly = await operator(gw, ["operator.pairing"]);
    assert.deepEqual(await pairingOnly.request("node.pair.reject", { requestId: req!.requestId }), {
      requestId: req!.requestId,
      nodeId: node.nodeId,
    });
    assert.deepEqual(gw.store.nodeSurfaces.get(node.nodeId)?.commands, ["camera.snap"]);
    // The node is told, in the session it has: it still exposes only the approved command.
    assert.deepEqual(await until(() => told[0]), {
      requestId: req!.requestId,
      decision: "rejected",
      exposed: ["camera.snap"],
      notApproved: ["screen.record"],
    });
    const refused = await refusal(invoke(admin, node.nodeId, "screen.record"));
    assert.equal(refused.detailCode, "NODE_COMMAND_NOT_APPROVED");
    assert.equal(refused.details?.requestId, undefined, "nothing waits any more");

    // It asks again at its next connect; pairing alone cannot approve commands, pairing+write can.
    await wider.stop();
    const third = node.start(["camera.snap", "screen.record"]);
    await connected(third);
    const [again] = (await admin.request<NodePairList>("node.pair.list", {})).pending;
    assert.ok(again);
    assert.notEqual(again.requestId, req!.requestId);
    const tooNarrow = await refusal(pairingOnly.request("node.pair.approve", { requestId: again.requestId }));
    assert.equal(tooNarrow.details?.missingScope, "operator.write");
    const writer = await operator(gw, ["operator.pairing", "operator.write"]);
    const ok = await writer.request<NodePairApproveResult>("node.pair.approve", {
      requestId: again.requestId,
    });
    assert.deepEqual(ok.node.commands, ["camera.snap", "screen.record"]);
    assert.equal(ok.node.approvedVia, "node-approval");
  });

  it("node.rename: the owner names a node in OpenClaw's shape; it is named so wherever it shows, its requests after the rename included; an unknown node or a blank name is refused", async () => {
    const { gw, admin, node } = await pairedNode(["camera.snap"]);

    assert.deepEqual(
      await admin.request("node.rename", { nodeId: node.nodeId, displayName: "  kitchen camera " }),
      { nodeId: node.nodeId, displayName: "kitchen camera" },
    );
    const { paired } = await admin.request<NodePairList>("node.pair.list", {});
    assert.deepEqual(
      paired.map((n) => [n.nodeId, n.displayName]),
      [[node.nodeId, "kitchen camera"]],
    );
    assert.equal(gw.store.devices.get(node.nodeId)?.label, "kitchen camera");

    // Renamed, it asks again (a wider surface, then a role): every place that names it uses the
    // owner's name, not the one it declares ("build box").
    const events: GatewayEvent[] = [];
    await operator(gw, ["operator.pairing"], events);
    await node.first.stop();
    const wider = node.start(["camera.snap", "screen.record"]);
    await connected(wider);
    const requested = await until(() => events.find((e) => e.event === "node.pair.requested"));
    assert.equal((requested.payload as { displayName?: string }).displayName, "kitchen camera");
    const { pending } = await admin.request<NodePairList>("node.pair.list", {});
    assert.deepEqual(
      pending.map((r) => [r.nodeId, r.displayName]),
      [[node.nodeId, "kitchen camera"]],
    );
    assert.equal(explainSurfaceRequest(gw.store, pending[0]!.requestId)?.displayName, "kitchen camera");
    const [listed] = (await admin.request<{ nodes: NodeSummary[] }>("node.list", {})).nodes;
    assert.equal(listed?.displayName, "kitchen camera");
    const asOperator = new GatewayClient({
      url: gw.url,
      identity: loadOrCreateIdentity(node.identityPath),
      auth: { token: TEST_TOKEN },
      headers: ELSEWHERE,
      role: "operator",
      scopes: ["operator.read"],
    });
    cleanups.push(() => asOperator.close());
    await refusal(asOperator.connect());
    const device = await until(() => events.find((e) => e.event === "device.pair.requested"));
    assert.equal((device.payload as { displayName?: string }).displayName, "kitchen camera");
    const devices = await admin.request<PairList>("device.pair.list", {});
    assert.deepEqual(
      devices.pending.map((p) => [p.deviceId, p.displayName]),
      [[node.nodeId, "kitchen camera"]],
    );

    const unknown = await refusal(admin.request("node.rename", { nodeId: "f".repeat(64), displayName: "x" }));
    assert.equal(unknown.message, "unknown nodeId");
    const blank = await refusal(admin.request("node.rename", { nodeId: node.nodeId, displayName: "   " }));
    assert.equal(blank.message, "displayName required");
  });
});
