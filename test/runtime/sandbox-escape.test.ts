/**
 * Issue 12, "Done when": a read-only sub-agent (and a cron run) of a real `gatehouse gateway run`
 * looks for a stronger credential everywhere it can and finds none, then calls back with its
 * runtime token and gets exactly its scopes — in the worst-case layout of `sandbox-helpers.ts`,
 * where every secret is readable by anyone and lies inside the sub-agent's working directory.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { GatewayClient } from "../../src/client/index.js";
import type { CronJobView } from "../../src/methods/cron.js";
import type { SessionView } from "../../src/methods/sessions.js";
import type { GatewayProcess } from "../helpers/gateway-process.js";
import { resultOf } from "./helpers.js";
import {
  ended,
  escapeArgs,
  ownerClient,
  startLayoutGateway,
  worstCaseLayout,
  type EscapeReport,
  type Layout,
} from "./sandbox-helpers.js";

const RUNTIME_VARS = [
  "GATEHOUSE_GATEWAY_TLS_FINGERPRINT",
  "GATEHOUSE_GATEWAY_URL",
  "GATEHOUSE_RUNTIME_SCOPES",
  "GATEHOUSE_RUNTIME_TOKEN",
  "GATEHOUSE_SESSION_ID",
];

/** Every route came up empty, and the honest route gave exactly `operator.read`. */
function assertFoundNothing(r: EscapeReport, layout: Layout): void {
  assert.notEqual(r.uid, 0, "the child does not run as root");
  const secrets = [layout.stateDir, join(layout.home, ".gatehouse"), layout.keyPath, layout.configTarget];
  const leakedReads = Object.entries(r.reads).filter(([, v]) => v.startsWith("read "));
  assert.deepEqual(leakedReads, [], "no credential file could be read");
  const leakedDirs = Object.entries(r.listings).filter(
    ([path, v]) => secrets.some((s) => path.includes(s)) && v !== "empty" && !/^E[A-Z]+$/.test(v),
  );
  assert.deepEqual(leakedDirs, [], "no secret directory could be listed");
  // Needles: the shared secret, the gateway's program (its process) and `--state-dir` (its command line).
  assert.deepEqual(r.procHits, [], "nothing of the gateway's is in any visible command line or environment");
  assert.deepEqual(r.stateDirs, [], "no state dir was found on any command line or environment");
  const links = r.procText.filter((l) => l.includes(" -> "));
  assert.deepEqual(
    links.filter((l) => secrets.some((s) => l.includes(s))),
    [],
    "no open file, cwd or root leads into a secret",
  );
  assert.deepEqual(r.gatehouseEnv, RUNTIME_VARS, "only the runtime variables the gateway sets");
  assert.deepEqual(r.escalations, [], "no identity was found to sign in with");
  assert.deepEqual(r.callback, { method: "runtime-token", scopes: ["operator.read"] });
  assert.equal(r.adminCall, "MISSING_SCOPE", "and the runtime token is worth exactly operator.read");
}

describe("issue 12 — sandboxed children cannot reach the owner's secrets", () => {
  let layout: Layout;
  let gw: GatewayProcess;
  let client: GatewayClient;
  before(async () => {
    layout = await worstCaseLayout();
    gw = await startLayoutGateway(layout);
    client = await ownerClient(layout, gw.url);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
    rmSync(layout.base, { recursive: true, force: true });
  });

  it("a read-only sub-agent working next to every secret finds none, and calls back with exactly its scopes", async () => {
    const spawned = await client.request<SessionView>("sessions.spawn", {
      command: process.execPath,
      args: escapeArgs(layout),
      scopes: ["operator.read"],
      cwd: layout.work,
    });
    const s = await ended(client, spawned.id);
    assert.equal(s.status, "exited", s.stderrTail ?? "");
    assert.equal(s.exitCode, 0, s.stderrTail ?? "");
    const r = resultOf<EscapeReport>(s);
    // It did look: its working directory is there, with the secrets' names in it.
    assert.match(r.listings[`/proc/${r.ppid}/cwd`] ?? "", /state-dir/);
    assertFoundNothing(r, layout);
  });

  it("a cron run does the same and finds none either", async () => {
    const job = await client.request<CronJobView>("cron.add", {
      schedule: "0 0 1 1 *",
      command: process.execPath,
      args: escapeArgs(layout),
      scopes: ["operator.read"],
    });
    const run = await client.request<{ sessionId: string }>("cron.run", { id: job.id });
    const s = await ended(client, run.sessionId);
    assert.equal(s.exitCode, 0, s.stderrTail ?? "");
    assert.equal(s.cronJobId, job.id);
    assertFoundNothing(resultOf<EscapeReport>(s), layout);
  });
});
