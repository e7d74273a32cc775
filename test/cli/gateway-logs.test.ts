/**
 * `gatehouse gateway logs [--follow]` over the log `gateway start` keeps in the state dir: the last
 * lines, new lines as they are written (a line shows up while the command still runs), the new
 * file a start begins after rotating a large log, and a clear error when there is no log.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI_MAIN, runCli, tempStateDir } from "../helpers/gateway-process.js";

function stateWithLog(lines: string[]): { dir: string; log: string } {
  const dir = tempStateDir();
  mkdirSync(join(dir, "logs"));
  const log = join(dir, "logs", "gateway.log");
  writeFileSync(log, lines.map((l) => l + "\n").join(""));
  return { dir, log };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("gatehouse gateway logs", () => {
  it("prints the last lines (50, or --lines n)", async () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i + 1}`);
    const { dir } = stateWithLog(lines);
    const r = await runCli(["gateway", "logs", "--state-dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, lines.slice(-50).join("\n") + "\n");
    const three = await runCli(["gateway", "logs", "--state-dir", dir, "--lines", "3"]);
    assert.equal(three.stdout, "line 78\nline 79\nline 80\n");
  });

  it("--follow prints lines as they are written, and the new file after a rotation", async () => {
    const { dir, log } = stateWithLog(["old 1", "old 2"]);
    const child = spawn(process.execPath, [CLI_MAIN, "gateway", "logs", "--state-dir", dir, "--follow"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await until(() => out === "old 1\nold 2\n", "the existing lines");
      appendFileSync(log, "new 3\n");
      await until(() => out.endsWith("new 3\n"), "an appended line");
      // A start rotates a large log to gateway.log.1 and begins a new file.
      renameSync(log, `${log}.1`);
      writeFileSync(log, "restarted 1\n");
      await until(() => out.endsWith("restarted 1\n"), "the restarted log");
      assert.equal(out, "old 1\nold 2\nnew 3\nrestarted 1\n");
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, "Ctrl-C ends --follow normally");
  });

  it("without a log file: says where it looked and why there may be none, exit 1", async () => {
    const dir = tempStateDir();
    const r = await runCli(["gateway", "logs", "--state-dir", dir]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error NO_LOG_FILE: no gateway log at ${join(dir, "logs", "gateway.log")} — a gateway started with gatehouse gateway start logs there; gatehouse gateway run logs to its own terminal\n`,
    );
  });
});
