/**
 * The `gatehouse gateway run` process's V8 settings (src/cli/lifecycle/start-settings.ts): the
 * starting ones before the gateway's modules load, V8's defaults once it serves, none when the user
 * chose their own; and a real start compiles nothing with TurboFan.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  applyServingSettings,
  applyStartingSettings,
  SERVING_FLAGS,
  STARTING_FLAGS,
  userChoseFlags,
} from "../../src/cli/lifecycle/start-settings.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, freePort, spawnGateway } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());
const FLAGS_LOG = fileURLToPath(new URL("../helpers/v8-flags-log.js", import.meta.url));
const token = "start-settings-token-" + "t".repeat(32);

describe("start settings", () => {
  it("sets the starting flags, then V8's defaults once serving, once", () => {
    const set: string[] = [];
    applyStartingSettings((f) => set.push(f), [], undefined);
    assert.deepEqual(set, [STARTING_FLAGS]);
    applyServingSettings();
    applyServingSettings();
    assert.deepEqual(set, [STARTING_FLAGS, SERVING_FLAGS]);
  });

  it("leaves V8 alone when the user chose one of its flags", () => {
    for (const [argv, nodeOptions] of [
      [["--no-opt"], undefined],
      [["--semi-space-growth-factor=4"], undefined],
      [[], "--require x.cjs --no-turbofan"],
      [["--semi_space_growth_factor", "3"], ""],
    ] as const) {
      assert.equal(userChoseFlags(argv, nodeOptions), true, `${argv.join(" ")} ${nodeOptions}`);
      const set: string[] = [];
      applyStartingSettings((f) => set.push(f), argv, nodeOptions);
      applyServingSettings();
      assert.deepEqual(set, [], `${argv.join(" ")} ${nodeOptions}`);
    }
    assert.equal(userChoseFlags(["--trace-opt", "--optimize-for-size"], "--max-old-space-size=512"), false);
  });

  it("the real `gatehouse gateway run` sets them: the starting ones before the store loads", async () => {
    const port = await freePort();
    const dir = sandbox.stateDir({ gateway: { port, auth: { token } } });
    const log = join(dir, "v8-flags.log");
    const gw = await spawnGateway(["--state-dir", dir], {
      ...sandbox.env,
      NODE_OPTIONS: `--import ${FLAGS_LOG}`,
      GATEHOUSE_TEST_V8_FLAGS_LOG: log,
    });
    try {
      const calls = readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { flags: string; storeLoaded: boolean });
      assert.deepEqual(calls, [
        { flags: STARTING_FLAGS, storeLoaded: false },
        { flags: SERVING_FLAGS, storeLoaded: true },
      ]);
    } finally {
      await gw.stop();
    }
  });

  it("a real start compiles nothing with TurboFan", async () => {
    const port = await freePort();
    const dir = sandbox.stateDir({ gateway: { port, auth: { token } } });
    // --trace-opt prints one "marking ..." line per function TurboFan is asked to compile.
    const child = spawn(
      process.execPath,
      ["--trace-opt", CLI_MAIN, "gateway", "run", "--log-format", "json", "--state-dir", dir],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...sandbox.env } },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 30_000;
    while (!out.includes('"gateway ready"') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    assert.ok(out.includes('"gateway ready"'), out);
    const marked = out.split("\n").filter((line) => /for optimization to TURBOFAN/.test(line));
    assert.deepEqual(marked, []);
  });
});
