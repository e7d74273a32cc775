import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireGatewayLock, readGatewayLock, StoreError } from "../../src/store/index.js";
import { tempDir, thrown } from "./helpers.js";

const lockModule = new URL("../../src/store/lock.js", import.meta.url).href;
const lockFile = (stateDir: string) => join(stateDir, "state", "gateway.lock");

/** A real process that takes the lock and keeps it until killed. */
async function childHoldingLock(stateDir: string): Promise<ChildProcess> {
  const script =
    `import { acquireGatewayLock } from ${JSON.stringify(lockModule)};` +
    `acquireGatewayLock(${JSON.stringify(stateDir)}); console.log("held"); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("held")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`lock holder exited (${code}): ${err}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** A pid that certainly belonged to a process that is gone now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "0"]);
  assert.ok(child.pid);
  return child.pid;
}

describe("gateway lock", () => {
  test("a second gateway on the same state dir is refused and told which pid holds it", async () => {
    const stateDir = tempDir();
    const child = await childHoldingLock(stateDir);
    try {
      const err = thrown(() => acquireGatewayLock(stateDir));
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, "STORE_LOCKED");
      assert.equal(err.holderPid, child.pid);
      assert.match(
        err.message,
        new RegExp(
          `^state dir ${stateDir} is in use by gatehouse gateway pid ${child.pid} \\(started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)`,
        ),
      );
      const info = readGatewayLock(stateDir);
      assert.equal(info?.pid, child.pid);
      assert.equal(info?.alive, true);
      assert.equal(statSync(lockFile(stateDir)).mode & 0o777, 0o600);
    } finally {
      await kill(child);
    }
  });

  test("the lock of a gateway that was killed is taken over", async () => {
    const stateDir = tempDir();
    const child = await childHoldingLock(stateDir);
    await kill(child);
    assert.deepEqual(readGatewayLock(stateDir) && { ...readGatewayLock(stateDir), startedAtMs: 0 }, {
      pid: child.pid,
      startedAtMs: 0,
      alive: false,
    });

    const lock = acquireGatewayLock(stateDir);
    assert.equal(readGatewayLock(stateDir)?.pid, process.pid);
    assert.equal(readGatewayLock(stateDir)?.alive, true);
    lock.release();
    assert.equal(existsSync(lockFile(stateDir)), false);
    assert.equal(readGatewayLock(stateDir), null);
    // Nothing is left beside it either.
    assert.deepEqual(readdirSync(join(stateDir, "state")), []);
  });

  test("the same process cannot take the lock twice; after release it can", () => {
    const stateDir = tempDir();
    const lock = acquireGatewayLock(stateDir);
    const err = thrown(() => acquireGatewayLock(stateDir));
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, "STORE_LOCKED");
    assert.equal(err.holderPid, process.pid);
    lock.release();
    lock.release();
    acquireGatewayLock(stateDir).release();
  });

  test("a lock naming our own pid from an earlier run (pid reuse in a container) is stale", () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, "state"));
    writeFileSync(lockFile(stateDir), JSON.stringify({ pid: process.pid, startedAtMs: 1 }));
    assert.equal(readGatewayLock(stateDir)?.alive, false);
    const lock = acquireGatewayLock(stateDir);
    assert.notEqual(JSON.parse(readFileSync(lockFile(stateDir), "utf8")).startedAtMs, 1);
    lock.release();
  });

  test("a garbage lock file is stale; readGatewayLock reports no gateway", () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, "state"));
    writeFileSync(lockFile(stateDir), "{ half written");
    assert.equal(readGatewayLock(stateDir), null);
    acquireGatewayLock(stateDir).release();
  });

  test("release leaves a lock that is no longer ours", () => {
    const stateDir = tempDir();
    const lock = acquireGatewayLock(stateDir);
    const other = { pid: deadPid(), startedAtMs: Date.now() };
    writeFileSync(lockFile(stateDir), JSON.stringify(other));
    lock.release();
    assert.deepEqual(JSON.parse(readFileSync(lockFile(stateDir), "utf8")), other);
  });

  test("of several processes taking over one stale lock at once, exactly one wins", async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, "state"));
    writeFileSync(lockFile(stateDir), JSON.stringify({ pid: deadPid(), startedAtMs: 1 }));
    const script =
      `import { acquireGatewayLock } from ${JSON.stringify(lockModule)};` +
      `try { acquireGatewayLock(${JSON.stringify(stateDir)}); console.log("won"); setTimeout(() => {}, 1500); }` +
      `catch (e) { console.log(e.code); }`;
    const racers = Array.from({ length: 8 }, () =>
      spawn(process.execPath, ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    const outputs = await Promise.all(
      racers.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = "";
            child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
            child.on("exit", () => resolve(out.trim()));
          }),
      ),
    );
    assert.equal(outputs.filter((o) => o === "won").length, 1, outputs.join(","));
    assert.equal(outputs.filter((o) => o === "STORE_LOCKED").length, racers.length - 1, outputs.join(","));
  });
});
