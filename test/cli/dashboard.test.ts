/**
 * Issue 14 item 1, finding the Control UI: every start path prints the page's URL with its token
 * to a person at a terminal (`gateway run`, `gateway start`, `status`, `gateway status`), and
 * never to a pipe, a log or `--json`; `gatehouse dashboard [--print]` prints (or opens) it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, type CliResult } from "../helpers/gateway-process.js";
import { runInTerminal, spawnInTerminal, terminalUnavailableReason } from "../helpers/terminal.js";

const sandbox = createCliSandbox();
// No desktop: `dashboard` has no browser to open, as over SSH.
const env: NodeJS.ProcessEnv = { ...sandbox.env, DISPLAY: "", WAYLAND_DISPLAY: "", BROWSER: "" };
const running = new Set<string>();
after(async () => {
  for (const dir of running) await runCli(["gateway", "stop", "--state-dir", dir], env);
  sandbox.cleanup();
});

const TOKEN = "dash-" + "k".repeat(40);
const terminalSkip = terminalUnavailableReason();
const needsTerminal = terminalSkip ? { skip: terminalSkip } : {};

async function gatewayDir(config: Record<string, unknown> = {}): Promise<{ dir: string; port: number }> {
  const port = await freePort();
  const dir = sandbox.stateDir({ gateway: { port, auth: { token: TOKEN }, ...config } });
  return { dir, port };
}

function gh(dir: string, args: string[]): Promise<CliResult> {
  return runCli([...args, "--state-dir", dir], env);
}

async function started(dir: string): Promise<void> {
  running.add(dir);
  const r = await gh(dir, ["gateway", "start"]);
  assert.equal(r.code, 0, r.stderr);
}

describe("the Control UI URL on the start paths", () => {
  it(
    "gateway run on a terminal prints the URL with the token; piped, its log has it without",
    needsTerminal,
    async () => {
      const { dir, port } = await gatewayDir();
      running.add(dir);
      const child = spawnInTerminal(["gateway", "run", "--state-dir", dir], env);
      const exited = new Promise((r) => child.once("exit", r));
      let output = "";
      child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
      const deadline = Date.now() + 20_000;
      while (!output.includes("Control UI:") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(output, new RegExp(`Control UI: http://127\\.0\\.0\\.1:${port}/#token=${TOKEN}`));
      assert.equal((await gh(dir, ["gateway", "stop"])).code, 0);
      await exited;

      // Started in the background, its output goes to the log file: no token there.
      await started(dir);
      const log = readFileSync(join(dir, "logs", "gateway.log"), "utf8");
      assert.match(
        log,
        new RegExp(
          `control ui url=http://127\\.0\\.0\\.1:${port}/ hint="gatehouse dashboard prints it with the token"`,
        ),
      );
      assert.doesNotMatch(log, new RegExp(TOKEN));
    },
  );

  it(
    "gateway start, status and gateway status: with the token on a terminal only, never in --json",
    needsTerminal,
    async () => {
      const { dir, port } = await gatewayDir();
      running.add(dir);
      const withToken = `http://127.0.0.1:${port}/#token=${TOKEN}`;
      const start = await runInTerminal(["gateway", "start", "--state-dir", dir], env);
      assert.equal(start.code, 0, start.output);
      assert.ok(start.output.includes(`Control UI: ${withToken}`), start.output);

      const again = await gh(dir, ["gateway", "start"]);
      assert.equal(again.code, 0);
      assert.ok(
        again.stdout.includes(
          `Control UI: http://127.0.0.1:${port}/ (gatehouse dashboard prints it with the token)`,
        ),
        again.stdout,
      );
      assert.ok(!again.stdout.includes(TOKEN), again.stdout);

      const status = await runInTerminal(["status", "--state-dir", dir], env);
      assert.equal(status.code, 0, status.output);
      assert.ok(status.output.includes(`Control UI: ${withToken}`), status.output);
      const piped = await gh(dir, ["status"]);
      assert.ok(
        piped.stdout.includes(`Control UI: http://127.0.0.1:${port}/ (gatehouse dashboard`),
        piped.stdout,
      );
      assert.ok(!piped.stdout.includes(TOKEN), piped.stdout);

      const gwStatus = await runInTerminal(["gateway", "status", "--state-dir", dir], env);
      assert.equal(gwStatus.code, 0, gwStatus.output);
      assert.match(gwStatus.output, new RegExp(`control ui +${withToken.replace(/[./]/g, "\\$&")}`));

      for (const args of [["status"], ["gateway", "status"], ["gateway", "start"], ["dashboard"]]) {
        const r = await runInTerminal([...args, "--json", "--state-dir", dir], env);
        assert.equal(r.code, 0, r.output);
        assert.ok(!r.output.includes(TOKEN), `${args.join(" ")} --json printed the token:\n${r.output}`);
      }
    },
  );
});

describe("gatehouse dashboard", () => {
  it("prints the URL with the token (no browser here, or --print); --json gives it without", async () => {
    const { dir, port } = await gatewayDir();
    await started(dir);
    const printed = await gh(dir, ["dashboard", "--print"]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout.trim(), `http://127.0.0.1:${port}/#token=${TOKEN}`);
    // Without a desktop to open it in, plain `dashboard` prints it too.
    const plain = await gh(dir, ["dashboard"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), `http://127.0.0.1:${port}/#token=${TOKEN}`);
    const json = await gh(dir, ["dashboard", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      url: `http://127.0.0.1:${port}/`,
      tokenInFragment: true,
      running: true,
      opened: false,
      stateDir: dir,
    });
  });

  it("opens the page through the BROWSER command, without the token on any command line", async () => {
    const { dir, port } = await gatewayDir();
    await started(dir);
    const seen = join(dir, "opened-with.txt");
    const browser = join(dir, "fake-browser.sh");
    const { writeFileSync, chmodSync } = await import("node:fs");
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$*" > '${seen}'\n`);
    chmodSync(browser, 0o755);
    const r = await runCli(["dashboard", "--state-dir", dir], { ...env, DISPLAY: ":0", BROWSER: browser });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `opened the Control UI in your browser (http://127.0.0.1:${port}/)`);
    const deadline = Date.now() + 5000;
    let arg = "";
    while (Date.now() < deadline) {
      try {
        arg = readFileSync(seen, "utf8");
        break;
      } catch {
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    assert.equal(arg, `file://${join(dir, "dashboard.html")}`);
    const page = readFileSync(join(dir, "dashboard.html"), "utf8");
    assert.ok(page.includes(`url=http://127.0.0.1:${port}/#token=${TOKEN}`), page);
  });

  it("says where the gateway is on a machine without one, and before the first start", async () => {
    const empty = sandbox.stateDir();
    const r = await gh(empty, ["dashboard", "--print"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NO_LOCAL_GATEWAY/);
    assert.match(r.stderr, /run gatehouse dashboard on the gateway host/);

    const { dir } = await gatewayDir();
    await started(dir);
    assert.equal((await gh(dir, ["gateway", "stop"])).code, 0);
    const stopped = await gh(dir, ["dashboard", "--print"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /#token=/);
    assert.match(stopped.stderr, /the gateway is not running; start it with: gatehouse gateway start/);
  });
});
