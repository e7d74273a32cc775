/**
 * `gatehouse explain <requestId>` for a node's command-surface request (C19), as a user runs it:
 * which commands are new, which of them are exec-capable, who may approve, with the rule trace of
 * the policy functions the gateway runs and the exact approve command.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ExplainReport } from "../../src/cli/commands/explain.js";
import { generateIdentity } from "../../src/identity/keys.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { ruleSentence } from "../../src/policy/rules.js";
import { approveDevice, ensureOwner, openStore, type Store } from "../../src/store/index.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

let dir: string;
let widerNode: string;
let widerRequest: string;
let firstRequest: string;
let toReject: string;
let superseded: string;

function node(store: Store, now: number): string {
  const id = generateIdentity();
  approveDevice(store, {
    deviceId: id.deviceId,
    publicKey: id.publicKey,
    roles: ["node"],
    scopes: [],
    approvedVia: "approved",
    nowMs: now,
  });
  return id.deviceId;
}

function ask(store: Store, deviceId: string, commands: string[], now: number): string {
  return store.nodeSurfaces.upsertRequest(
    {
      deviceId,
      commands,
      displayName: "lab box",
      clientId: "node-host",
      clientMode: "node",
      platform: "linux",
      deviceFamily: null,
      version: "1.0.0",
      remoteIp: "203.0.113.50",
    },
    now,
  ).request.requestId;
}

before(() => {
  dir = sandbox.stateDir({ gateway: { auth: { token: "explain-surface-token-0123456789abcdef" } } });
  const store = openStore(join(dir, "state", "gatehouse.sqlite"));
  try {
    const now = Date.now();
    ensureOwner(store, loadOrCreateIdentity(join(dir, "identity", "device.json")), now);
    // Approved with [system.which], back declaring system.run and camera.snap as well.
    widerNode = node(store, now);
    store.nodeSurfaces.pin(widerNode, ["system.which"], "node-approval", "owner", now);
    widerRequest = ask(store, widerNode, ["camera.snap", "system.run", "system.which"], now);
    // Never approved, declaring a camera only.
    firstRequest = ask(store, node(store, now), ["camera.snap"], now);
    // One the owner rejects (below, with the CLI), one a later connect superseded.
    toReject = ask(store, node(store, now), ["screen.record"], now);
    const moving = node(store, now);
    superseded = ask(store, moving, ["camera.snap"], now);
    store.audit.append(
      {
        kind: "node-surface",
        decision: "pend",
        deviceId: moving,
        requestId: superseded,
        role: "node",
        reason: "camera.snap",
        trace: ["surface-not-approved"],
      },
      now,
    );
    ask(store, moving, ["camera.snap", "screen.record"], now);
  } finally {
    store.close();
  }
});

const explain = (args: string[]) => runCli(["explain", ...args, "--state-dir", dir], sandbox.env);

function parse(r: CliResult): ExplainReport {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ExplainReport;
}

describe("gatehouse explain on a node surface request", () => {
  it("C19: a wider surface: the new commands, system.run exec-capable, operator.admin approves; the gateway's rule trace and the approve command", async () => {
    const r = parse(await explain([widerRequest, "--json"]));
    assert.equal(r.source, "surface-request");
    assert.equal(r.decision, "pend");
    assert.equal(r.reason, "surface-widened");
    assert.equal(r.requestId, widerRequest);
    assert.equal(r.deviceId, widerNode);
    assert.deepEqual(
      r.trace.map((t) => t.rule),
      ["surface-widened", "surface-approve-exec-needs-admin"],
    );
    for (const t of r.trace) assert.equal(t.explanation, ruleSentence(t.rule));
    const s = r.surface!;
    assert.deepEqual(s.added, ["camera.snap", "system.run"]);
    assert.deepEqual(s.execCommands, ["system.run"]);
    assert.deepEqual(s.approved, ["system.which"]);
    assert.deepEqual(s.exposed, ["system.which"]);
    assert.deepEqual(s.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
    assert.equal(r.remedy.command, `gatehouse nodes approve ${widerRequest}`);

    const text = await explain([widerRequest]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^decision +pend — surface-widened$/m);
    assert.match(text.stdout, /^new +camera\.snap, system\.run \[exec\]$/m);
    assert.match(text.stdout, /^exec +system\.run \(exec-capable\)$/m);
    assert.match(text.stdout, /^exposes +system\.which until it is approved$/m);
    assert.match(
      text.stdout,
      /^approvers +a session holding operator\.pairing \+ operator\.admin \(exec-capable: system\.run, system\.which\)/m,
    );
    assert.match(text.stdout, /^ {2}2\. surface-approve-exec-needs-admin: /m);
    assert.match(text.stdout, new RegExp(`^ {2}\\$ gatehouse nodes approve ${widerRequest}$`, "m"));
    assert.match(text.stdout, /it keeps exposing only system\.which/);
  });

  it("a first surface without exec-capable commands: operator.pairing + operator.write approves; nothing exposed meanwhile", async () => {
    const r = parse(await explain([firstRequest, "--json"]));
    assert.equal(r.reason, "surface-not-approved");
    assert.deepEqual(
      r.trace.map((t) => t.rule),
      ["surface-not-approved", "surface-approve-needs-write"],
    );
    assert.deepEqual(r.surface!.execCommands, []);
    assert.deepEqual(r.surface!.added, ["camera.snap"]);
    assert.equal(r.surface!.approved, null);
    assert.deepEqual(r.surface!.requiredApproveScopes, ["operator.pairing", "operator.write"]);
    const text = await explain([firstRequest]);
    assert.match(text.stdout, /^exec +none of the new commands$/m);
    assert.match(text.stdout, /^approved +nothing yet$/m);
  });

  it("a request no longer pending: what became of it (rejected, by whom; or superseded), exit 1, never a stack trace", async () => {
    // The gateway is not running: the owner's CLI rejects on the store directly (break-glass).
    const rejected = await runCli(["nodes", "reject", toReject, "--state-dir", dir], sandbox.env);
    assert.equal(rejected.code, 0, rejected.stderr);
    const r = await explain([toReject]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^error UNKNOWN_REQUEST: node surface request ${toReject} is no longer pending: it was rejected by \\S+ at \\d{4}-`,
        "m",
      ),
    );
    assert.match(r.stderr, /declared screen\.record/);
    assert.match(r.stderr, /gatehouse nodes pending/);
    const json = await explain([toReject, "--json"]);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; resolution: string } };
    assert.deepEqual([error.code, error.resolution], ["UNKNOWN_REQUEST", "rejected"]);

    const gone = await explain([superseded]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /is no longer pending: it was superseded by a newer request from the node/);
    assert.doesNotMatch(gone.stderr, /\n\s+at /);
  });
});
