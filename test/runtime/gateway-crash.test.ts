/**
 * A gateway killed outright (SIGKILL) takes its sandboxed children with it (model finding: they ran
 * on as orphans after the restart had marked their sessions lost and revoked their tokens — work
 * acting after the authority it rested on had ended).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { connect, GatewayUnderTest, processesWith } from "../model/wire.js";

const CHILD = fileURLToPath(new URL("./fixtures/child.js", import.meta.url));

let gw: GatewayUnderTest | null = null;
after(async () => {
  await gw?.dispose();
});

describe("a gateway's death ends its children", () => {
  it("model finding: after kill -9 of the gateway its sandboxed child is gone, not an orphan running on", async () => {
    gw = await GatewayUnderTest.start();
    const { res, conn } = await connect(gw.url, { identity: gw.owner, scopes: ["operator.admin"] });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    const tokenFile = join(gw.workDir, "token");
    const go = join(gw.workDir, "go-never");
    const spawned = await conn.request("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "token-wait", tokenFile, go],
      scopes: ["operator.read"],
      cwd: gw.workDir,
    });
    assert.equal(spawned?.ok, true, JSON.stringify(spawned?.error));
    const deadline = Date.now() + 30_000;
    while (!existsSync(tokenFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(tokenFile), "the child started");
    assert.ok(processesWith(go).length > 0, "the child is running");

    await gw.crash();
    const gone = Date.now() + 15_000;
    while (processesWith(go).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    const left = processesWith(go);
    for (const pid of left) process.kill(pid, "SIGKILL");
    assert.deepEqual(left, [], "the child of a gateway killed with SIGKILL runs on");
  });
});
