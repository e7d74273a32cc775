/**
 * `npm run bench` runs each bench file under a time limit (scripts/process-tree.mjs): a bench that
 * hangs is killed with every process it started, even those that left its process group or
 * session, and the run goes on. A bench hung for good once (Node's JWK export deadlocked while
 * seeding), and the run with it, silently.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT } from "../library/package-entries.js";

type Outcome = "ok" | "failed" | "timed out";
interface ProcessTree {
  runWithLimit(
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; limitS?: number; stdio?: "inherit" | "ignore" },
  ): Promise<Outcome>;
}

const tree = (await import(pathToFileURL(join(ROOT, "scripts", "process-tree.mjs")).href)) as ProcessTree;
const dir = mkdtempSync(join(tmpdir(), "gatehouse-tree-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `pid` is a running process (a zombie waiting for its reaper counts as ended). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const run = (script: string, limitS: number) =>
  tree.runWithLimit(process.execPath, ["-e", script], { limitS, stdio: "ignore" });

describe("a bench file under a time limit", () => {
  it("one that exits 0 is ok, one that exits otherwise or cannot start has failed", async () => {
    assert.equal(await run("process.exit(0)", 30), "ok");
    assert.equal(await run("process.exit(3)", 30), "failed");
    assert.equal(await run("process.kill(process.pid, 'SIGKILL')", 30), "failed");
    const missing = await tree.runWithLimit(join(dir, "no-such-program"), [], {
      limitS: 30,
      stdio: "ignore",
    });
    assert.equal(missing, "failed");
    // Without a limit (npm ci, the peer's install) nothing cuts a child short.
    const unlimited = ["-e", "setTimeout(() => process.exit(0), 1500)"];
    assert.equal(await tree.runWithLimit(process.execPath, unlimited, { stdio: "ignore" }), "ok");
  });

  it("one that hangs is killed at the limit with its children, also those in a session of their own", async () => {
    // The bench hangs; it has started a child in a new session (as the OpenClaw gateway is
    // started), which has started another in a session of its own (as a sandbox runs).
    const pids = join(dir, "pids");
    const hang = "setInterval(() => {}, 1000)";
    const grandchild = `require('fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); ${hang}`;
    const child =
      `require('fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');` +
      `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { detached: true, stdio: 'ignore' });` +
      hang;
    const bench =
      `require('fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');` +
      `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { detached: true, stdio: 'ignore' });` +
      hang;
    const started = Date.now();
    const outcome = await run(bench, 3);
    const took = Date.now() - started;
    assert.equal(outcome, "timed out");
    assert.ok(took >= 2_900, `killed after ${took} ms, before the limit`);
    const started3 = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    assert.equal(started3.length, 3, "the bench, its child and its grandchild had all started");
    // SIGKILL is delivered at once, but the kernel may take a moment to tear a process down.
    for (let i = 0; i < 50 && started3.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    const survivors = started3.filter(alive);
    for (const pid of survivors) process.kill(pid, "SIGKILL"); // not left behind when this fails
    assert.deepEqual(survivors, [], "every process the bench started is gone");
  });
});
