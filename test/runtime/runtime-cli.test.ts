/**
 * `gatehouse sessions …` and `gatehouse cron …` as real processes (a program registering only these
 * commands) against an in-process gateway, connecting with the owner identity of its state dir.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CronJobView } from "../../src/methods/cron.js";
import type { SessionView } from "../../src/methods/sessions.js";
import {
  assertSandboxed,
  CHILD,
  resultOf,
  RUNTIME_CLI,
  runtimeCli,
  startRuntimeGateway,
  waitEnded,
  type ChildNamespaces,
  type RuntimeGateway,
} from "./helpers.js";

let gw: RuntimeGateway;
before(async () => {
  gw = await startRuntimeGateway();
});
after(() => gw.dispose());

const cli = (args: string[]) => runtimeCli(gw, args);

/**
 * Starts `gatehouse ARGS` and lets the test watch its stdout while it runs: what streaming means
 * is that a line shows up before the process it comes from has ended.
 */
function streaming(args: string[]) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
  const dashes = args.indexOf("--");
  const flags = ["--url", gw.url, "--state-dir", gw.stateDir];
  const full =
    dashes === -1 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
  const child = spawn(process.execPath, [RUNTIME_CLI, ...full], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    /** Resolves once stdout matches; fails if the process ends first. */
    async waitFor(re: RegExp): Promise<void> {
      let ended = false;
      void exited.then(() => (ended = true));
      while (!re.test(stdout)) {
        if (ended) assert.fail(`ended before printing ${re}: ${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A working dir the sandboxed child can see, and a shell line that prints, waits for `go`, prints again. */
function stepper(): { dir: string; script: string[]; go: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-stream-"));
  chmodSync(dir, 0o777);
  return {
    dir,
    script: [
      "/bin/sh",
      "-c",
      "echo first; echo warn >&2; while [ ! -e go ]; do sleep 0.05; done; echo second",
    ],
    go: () => writeFileSync(join(dir, "go"), ""),
  };
}

describe("gatehouse sessions", () => {
  it("S02: sessions spawn --attach runs a sandboxed sub-agent that calls back, prints its output, exits 0", async () => {
    const r = await cli([
      "sessions",
      "spawn",
      "--scope",
      "operator.read",
      "--attach",
      "--",
      process.execPath,
      CHILD,
      "callback",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^RESULT .*"method":"runtime-token"/m);
    const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "))!;
    assertSandboxed(JSON.parse(line.slice("RESULT ".length)) as { namespaces: ChildNamespaces });
    assert.match(r.stdout, /session sess_[0-9a-f]{16} exited \(exit 0\) with scopes operator\.read/);
  });

  it("sessions spawn --json, list, logs and kill", async () => {
    const spawned = await cli([
      "sessions",
      "spawn",
      "--json",
      "--label",
      "cli-hold",
      "--",
      process.execPath,
      CHILD,
      "hold",
    ]);
    assert.equal(spawned.code, 0, spawned.stderr);
    const s = JSON.parse(spawned.stdout) as SessionView;
    assert.equal(s.status, "running");
    assert.equal(s.label, "cli-hold");

    const listed = await cli(["sessions", "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${s.id}\\s+running`));
    assert.match(listed.stdout, /\[cli-hold\]/);

    const killed = await cli(["sessions", "kill", s.id]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, new RegExp(`session ${s.id} killed`));

    const logs = await cli(["sessions", "logs", s.id]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^RESULT \{"connected":true\}/m);
    const json = JSON.parse((await cli(["sessions", "logs", s.id, "--json"])).stdout) as { status: string };
    assert.equal(json.status, "killed");
  });

  it("least privilege: without --scope a session gets operator.read only and says so; --scope none grants nothing", async () => {
    const r = await cli(["sessions", "spawn", "--attach", "--", process.execPath, CHILD, "exit", "0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exited \(exit 0\) with scopes operator\.read$/m);
    assert.match(
      r.stderr,
      /^session sess_[0-9a-f]{16} was granted operator\.read only \(the default\); grant more with --scope, e\.g\. --scope operator\.write$/m,
    );

    const json = await cli([
      "sessions",
      "spawn",
      "--json",
      "--attach",
      "--",
      process.execPath,
      CHILD,
      "exit",
      "0",
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as SessionView).scopes, ["operator.read"]);
    assert.equal(json.stderr, "", "--json prints no prose");

    const none = await cli([
      "sessions",
      "spawn",
      "--scope",
      "none",
      "--attach",
      "--",
      process.execPath,
      CHILD,
      "exit",
      "0",
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /with scopes \(none\)$/m);
    assert.doesNotMatch(none.stderr, /the default/);

    const mixed = await cli([
      "sessions",
      "spawn",
      "--scope",
      "none",
      "--scope",
      "operator.read",
      "--",
      "true",
    ]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /^error INVALID_FLAG: --scope none: grants nothing/);
  });

  it("--time-limit ends a session that runs too long (status timed-out, exit 1)", async () => {
    const r = await cli([
      "sessions",
      "spawn",
      "--attach",
      "--time-limit",
      "1s",
      "--",
      process.execPath,
      CHILD,
      "hold",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^session sess_[0-9a-f]{16} timed-out /m);
  });

  it("sessions spawn --attach prints output as it comes, not when the session ends", async () => {
    const step = stepper();
    try {
      const run = streaming(["sessions", "spawn", "--attach", "--cwd", step.dir, "--", ...step.script]);
      await run.waitFor(/^first\n/);
      assert.doesNotMatch(run.stdout, /second/, "the session is still waiting");
      step.go();
      assert.equal(await run.exited, 0, run.stderr);
      assert.match(run.stdout, /^first\nsecond\nsession sess_[0-9a-f]{16} exited \(exit 0\)/);
      assert.match(run.stderr, /^warn$/m);
    } finally {
      rmSync(step.dir, { recursive: true, force: true });
    }
  });

  it("sessions logs --follow prints a running session's output as it comes and exits with its result", async () => {
    const step = stepper();
    try {
      const spawned = await cli(["sessions", "spawn", "--json", "--cwd", step.dir, "--", ...step.script]);
      assert.equal(spawned.code, 0, spawned.stderr);
      const { id } = JSON.parse(spawned.stdout) as SessionView;
      const follow = streaming(["sessions", "logs", id, "--follow"]);
      await follow.waitFor(/^first\n/);
      step.go();
      assert.equal(await follow.exited, 0, follow.stderr);
      assert.equal(follow.stdout, "first\nsecond\n");
      assert.match(follow.stderr, new RegExp(`^warn\n\\(session ${id} exited \\(exit 0\\)`));

      // For scripts: one JSON object per line, the session's end last.
      const json = await cli(["sessions", "logs", id, "--follow", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const lines = json.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines.at(-1), { id, status: "exited", exitCode: 0, signal: null });
      assert.deepEqual(
        lines
          .filter((l) => l.stream === "stdout")
          .map((l) => l.text)
          .join(""),
        "first\nsecond\n",
      );
    } finally {
      rmSync(step.dir, { recursive: true, force: true });
    }
  });

  it("a failing command exits 1; a missing command is refused before connecting", async () => {
    const failing = await cli(["sessions", "spawn", "--attach", "--", process.execPath, CHILD, "exit", "4"]);
    assert.equal(failing.code, 1);
    assert.match(failing.stdout, /exited \(exit 4\)/);
    const missing = await cli(["sessions", "spawn"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /missing required argument 'command'/);
  });

  it("refusals are one clear line naming the problem", async () => {
    const r = await cli(["sessions", "spawn", "--env", "GATEHOUSE_GATEWAY_URL=ws://elsewhere", "--", "true"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error INVALID_PARAMS: env\.GATEHOUSE_GATEWAY_URL: GATEHOUSE_\* variables are set by the gateway/,
    );
    const badFlag = await cli(["sessions", "spawn", "--timeout-ms", "soon", "--", "true"]);
    assert.equal(badFlag.code, 2);
    assert.match(
      badFlag.stderr,
      /^error INVALID_FLAG: --timeout-ms: must be a duration such as 90s, 10m or 2h/,
    );
    const badLimit = await cli(["sessions", "spawn", "--time-limit", "0s", "--", "true"]);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /^error INVALID_FLAG: --time-limit: must be a duration/);
  });
});

describe("gatehouse cron", () => {
  it("S04: cron add, list, run (the run, sandboxed, calls back), remove", async () => {
    const added = await cli([
      "cron",
      "add",
      "--json",
      "--schedule",
      "0 0 1 1 *",
      "--name",
      "cli-job",
      "--scope",
      "operator.read",
      "--missed",
      "run-once",
      "--",
      process.execPath,
      CHILD,
      "callback",
    ]);
    assert.equal(added.code, 0, added.stderr);
    const job = JSON.parse(added.stdout) as CronJobView;
    assert.deepEqual(job.scopes, ["operator.read"]);
    assert.equal(job.missedPolicy, "run-once");

    const listed = await cli(["cron", "list"]);
    assert.match(listed.stdout, new RegExp(`${job.id}\\s+0 0 1 1 \\*`));
    assert.match(listed.stdout, /\[cli-job\]/);

    const ran = await cli(["cron", "run", job.id, "--json"]);
    assert.equal(ran.code, 0, ran.stderr);
    const { sessionId } = JSON.parse(ran.stdout) as { sessionId: string };
    const ended = await waitEnded(gw, sessionId);
    assert.equal(ended.exitCode, 0, ended.stderrTail ?? "");
    assert.match(ended.stdoutTail ?? "", /"method":"runtime-token"/);
    assertSandboxed(resultOf<{ namespaces: ChildNamespaces }>(ended));

    const removed = await cli(["cron", "remove", job.id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match((await cli(["cron", "list"])).stdout, /no cron jobs/);
  });

  it("least privilege: without --scope a cron job gets operator.read only and says so", async () => {
    const added = await cli([
      "cron",
      "add",
      "--schedule",
      "0 0 1 1 *",
      "--",
      process.execPath,
      CHILD,
      "exit",
      "0",
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^cron job \S+ "0 0 1 1 \*" enabled, scopes operator\.read,/);
    assert.match(
      added.stderr,
      /^cron job \S+ was granted operator\.read only \(the default\); grant more with --scope/m,
    );
    const json = await cli([
      "cron",
      "add",
      "--json",
      "--schedule",
      "0 0 1 1 *",
      "--time-limit",
      "90s",
      "--",
      "true",
    ]);
    const job = JSON.parse(json.stdout) as CronJobView;
    assert.deepEqual(job.scopes, ["operator.read"]);
    assert.equal(job.timeoutMs, 90_000, "--time-limit takes a duration");
    for (const id of [job.id, added.stdout.split(" ")[2]!]) {
      assert.equal((await cli(["cron", "remove", id])).code, 0);
    }
  });

  it("a bad schedule is refused naming the field", async () => {
    const r = await cli(["cron", "add", "--schedule", "every day", "--", "true"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /schedule: invalid cron expression "every day"/);
  });
});
