/**
 * Issue 12, item 3: a session's command line and output are visible to its creator (and the
 * creator's chain: whoever created the creator, and so on) and to `operator.admin`; any other
 * reader sees that it exists, who started it, its state and exit code.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GatewayClient } from "../../src/client/index.js";
import type { CronJobView } from "../../src/methods/cron.js";
import type { SessionView } from "../../src/methods/sessions.js";
import {
  SessionListResultSchema,
  SessionReadResultSchema,
  SessionRedactedSchema,
  type SessionRedacted,
} from "../../src/protocol/sessions.js";
import { compileValidator } from "../../src/protocol/compile-validator.js";
import {
  CHILD,
  connectClient,
  resultOf,
  spawnChild,
  startRuntimeGateway,
  waitEnded,
  type RuntimeGateway,
} from "./helpers.js";

const HIDDEN = ["command", "cwd", "label", "pid", "stdoutTail", "stderrTail"];

function assertSummary(s: SessionView | SessionRedacted, id: string): void {
  const wire = compileValidator(SessionRedactedSchema, 10)(s);
  assert.ok(wire.ok, `the published schema describes it: ${wire.ok ? "" : wire.errors.join("; ")}`);
  assert.ok(compileValidator(SessionReadResultSchema, 10)(s).ok);
  assert.equal(s.id, id);
  assert.equal((s as SessionRedacted).redacted, true);
  for (const field of HIDDEN) assert.equal(field in s, false, `${field} is hidden`);
  assert.equal(s.status, "exited", "its state is visible");
  assert.equal(s.exitCode, 0, "and its exit code");
}

function assertWhole(s: SessionView | SessionRedacted, id: string): void {
  assert.equal(s.id, id);
  assert.equal("redacted" in s, false);
  assert.ok(Array.isArray((s as SessionView).command));
  assert.match((s as SessionView).stdoutTail ?? "", /RESULT /, "its output is visible");
}

let gw: RuntimeGateway;
let admin: GatewayClient;
/** The owner's device, connected with operator.read only: not an admin, but the creator. */
let ownerReading: GatewayClient;
/** A device-less shared-token client with operator.read: someone else. */
let otherReader: GatewayClient;
let parent: SessionView;
let grandchildId: string;

before(async () => {
  gw = await startRuntimeGateway();
  admin = await connectClient(gw, ["operator.admin"]);
  ownerReading = await connectClient(gw, ["operator.read"]);
  otherReader = await connectClient(gw, ["operator.read"], "token");
  // The owner starts a sub-agent, which starts a read-only grandchild that calls back.
  const spawned = await spawnChild(
    admin,
    "spawn-child",
    [JSON.stringify(["operator.read"]), JSON.stringify(["node.exec"])],
    { scopes: ["operator.admin"], label: "parent" },
  );
  parent = await waitEnded(gw, spawned.id);
  assert.equal(parent.exitCode, 0, parent.stderrTail ?? "");
  grandchildId = resultOf<{ child: SessionView }>(parent).child.id;
  await waitEnded(gw, grandchildId);
});
after(async () => {
  await Promise.all([admin.close(), ownerReading.close(), otherReader.close()]);
  await gw.dispose();
});

describe("issue 12 — what a session's output reveals, and to whom", () => {
  it("the creator sees its sub-agent whole, and through the chain its sub-agent's child too", async () => {
    assertWhole(await ownerReading.request<SessionView>("sessions.get", { id: parent.id }), parent.id);
    assertWhole(await ownerReading.request<SessionView>("sessions.get", { id: grandchildId }), grandchildId);
    const { sessions } = await ownerReading.request<{ sessions: SessionView[] }>("sessions.list", {});
    assert.deepEqual(sessions.find((s) => s.id === grandchildId)?.command, [
      process.execPath,
      CHILD,
      "callback",
    ]);
  });

  it("another operator.read caller sees that they exist, their state and exit code — no command line, no output", async () => {
    assertSummary(await otherReader.request<SessionRedacted>("sessions.get", { id: parent.id }), parent.id);
    assertSummary(
      await otherReader.request<SessionRedacted>("sessions.get", { id: grandchildId }),
      grandchildId,
    );
    const list = await otherReader.request<{ sessions: SessionRedacted[] }>("sessions.list", {});
    assert.ok(compileValidator(SessionListResultSchema, 10)(list).ok);
    const { sessions } = list;
    const listed = sessions.find((s) => s.id === parent.id)!;
    assert.equal(listed.redacted, true);
    assert.equal("command" in listed, false);
    assert.equal(listed.createdBy, `device:${gw.owner.deviceId}`, "who started it is visible");
  });

  it("operator.admin sees every session whole", async () => {
    assertWhole(await admin.request<SessionView>("sessions.get", { id: grandchildId }), grandchildId);
  });

  it("a sibling sub-agent sees its sibling's state, not its output", async () => {
    const reader = await spawnChild(admin, "get-other", [parent.id], { scopes: ["operator.read"] });
    const seen = resultOf<{ other: { id: string; status: string }; otherFields: string[] }>(
      await waitEnded(gw, reader.id),
    );
    assert.deepEqual(seen.other, { id: parent.id, status: "exited" });
    for (const field of HIDDEN) assert.equal(seen.otherFields.includes(field), false, field);
  });

  it("a cron run's output belongs to whoever created the job", async () => {
    const job = await admin.request<CronJobView>("cron.add", {
      schedule: "0 0 1 1 *",
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.read"],
    });
    const { sessionId } = await admin.request<{ sessionId: string }>("cron.run", { id: job.id });
    await waitEnded(gw, sessionId);
    assertWhole(await ownerReading.request<SessionView>("sessions.get", { id: sessionId }), sessionId);
    assertSummary(await otherReader.request<SessionRedacted>("sessions.get", { id: sessionId }), sessionId);
  });
});
