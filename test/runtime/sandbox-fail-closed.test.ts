/**
 * Issue 12, fail closed: a gateway that cannot sandbox its children (here: no `bwrap` on its PATH)
 * refuses to start any — sub-agent or cron run — with an error that says how to install bubblewrap
 * or how to opt out; with the explicit opt-out (`gateway.sandbox.mode: "none"`) spawning works
 * again, unsandboxed — and the hostile child of `sandbox-escape.test.ts` then does find the owner
 * key, which is why the opt-out is reported as a warning.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { GatewayClient } from "../../src/client/index.js";
import type { CronJobView } from "../../src/methods/cron.js";
import type { SessionView } from "../../src/methods/sessions.js";
import { runCli, type GatewayProcess } from "../helpers/gateway-process.js";
import { assertSandboxed, CHILD, refusal, resultOf, type ChildNamespaces } from "./helpers.js";
import {
  ended,
  escapeArgs,
  ownerClient,
  startLayoutGateway,
  worstCaseLayout,
  type EscapeReport,
  type Layout,
} from "./sandbox-helpers.js";

const INSTALL_HINT = /apt-get install bubblewrap/;
const OPT_OUT_HINT = /gateway\.sandbox\.mode "none"/;

/** A directory with `node` in it and nothing else: a PATH without bwrap. */
function pathWithoutBwrap(base: string): string {
  const bin = join(base, "bin-without-bwrap");
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "node"));
  return bin;
}

/** Rewrites the layout's config file with another `gateway.sandbox`. */
function setSandbox(layout: Layout, sandbox: Record<string, unknown>): void {
  const config = JSON.parse(readFileSync(layout.configTarget, "utf8")) as {
    gateway: Record<string, unknown>;
  };
  config.gateway.sandbox = sandbox;
  writeFileSync(layout.configTarget, JSON.stringify(config));
}

describe("issue 12 — no sandbox, no children (unless the owner opts out)", () => {
  let layout: Layout;
  let path: string;
  let gw: GatewayProcess | undefined;
  let client: GatewayClient | undefined;
  before(async () => {
    layout = await worstCaseLayout();
    path = pathWithoutBwrap(layout.base);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
    rmSync(layout.base, { recursive: true, force: true });
  });

  it("without bwrap on the PATH, a sub-agent and a cron run are refused with the install hint", async () => {
    gw = await startLayoutGateway(layout, { PATH: path });
    client = await ownerClient(layout, gw.url);
    const err = await refusal(
      client.request("sessions.spawn", { command: process.execPath, args: [CHILD, "callback"] }),
    );
    assert.equal(err.detailCode, "SANDBOX_UNAVAILABLE");
    assert.match(err.message, INSTALL_HINT);
    assert.match(err.message, OPT_OUT_HINT);
    assert.equal((err.details as { reason?: string }).reason, "bwrap-missing");
    const { sessions } = await client.request<{ sessions: SessionView[] }>("sessions.list", {});
    assert.deepEqual(sessions, [], "nothing was started or recorded");

    const job = await client.request<CronJobView>("cron.add", {
      schedule: "0 0 1 1 *",
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.read"],
    });
    const cronErr = await refusal(client.request("cron.run", { id: job.id }));
    assert.equal(cronErr.detailCode, "SANDBOX_UNAVAILABLE");
    assert.match(cronErr.message, INSTALL_HINT);

    // What the owner sees on the command line, and in the gateway's log.
    const cli = await runCli(
      ["sessions", "spawn", "--state-dir", layout.stateDir, "--", process.execPath, CHILD, "callback"],
      { HOME: layout.home },
    );
    assert.equal(cli.code, 1, cli.stdout + cli.stderr);
    assert.match(cli.stderr, INSTALL_HINT);
    assert.match(cli.stderr, OPT_OUT_HINT);
    assert.ok(
      gw.log.some(
        (l) => l.includes("children cannot be sandboxed") && l.includes("apt-get install bubblewrap"),
      ),
      "the gateway says so in its log at start",
    );
  });

  it('with gateway.sandbox.mode "none" the same gateway spawns sub-agents and cron runs again — unsandboxed, so the owner key is in reach', async () => {
    await client?.close();
    await gw?.stop();
    setSandbox(layout, { mode: "none" });
    gw = await startLayoutGateway(layout, { PATH: path });
    client = await ownerClient(layout, gw.url);
    assert.ok(
      gw.log.some((l) => l.includes("children run unsandboxed")),
      "the gateway warns at start",
    );

    const spawned = await client.request<SessionView>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.read"],
    });
    const s = await ended(client, spawned.id);
    assert.equal(s.exitCode, 0, s.stderrTail ?? "");
    const seen = resultOf<{ auth: { method: string; scopes: string[] }; namespaces: ChildNamespaces }>(s);
    assert.equal(seen.auth.method, "runtime-token");
    assert.deepEqual(seen.auth.scopes, ["operator.read"]);
    // The control for the S02/S03/S04 tests' assertSandboxed: here the child shares the host's namespaces.
    assert.throws(() => assertSandboxed(seen), /PID namespace of its own/);

    const job = await client.request<CronJobView>("cron.add", {
      schedule: "0 0 1 1 *",
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.read"],
    });
    const run = await client.request<{ sessionId: string }>("cron.run", { id: job.id });
    const cronRun = await ended(client, run.sessionId);
    assert.equal(cronRun.exitCode, 0, cronRun.stderrTail ?? "");
    assert.deepEqual(resultOf<{ auth: { scopes: string[] } }>(cronRun).auth.scopes, ["operator.read"]);

    // The control for sandbox-escape.test.ts: unsandboxed, the hostile child finds what it looks for.
    const hostile = await client.request<SessionView>("sessions.spawn", {
      command: process.execPath,
      args: escapeArgs(layout),
      scopes: ["operator.read"],
    });
    const r = resultOf<EscapeReport>(await ended(client, hostile.id));
    assert.ok(
      Object.values(r.reads).some((v) => v.startsWith("read ")),
      "unsandboxed, the secrets can be read",
    );
    assert.ok(
      r.escalations.some((e) => e.startsWith("admitted") && e.includes("operator.admin")),
      `unsandboxed, a read-only child signs in as the owner: ${JSON.stringify(r.escalations)}`,
    );
  });
});
