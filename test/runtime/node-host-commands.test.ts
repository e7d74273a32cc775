/** The node host's own commands: system.which and system.run, without a shell, bounded. */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  NodeCommandError,
  runNodeCommand,
  type SystemRunResult,
} from "../../src/runtime/node-host-commands.js";

const dir = mkdtempSync(join(tmpdir(), "gatehouse-nodecmd-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const posix = process.platform !== "win32";

async function refused(p: Promise<unknown>): Promise<NodeCommandError> {
  const err = await p.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NodeCommandError, String(err));
  return err;
}

const run = (params: unknown, options = {}) =>
  runNodeCommand("system.run", params, options) as Promise<SystemRunResult>;

describe("system.which", () => {
  const skip = posix ? false : "file modes do not mark executables on Windows";
  it("finds an executable on PATH, skipping relative entries and non-executables", { skip }, async () => {
    const bin = join(dir, "bin");
    const other = join(dir, "other");
    mkdirSync(bin);
    mkdirSync(other);
    writeFileSync(join(other, "tool"), "not executable");
    writeFileSync(join(bin, "tool"), "#!/bin/sh\n");
    chmodSync(join(bin, "tool"), 0o755);
    const env = { PATH: ["relative/dir", "", other, bin].join(delimiter) };
    assert.deepEqual(await runNodeCommand("system.which", { bin: "tool" }, { env }), {
      path: join(bin, "tool"),
    });
    assert.deepEqual(await runNodeCommand("system.which", { bin: "no-such-tool" }, { env }), { path: null });
    // OpenClaw's shape (`openclaw nodes invoke … system.which {"bins":[...]}`): only what was found.
    assert.deepEqual(await runNodeCommand("system.which", { bins: ["tool", "no-such-tool"] }, { env }), {
      bins: { tool: join(bin, "tool") },
    });
  });

  it("takes a program name, never a path", async () => {
    for (const bin of ["../tool", "/bin/sh", "a\\b", ".."]) {
      const err = await refused(runNodeCommand("system.which", { bin }));
      assert.equal(err.code, "INVALID_PARAMS", bin);
    }
    assert.equal((await refused(runNodeCommand("system.which", {}))).code, "INVALID_PARAMS");
    assert.equal(
      (await refused(runNodeCommand("system.which", { bins: ["/bin/sh"] }))).code,
      "INVALID_PARAMS",
    );
    assert.equal((await refused(runNodeCommand("system.which", { bins: [] }))).code, "INVALID_PARAMS");
  });
});

describe("system.run", () => {
  it("runs argv without a shell and returns exit code and output", async () => {
    const r = await run({
      command: [process.execPath, "-e", "console.log(42); console.error('warn'); process.exit(3)"],
    });
    assert.deepEqual(r, {
      exitCode: 3,
      signal: null,
      stdout: "42\n",
      stderr: "warn\n",
      timedOut: false,
      stdoutTruncated: false,
      stderrTruncated: false,
    });
    // Shell syntax is an ordinary argument.
    const literal = await run({
      command: [process.execPath, "-e", "console.log(process.argv[1])", "$(id) && ;"],
    });
    assert.equal(literal.stdout, "$(id) && ;\n");
  });

  it("honours cwd and env", async () => {
    const r = await run({
      command: [process.execPath, "-e", "console.log(process.cwd(), process.env.GH_NODE_TEST)"],
      cwd: dir,
      env: { GH_NODE_TEST: "yes" },
    });
    assert.equal(r.stdout.trim(), `${dir} yes`);
  });

  it("keeps only the last maxOutputBytes of each stream and says so", async () => {
    const r = await run(
      { command: [process.execPath, "-e", "process.stdout.write('x'.repeat(100000) + 'END')"] },
      { maxOutputBytes: 1000 },
    );
    assert.equal(r.stdout.length, 1000);
    assert.ok(r.stdout.endsWith("xEND"));
    assert.equal(r.stdoutTruncated, true);
    assert.equal(r.stderrTruncated, false);
  });

  it("kills a run that outlives its timeout, with what it started", async () => {
    const started = Date.now();
    const r = await run({
      command: [
        process.execPath,
        "-e",
        "console.log('started'); require('child_process').spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)'], {stdio: 'inherit'}); setTimeout(()=>{}, 60000)",
      ],
      // Long enough for a node start on a loaded CI machine; far below the children's 60 s.
      timeoutMs: 3000,
    });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.equal(r.signal, "SIGKILL");
    assert.equal(r.stdout, "started\n");
    assert.ok(Date.now() - started < 20_000, "the grandchild holding the pipes was killed too");
  });

  it("an abort (the node host stopping) kills the run", async () => {
    const abort = new AbortController();
    const pending = run(
      {
        command: [process.execPath, "-e", "console.log('up'); setTimeout(()=>{}, 60000)"],
        timeoutMs: 30_000,
      },
      { signal: abort.signal },
    );
    setTimeout(() => abort.abort(), 200);
    const r = await pending;
    assert.equal(r.signal, "SIGKILL");
    assert.equal(r.timedOut, false);
  });

  it("ends a little before the gateway's deadline when the call names none", async () => {
    const r = await run(
      { command: [process.execPath, "-e", "setTimeout(()=>{}, 60000)"] },
      { invokeTimeoutMs: 700 },
    );
    assert.equal(r.timedOut, true);
  });

  it("a program that cannot start is SPAWN_FAILED; bad params are INVALID_PARAMS", async () => {
    const missing = await refused(run({ command: [join(dir, "does-not-exist")] }));
    assert.equal(missing.code, "SPAWN_FAILED");
    assert.match(missing.message, /ENOENT/);
    for (const params of [
      {},
      { command: [] },
      { command: [""] },
      { command: "ls -la" },
      { command: ["ls"], x: 1 },
    ]) {
      assert.equal((await refused(run(params))).code, "INVALID_PARAMS", JSON.stringify(params));
    }
  });

  it("unknown commands are UNKNOWN_COMMAND", async () => {
    assert.equal((await refused(runNodeCommand("camera.snap", {}))).code, "UNKNOWN_COMMAND");
  });
});
