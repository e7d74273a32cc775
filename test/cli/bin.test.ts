/**
 * The `gatehouse` bin a user installs (package.json "bin", cli/main.js) runs the bundled CLI
 * (scripts/bundle.mjs, dist/src/bundle/cli.js), and works from it: --version, `health` against a
 * gateway it started, an unknown flag, and the Control UI (paths the bundle's modules resolve from
 * `import.meta.url`: package.json, the UI's files).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI_PATH } from "../../src/cli/entry-path.js";
import { GATEHOUSE_VERSION } from "../../src/version.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, runCli, spawnGateway, type GatewayProcess } from "../helpers/gateway-process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUNDLE_DIR = join(ROOT, "dist", "src", "bundle");
const MODULE_LOG = fileURLToPath(new URL("../helpers/module-log.js", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
};

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

describe("the gatehouse bin", () => {
  it("is cli/main.js, which the tests and the daemon run, and it imports the CLI bundle", () => {
    const main = join(ROOT, "dist", "src", "cli", "main.js");
    assert.equal(join(ROOT, pkg.bin.gatehouse!), main);
    assert.equal(CLI_MAIN, main);
    assert.equal(CLI_PATH, main, "gateway start and install spawn the bin");
    assert.match(readFileSync(main, "utf8"), /bundle\/cli\.js/);
    assert.ok(readFileSync(join(BUNDLE_DIR, "cli.js"), "utf8").length > 0);
  });

  it("prints the package's version", async () => {
    const r = await runCli(["--version"], sandbox.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
    assert.equal(GATEHOUSE_VERSION, pkg.version);
  });

  it("refuses an unknown flag with one line and exit 2, no stack trace", async () => {
    const r = await runCli(["health", "--no-such-flag"], sandbox.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error UNKNOWN_OPTION: .*'--no-such-flag'/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, "");
  });

  describe("against a gateway it started", () => {
    let dir: string;
    let gw: GatewayProcess;
    before(async () => {
      dir = sandbox.stateDir();
      gw = await spawnGateway(["--state-dir", dir, "--port", "0"], sandbox.env);
    });
    after(() => gw?.stop());

    it("answers `gatehouse health` with the gateway's version", async () => {
      const r = await runCli(["health", "--state-dir", dir, "--json"], sandbox.env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, new RegExp(`"${pkg.version.replace(/\./g, "\\.")}"`));
    });

    it("runs `health` from the bundle alone: no tsc module of ours loads beside it", async () => {
      // main.js falls back to tsc's cli.js without a word when the bundle is missing, and a tsc
      // module loaded beside the bundle is a second copy of its classes and the per-module cost
      // the bundle saves: only the module log sees either.
      const logDir = mkdtempSync(join(tmpdir(), "bin-modules-"));
      try {
        const log = join(logDir, "modules.log");
        const r = await runCli(["health", "--state-dir", dir], {
          ...sandbox.env,
          NODE_OPTIONS: `--import=${MODULE_LOG}`,
          GATEHOUSE_TEST_MODULE_LOG: log,
        });
        assert.equal(r.code, 0, r.stderr);
        const ours = readFileSync(log, "utf8")
          .split("\n")
          .filter((u) => u.startsWith("file:") && !u.includes("/dist/test/") && !u.includes("/node_modules/"))
          .map((u) => fileURLToPath(u));
        assert.ok(ours.includes(join(BUNDLE_DIR, "cli.js")), `the bundle ran: ${ours.join(", ")}`);
        assert.deepEqual(
          ours.filter((p) => p !== CLI_MAIN && !p.startsWith(BUNDLE_DIR + "/")),
          [],
          "only main.js and files of dist/src/bundle load",
        );
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    });

    it("runs `health` without commander's files, child_process or readline", async () => {
      // commander is inside the bundle, and its child_process (with dgram and net's socket list)
      // loads only when used; the certificate prompt's readline only when it asks. Each cost
      // every command's start (bench/README.md, "The CLI's own start").
      const logDir = mkdtempSync(join(tmpdir(), "bin-builtins-"));
      try {
        const modules = join(logDir, "modules.log");
        const builtins = join(logDir, "builtins.log");
        const r = await runCli(["health", "--state-dir", dir], {
          ...sandbox.env,
          NODE_OPTIONS: `--import=${MODULE_LOG}`,
          GATEHOUSE_TEST_MODULE_LOG: modules,
          GATEHOUSE_TEST_BUILTIN_LOG: builtins,
        });
        assert.equal(r.code, 0, r.stderr);
        const files = readFileSync(modules, "utf8").split("\n");
        assert.deepEqual(
          files.filter((u) => u.includes("/node_modules/")),
          [],
          "no package file loads: commander is in the bundle",
        );
        const loaded = readFileSync(builtins, "utf8").split("\n");
        assert.ok(loaded.includes("net"), `the log lists what loaded: ${loaded.join(" ")}`);
        for (const name of ["child_process", "dgram", "readline", "readline/promises"]) {
          assert.ok(!loaded.includes(name), `${name} loaded for health`);
        }
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    });

    it("serves the Control UI from the package's files", async () => {
      const res = await fetch(gw.url.replace(/^ws/, "http") + "/");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    });
  });
});
