/**
 * S03: sub-agents delegate — spawn their own children, read other sessions — and keep doing so
 * after the gateway restarts on the same state dir. Children are never wider than their parent.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SessionView } from "../../src/methods/sessions.js";
import type { RuntimeCaller } from "../../src/methods/params.js";
import { sessionRow } from "../helpers/sessions.js";
import {
  assertSandboxed,
  type ChildNamespaces,
  connectClient,
  resultOf,
  spawnChild,
  startRuntimeGateway,
  waitEnded,
  type RuntimeGateway,
} from "./helpers.js";

interface SpawnChildResult {
  child: SessionView;
  wider: { ok?: boolean; code?: string; detailCode?: string; details?: { missingScopes?: string[] } };
  myScopes: string[];
  namespaces: ChildNamespaces;
}

let gw: RuntimeGateway;
let stateDir: string;
before(async () => {
  gw = await startRuntimeGateway();
  stateDir = gw.stateDir;
});
after(() => gw.dispose());

/** One S03 round on the current gateway: a sub-agent spawns a narrower child, and reads a sibling. */
async function delegationRound(label: string): Promise<{ parent: SessionView; grandchild: SessionView }> {
  const client = await connectClient(gw, ["operator.admin"]);
  try {
    const parent = await spawnChild(
      client,
      "spawn-child",
      [JSON.stringify(["operator.read"]), JSON.stringify(["node.exec"])],
      { scopes: ["operator.admin"], label },
    );
    const ended = await waitEnded(gw, parent.id);
    assert.equal(ended.status, "exited", ended.stderrTail ?? "");
    assert.equal(ended.exitCode, 0, ended.stderrTail ?? "");
    const seen = resultOf<SpawnChildResult>(ended);
    assert.deepEqual(seen.myScopes, ["operator.admin"]);
    assertSandboxed(seen);
    // The grandchild ran, called back, and held exactly what its parent gave it.
    assert.equal(seen.child.status, "exited");
    assert.equal(seen.child.exitCode, 0);
    assert.deepEqual(seen.child.scopes, ["operator.read"]);
    const grandchild = gw.runtime.sessions.get(seen.child.id)!;
    const callback = resultOf<{
      auth: { method: string; scopes: string[] };
      health: boolean;
      namespaces: ChildNamespaces;
    }>(grandchild);
    assertSandboxed(callback);
    assert.equal(callback.auth.method, "runtime-token");
    assert.deepEqual(callback.auth.scopes, ["operator.read"]);
    assert.equal(callback.health, true);
    // A child cannot give its own child a scope it does not hold.
    assert.equal(seen.wider.detailCode, "FORBIDDEN_ACTION");
    assert.deepEqual(seen.wider.details?.missingScopes, ["node.exec"]);

    // Another sub-agent reads the first one's session (cross-agent visibility, S03).
    const reader = await spawnChild(client, "get-other", [parent.id], { scopes: ["operator.read"] });
    const read = resultOf<{
      other: { id: string; status: string };
      listed: string[];
      namespaces: ChildNamespaces;
    }>(await waitEnded(gw, reader.id));
    assertSandboxed(read);
    assert.deepEqual(read.other, { id: parent.id, status: "exited" });
    assert.ok(read.listed.includes(grandchild.id));
    return { parent: ended, grandchild };
  } finally {
    await client.close();
  }
}

describe("S03 — sub-agents spawn their own children and read each other's sessions", () => {
  let first: { parent: SessionView; grandchild: SessionView };

  it("S03: a sandboxed sub-agent spawns a narrower child that calls back; a wider one is refused", async () => {
    first = await delegationRound("round-1");
    assert.equal(
      first.grandchild.createdBy.startsWith("device:"),
      false,
      "the grandchild's creator is the sub-agent",
    );
  });

  it("S03: after a gateway restart on the same state dir, records persist and delegation still works", async () => {
    await gw.stop();
    gw = await startRuntimeGateway({ stateDir });
    const parent = gw.store.sessions.get(first.parent.id)!;
    assert.equal(parent.status, "exited");
    assert.equal(parent.exitCode, 0);
    assert.match(parent.stdoutTail ?? "", /^RESULT /m, "output was persisted");
    assert.equal(gw.store.sessions.get(first.grandchild.id)!.status, "exited");
    await delegationRound("round-2");
  });

  it("S03: a session running when its gateway died is marked lost at the next start, and its token is dead", async () => {
    // A crash leaves a `running` row and a live token behind; simulate exactly that.
    const token = gw.runtime.runtimeTokens.mint("sess_crashed", ["operator.read"], 60_000);
    gw.store.sessions.insert(
      sessionRow("sess_crashed", { command: ["node"], pid: 999_999, startedAtMs: Date.now() }),
    );
    await gw.stop();
    gw = await startRuntimeGateway({ stateDir });
    assert.equal(gw.store.sessions.get("sess_crashed")!.status, "lost");
    assert.equal(gw.runtime.runtimeTokens.verify(token).kind, "invalid");
  });
});

describe("C25 — a child's children are never wider than the child", () => {
  /** A running parent session the callers below run as (a child can only start work while it runs). */
  let parent: SessionView;
  const root: RuntimeCaller = {
    scopes: ["operator.admin"],
    actor: "test",
    runtimeJobId: null,
    deviceId: null,
  };
  before(async () => {
    parent = await gw.runtime.sessions.spawn(
      { command: process.execPath, args: ["-e", "setTimeout(() => {}, 60000)"] },
      root,
    );
  });
  after(async () => {
    await gw.runtime.sessions.kill(parent.id, root);
  });
  const caller = (scopes: string[]): RuntimeCaller => ({
    scopes,
    actor: "test",
    runtimeJobId: parent.id,
    deviceId: null,
  });

  it("C25: a write-scoped caller cannot start an admin session; the refusal names the missing scope", async () => {
    await assert.rejects(
      gw.runtime.sessions.spawn(
        { command: process.execPath, scopes: ["operator.admin"] },
        caller(["operator.write"]),
      ),
      (err: unknown) => {
        const e = err as { code: string; details: { missingScopes: string[] } };
        assert.equal(e.code, "FORBIDDEN_ACTION");
        assert.deepEqual(e.details.missingScopes, ["operator.admin"]);
        return true;
      },
    );
  });

  it("C25: scopes the lattice covers are allowed (write covers read), and the parent is recorded", async () => {
    const s = await gw.runtime.sessions.spawn(
      { command: process.execPath, args: ["-e", ""], scopes: ["operator.read"] },
      caller(["operator.write"]),
    );
    assert.deepEqual(s.scopes, ["operator.read"]);
    assert.equal(s.parentSessionId, parent.id);
    await waitEnded(gw, s.id);
  });

  it("C25: without explicit scopes a child inherits exactly its caller's", async () => {
    const s = await gw.runtime.sessions.spawn(
      { command: process.execPath, args: ["-e", ""] },
      caller(["operator.write", "operator.read"]),
    );
    assert.deepEqual(s.scopes, ["operator.read", "operator.write"]);
    await waitEnded(gw, s.id);
  });
});
