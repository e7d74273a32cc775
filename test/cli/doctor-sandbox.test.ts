/**
 * Issue 12: `gatehouse doctor` proves the sandbox works with a probe child that must not see the
 * state dir (nor the host's processes); the opt-out and a missing or leaky bubblewrap are findings.
 * `gatehouse status` shows the same, from the running gateway or, stopped, from the config.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sandboxCheck } from "../../src/doctor/sandbox.js";
import type { DoctorFacts, Finding } from "../../src/doctor/types.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli, spawnGateway } from "../helpers/gateway-process.js";

const cli = createCliSandbox();
const bins = mkdtempSync(join(tmpdir(), "gatehouse-doctor-bins-"));
// The probe runs as the sandbox user (the gateway runs as root here): it must reach the fake bwrap.
chmodSync(bins, 0o755);
after(() => {
  cli.cleanup();
  rmSync(bins, { recursive: true, force: true });
});

const TOKEN = "doctor-sandbox-token-0123456789abcdefghijkl";

interface DoctorJson {
  ok: boolean;
  findings: Array<Finding & { fixable: boolean }>;
  checks: Array<{ id: string; status: string; note?: string }>;
}

/** A PATH holding only `node` (and, when given, a `bwrap` script). */
function pathWith(name: string, bwrap?: string): string {
  const dir = join(bins, name);
  mkdirSync(dir, { mode: 0o755 });
  symlinkSync(process.execPath, join(dir, "node"));
  if (bwrap !== undefined) {
    writeFileSync(join(dir, "bwrap"), bwrap);
    chmodSync(join(dir, "bwrap"), 0o755);
  }
  return dir;
}

async function doctor(
  stateDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; report: DoctorJson }> {
  const r = await runCli(["doctor", "--json", "--state-dir", stateDir], { ...cli.env, ...env });
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorJson };
}

const sandboxStatus = (r: DoctorJson) => r.checks.find((c) => c.id === "sandbox")?.status;
const sandboxFindings = (r: DoctorJson) => r.findings.filter((f) => f.id.startsWith("sandbox"));

describe("doctor — the sandbox check", () => {
  it("with bubblewrap, the probe child sees neither the state dir nor the host's processes: pass", async () => {
    const dir = cli.stateDir({ gateway: { auth: { token: TOKEN } } });
    const { report } = await doctor(dir);
    assert.equal(sandboxStatus(report), "pass", JSON.stringify(report.findings));
    assert.deepEqual(sandboxFindings(report), []);
  });

  it('gateway.sandbox.mode "none" is a warning that says how to turn the sandbox back on', async () => {
    const dir = cli.stateDir({ gateway: { auth: { token: TOKEN }, sandbox: { mode: "none" } } });
    chmodSync(join(dir, "gatehouse.json"), 0o600);
    const { code, report } = await doctor(dir);
    const [f] = sandboxFindings(report);
    assert.equal(f?.id, "sandbox-off");
    assert.equal(f?.severity, "warn");
    assert.match(f?.message ?? "", /can read the owner key/);
    assert.match(f?.fix ?? "", /apt-get install bubblewrap/);
    assert.equal(code, 0, "a warning alone does not fail doctor");
  });

  it("without bwrap on the PATH it is an error with the install hint and the opt-out", async () => {
    const dir = cli.stateDir({ gateway: { auth: { token: TOKEN } } });
    const { code, report } = await doctor(dir, { PATH: pathWith("no-bwrap") });
    const [f] = sandboxFindings(report);
    assert.equal(f?.id, "sandbox-unavailable");
    assert.equal(f?.severity, "error");
    assert.match(f?.message ?? "", /bubblewrap \(bwrap\) is not installed/);
    assert.match(f?.fix ?? "", /apt-get install bubblewrap/);
    assert.match(f?.fix ?? "", /gateway\.sandbox\.mode "none"/);
    assert.equal(code, 1);
  });

  it("a `bwrap` that does not isolate (runs the command on the host) is caught by the probe: sandbox-leak", async () => {
    // Skips every option up to `--` and runs the command as it is: no namespaces, no hidden paths.
    const fake = pathWith(
      "fake-bwrap",
      '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n',
    );
    const dir = cli.stateDir({ gateway: { auth: { token: TOKEN } } });
    chmodSync(dir, 0o755); // readable by anyone: only the sandbox could hide it now
    const { code, report } = await doctor(dir, { PATH: fake });
    const [f] = sandboxFindings(report);
    assert.equal(f?.id, "sandbox-leak", JSON.stringify(report.findings));
    assert.equal(f?.severity, "error");
    assert.ok(f?.message.includes(dir), `names the visible state dir: ${f?.message}`);
    assert.match(f?.message ?? "", /host's processes/);
    assert.equal(code, 1);
  });

  it("the check itself: a leak and an unavailable sandbox are errors, a ready one has no finding", () => {
    const facts = (sandbox: DoctorFacts["sandbox"]) => ({ sandbox }) as DoctorFacts;
    const leak = sandboxCheck.run(
      facts({
        state: "unavailable",
        reason: "probe-leak",
        message: "no sandbox for children: the sandbox does not hide what it must: /x. Fix: report this",
        fix: "report this",
        configPath: "/c",
      }),
    );
    assert.ok(Array.isArray(leak));
    assert.equal(leak[0]?.id, "sandbox-leak");
    assert.doesNotMatch(leak[0]?.message ?? "", /Fix:/, "the fix is its own field");
    assert.deepEqual(
      sandboxCheck.run(facts({ state: "ready", bwrap: "/usr/bin/bwrap", user: null, hidden: [] })),
      [],
    );
    assert.deepEqual(sandboxCheck.run(facts({ state: "skipped", reason: "r" })), { skipped: "r" });
  });
});

describe("status — the sandbox line", () => {
  it("a running gateway reports its sandbox ready; with the opt-out, a warning (also when stopped)", async () => {
    const dir = cli.stateDir({ gateway: { auth: { token: TOKEN } } });
    const gw = await spawnGateway(["--port", "0", "--state-dir", dir], cli.env);
    try {
      const r = await runCli(["status", "--json", "--state-dir", dir], cli.env);
      const report = JSON.parse(r.stdout) as {
        gateway: { sandbox: { mode: string; state: string; user: string | null } };
      };
      assert.equal(report.gateway.sandbox.mode, "bwrap");
      assert.equal(report.gateway.sandbox.state, "ready", r.stdout);
      if (process.getuid?.() === 0) assert.equal(report.gateway.sandbox.user, "gatehouse-sandbox");
      const text = await runCli(["status", "--state-dir", dir], cli.env);
      assert.match(text.stdout, /sandbox: bubblewrap, children run as/);
    } finally {
      await gw.stop();
    }

    const off = cli.stateDir({ gateway: { auth: { token: TOKEN }, sandbox: { mode: "none" } } });
    const gwOff = await spawnGateway(["--port", "0", "--state-dir", off], cli.env);
    try {
      const r = await runCli(["status", "--json", "--state-dir", off], cli.env);
      const report = JSON.parse(r.stdout) as { gateway: { sandbox: { mode: string; state: string } } };
      assert.deepEqual([report.gateway.sandbox.mode, report.gateway.sandbox.state], ["none", "off"]);
      const text = await runCli(["status", "--state-dir", off], cli.env);
      assert.match(text.stdout, /WARNING: children run unsandboxed/);
    } finally {
      await gwOff.stop();
    }
    const stopped = await runCli(["status", "--state-dir", off], cli.env);
    assert.match(stopped.stdout, /WARNING: children run unsandboxed/);
  });
});
