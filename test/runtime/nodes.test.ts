/** NodeRegistry on its own: which sessions are nodes, and how invocations end. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { ConnectionHandle } from "../../src/gateway/methods.js";
import { nodeCommandScope } from "../../src/policy/node-commands.js";
import { GatewayError } from "../../src/protocol/errors.js";
import { NODE_INVOKE_REQUEST_EVENT, NodeRegistry } from "../../src/runtime/nodes.js";

/** Every command these test nodes offer is within their approved surface. */
const APPROVED_ALL = () => ({ approved: ["system.run", "system.which"], requestId: null });

interface Sent {
  event: string;
  payload: Record<string, unknown>;
}

function session(
  o: { role?: "node" | "operator"; deviceId?: string | null; commands?: string[]; displayName?: string } = {},
) {
  const sent: Sent[] = [];
  // The gateway hands over the whole connect `client`, displayName included.
  const client = {
    id: "node-host",
    mode: "node",
    version: "test",
    platform: "linux",
    ...(o.displayName ? { displayName: o.displayName } : {}),
  };
  const handle: ConnectionHandle = {
    connId: randomUUID(),
    role: o.role ?? "node",
    deviceId: o.deviceId === undefined ? "d".repeat(64) : o.deviceId,
    scopes: [],
    client,
    commands: o.commands ?? ["system.run", "system.which"],
    sendEvent: (event, payload) => sent.push({ event, payload: payload as Record<string, unknown> }),
  };
  return { handle, sent };
}

function lastInvokeId(sent: Sent[]): string {
  const req = sent.at(-1);
  assert.equal(req?.event, NODE_INVOKE_REQUEST_EVENT);
  return String(req.payload.invokeId);
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayError, String(err));
  return err;
}

describe("NodeRegistry", () => {
  it("a node is a role-node session with a device; operators and device-less sessions are not", () => {
    let t = 1000;
    const reg = new NodeRegistry(APPROVED_ALL, () => t++);
    reg.open(session({ role: "operator", deviceId: "a".repeat(64) }).handle);
    reg.open(session({ deviceId: null }).handle);
    const node = session({ displayName: " build box ", commands: ["system.which", "system.which"] });
    reg.open(node.handle);
    assert.deepEqual(reg.list(), [
      {
        nodeId: "d".repeat(64),
        connId: node.handle.connId,
        displayName: "build box",
        platform: "linux",
        commands: ["system.which"],
        declaredCommands: ["system.which"],
        surfaceRequestId: null,
        connectedAtMs: 1000,
      },
    ]);
    reg.close(node.handle);
    assert.deepEqual(reg.list(), []);
  });

  it("invoke sends node.invoke.request to that node and resolves with its answer", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session();
    reg.open(node.handle);
    const pending = reg.invoke({
      nodeId: node.handle.deviceId!,
      command: "system.which",
      params: { bin: "sh" },
      timeoutMs: 5000,
      idempotencyKey: "k1",
    });
    const id = lastInvokeId(node.sent);
    assert.deepEqual(node.sent[0]!.payload, {
      invokeId: id,
      id,
      nodeId: node.handle.deviceId,
      command: "system.which",
      params: { bin: "sh" },
      paramsJSON: '{"bin":"sh"}',
      timeoutMs: 5000,
      idempotencyKey: "k1",
    });
    assert.equal(reg.inFlight, 1);
    assert.equal(reg.answer(node.handle, { invokeId: id, ok: true, payload: { path: "/bin/sh" } }), true);
    assert.deepEqual(await pending, { ok: true, payload: { path: "/bin/sh" }, payloadJSON: null });
    assert.equal(reg.inFlight, 0);
  });

  it("only the connection the request went to may answer it", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session();
    const other = session({ deviceId: "e".repeat(64) });
    reg.open(node.handle);
    reg.open(other.handle);
    const pending = reg.invoke({ nodeId: node.handle.deviceId!, command: "system.run", timeoutMs: 5000 });
    const id = lastInvokeId(node.sent);
    assert.throws(
      () => reg.answer(other.handle, { invokeId: id, ok: true, payload: "forged" }),
      (e: unknown) => e instanceof GatewayError && e.code === "FORBIDDEN_ACTION",
    );
    assert.equal(reg.inFlight, 1, "the forged answer settled nothing");
    reg.answer(node.handle, { invokeId: id, ok: true, payload: "real" });
    assert.equal(((await pending) as { payload: unknown }).payload, "real");
  });

  it("an unknown or late invokeId is reported as not accepted", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session();
    reg.open(node.handle);
    assert.equal(reg.answer(node.handle, { invokeId: "nope", ok: true }), false);
    const pending = reg.invoke({ nodeId: node.handle.deviceId!, command: "system.run", timeoutMs: 20 });
    const id = lastInvokeId(node.sent);
    const err = await rejection(pending);
    assert.equal(err.code, "INTERNAL_ERROR");
    assert.equal(err.wireCode, "UNAVAILABLE");
    assert.equal(err.details.reason, "node-timeout");
    assert.match(err.message, /did not answer system\.run within 20 ms/);
    assert.equal(reg.answer(node.handle, { invokeId: id, ok: true }), false);
  });

  it("a node that disconnects fails what it still owed", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session();
    reg.open(node.handle);
    const a = reg.invoke({ nodeId: node.handle.deviceId!, command: "system.run", timeoutMs: 5000 });
    const b = reg.invoke({ nodeId: node.handle.deviceId!, command: "system.which", timeoutMs: 5000 });
    reg.close(node.handle);
    for (const p of [a, b]) {
      const err = await rejection(p);
      assert.equal(err.code, "INTERNAL_ERROR");
      assert.equal(err.details.reason, "node-disconnected");
    }
    assert.equal(reg.inFlight, 0);
  });

  it("refuses commands the node did not offer, and nodes that are not connected", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session({ commands: ["system.which"] });
    reg.open(node.handle);
    const notOffered = await rejection(reg.invoke({ nodeId: node.handle.deviceId!, command: "system.run" }));
    assert.equal(notOffered.code, "FORBIDDEN_ACTION");
    assert.deepEqual(notOffered.details.commands, ["system.which"]);
    const absent = await rejection(reg.invoke({ nodeId: "f".repeat(64), command: "system.which" }));
    assert.equal(absent.code, "INTERNAL_ERROR");
    assert.equal(absent.details.reason, "node-not-connected");
    assert.equal(node.sent.length, 0, "nothing was sent");
  });

  it("C19: a declared command outside the approved surface is refused with NODE_COMMAND_NOT_APPROVED and the request to approve", async () => {
    let approved: string[] | null = ["system.which"];
    const reg = new NodeRegistry(() => ({
      approved,
      requestId: approved?.includes("system.run") ? null : "req-1",
    }));
    const node = session({ commands: ["system.run", "system.which"] });
    reg.open(node.handle);
    const nodeId = node.handle.deviceId!;
    assert.deepEqual(reg.get(nodeId)?.commands, ["system.which"], "only the approved command is exposed");
    assert.deepEqual(reg.get(nodeId)?.declaredCommands, ["system.run", "system.which"]);
    assert.equal(reg.get(nodeId)?.surfaceRequestId, "req-1");
    const refused = await rejection(reg.invoke({ nodeId, command: "system.run" }));
    assert.equal(refused.code, "NODE_COMMAND_NOT_APPROVED");
    assert.equal(refused.wireCode, "INVALID_REQUEST");
    assert.equal(refused.details.requestId, "req-1");
    assert.deepEqual(refused.details.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
    assert.match(refused.message, /gatehouse nodes approve req-1/);
    approved = null;
    assert.deepEqual(reg.get(nodeId)?.commands, [], "no surface approved: nothing exposed");
    assert.equal(
      (await rejection(reg.invoke({ nodeId, command: "system.which" }))).code,
      "NODE_COMMAND_NOT_APPROVED",
    );
    assert.equal(node.sent.length, 0, "nothing reached the node");
    approved = ["system.run", "system.which"];
    const ran = reg.invoke({ nodeId, command: "system.run", timeoutMs: 5000 });
    reg.answer(node.handle, { invokeId: lastInvokeId(node.sent), ok: true, payload: "ran" });
    assert.equal(((await ran) as { payload: unknown }).payload, "ran", "an approval takes effect at once");
  });

  it("passes a node-side failure through; parses an OpenClaw-style payloadJSON", async () => {
    const reg = new NodeRegistry(APPROVED_ALL);
    const node = session();
    reg.open(node.handle);
    const nodeId = node.handle.deviceId!;
    const failed = reg.invoke({ nodeId, command: "system.run", timeoutMs: 5000 });
    reg.answer(node.handle, {
      invokeId: lastInvokeId(node.sent),
      ok: false,
      error: { code: "SPAWN_FAILED", message: "ENOENT" },
    });
    assert.deepEqual(await failed, { ok: false, error: { code: "SPAWN_FAILED", message: "ENOENT" } });
    const json = reg.invoke({ nodeId, command: "system.which", timeoutMs: 5000 });
    reg.answer(node.handle, { invokeId: lastInvokeId(node.sent), ok: true, payloadJSON: '{"path":null}' });
    assert.deepEqual(await json, { ok: true, payload: { path: null }, payloadJSON: '{"path":null}' });
  });

  it("a node connected twice is listed once (its newest session); closing that one falls back", () => {
    let t = 0;
    const reg = new NodeRegistry(APPROVED_ALL, () => ++t);
    const first = session();
    const second = session();
    reg.open(first.handle);
    reg.open(second.handle);
    assert.deepEqual(
      reg.list().map((n) => n.connId),
      [second.handle.connId],
    );
    reg.close(second.handle);
    assert.deepEqual(
      reg.list().map((n) => n.connId),
      [first.handle.connId],
    );
  });
});

describe("nodeCommandScope", () => {
  it("exec, browser proxy and file commands need admin; the rest write", () => {
    for (const c of [
      "system.run",
      "system.run.prepare",
      "system.execApprovals.get",
      "system.execApprovals.set",
      "browser.proxy",
      "browser.proxy.upload.v1",
      "fs.listDir",
    ]) {
      assert.equal(nodeCommandScope(c), "operator.admin", c);
    }
    for (const c of ["system.which", "system.notify", "camera.list", "system.runner"]) {
      assert.equal(nodeCommandScope(c), "operator.write", c);
    }
  });
});
