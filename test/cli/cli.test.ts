/** The `gatehouse` command as a user runs it: real processes, real state dirs. */
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway } from "../helpers/gateway-process.js";

// The user's environment must not leak into these runs, nor they into the user's ~/.gatehouse.
const sandbox = createCliSandbox();
const cleanEnv = sandbox.env;
const stateDir = (config?: unknown) => sandbox.stateDir(config);
after(() => sandbox.cleanup());

describe("gatehouse gateway run + health on the same host", () => {
  it("first start generates a 0600 token file; the owner's CLI then needs no flags but the state dir", async () => {
    const port = await freePort();
    const dir = stateDir({ gateway: { port } });
    const gw = await spawnGateway(["--state-dir", dir], cleanEnv);
    try {
      const file = join(dir, "gatehouse.json");
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const saved = JSON.parse(readFileSync(file, "utf8")) as {
        gateway: { port: number; auth: { token: string } };
      };
      assert.equal(saved.gateway.port, port, "other keys are kept");
      assert.match(saved.gateway.auth.token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(gw.log.some((l) => l.includes("generated a gateway token") && l.includes(file)));
      assert.ok(!gw.log.join("\n").includes(saved.gateway.auth.token), "the token never appears in the log");

      const health = await runCli(["health", "--state-dir", dir], cleanEnv);
      assert.equal(health.code, 0, health.stderr);
      assert.match(
        health.stdout,
        new RegExp(`^gateway ok at ws://127\\.0\\.0\\.1:${port} — version \\d+\\.\\d+\\.\\d+, up \\d+s`),
      );

      const status = await runCli(["call", "status", "--state-dir", dir, "--json"], cleanEnv);
      assert.equal(status.code, 0, status.stderr);
      const payload = JSON.parse(status.stdout) as {
        gateway: { authMode: string };
        self: { client: string; scopes: string[] };
      };
      assert.equal(payload.gateway.authMode, "token");
      assert.equal(payload.self.client, "cli/cli");
      assert.deepEqual(payload.self.scopes, ["operator.read"], "call asks only for the method's scope");
      assert.ok(gw.log.some((l) => l.includes("connect admitted") && l.includes("cli/cli")));
    } finally {
      assert.equal(await gw.stop(), 0, "SIGTERM stops the gateway cleanly");
    }
  });

  it("restarting reuses the saved token: nothing about a restart changes access (S01)", async () => {
    const port = await freePort();
    const dir = stateDir({ gateway: { port } });
    const first = await spawnGateway(["--state-dir", dir], cleanEnv);
    const token = (
      JSON.parse(readFileSync(join(dir, "gatehouse.json"), "utf8")) as {
        gateway: { auth: { token: string } };
      }
    ).gateway.auth.token;
    await first.stop();
    const second = await spawnGateway(["--state-dir", dir], cleanEnv);
    try {
      assert.ok(!second.log.some((l) => l.includes("generated a gateway token")));
      const r = await runCli(["health", "--url", `ws://127.0.0.1:${port}`, "--token", token], cleanEnv);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await second.stop();
    }
  });
});

describe("a gateway started with flags", () => {
  it("the owner's CLI finds a gateway started with --port (not in gatehouse.json) with no --url", async () => {
    const dir = stateDir();
    const port = await freePort();
    const gw = await spawnGateway(["--state-dir", dir, "--port", String(port)], cleanEnv);
    try {
      const r = await runCli(["health", "--state-dir", dir], cleanEnv);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`at ws://127\\.0\\.0\\.1:${port} `));
    } finally {
      await gw.stop();
    }
  });
});

describe("errors a user sees", () => {
  it("a wrong token: one line with the code and what to do, exit 1, no secret echoed", async () => {
    const dir = stateDir();
    const gw = await spawnGateway(
      ["--port", "0", "--state-dir", dir, "--token", "the-real-token-0123456789abcdef"],
      cleanEnv,
    );
    try {
      const r = await runCli(["health", "--url", gw.url, "--token", "a-wrong-guess"], cleanEnv);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        /^error AUTH_TOKEN_MISMATCH: unauthorized: gateway token mismatch \(pass --token/,
      );
      assert.equal(lines[0]!.split("pass --token").length, 2, `the remedy once: ${lines[0]}`);
      assert.ok(!r.stderr.includes("a-wrong-guess") && !r.stderr.includes("the-real-token"));

      const j = await runCli(["health", "--url", gw.url, "--token", "a-wrong-guess", "--json"], cleanEnv);
      assert.equal(j.code, 1);
      const parsed = JSON.parse(j.stdout) as {
        error: { code: string; detailCode: string; closeCode: number };
      };
      assert.equal(parsed.error.code, "AUTH_TOKEN_MISMATCH");
      assert.equal(parsed.error.closeCode, 1008);
      assert.ok(!j.stdout.includes("a-wrong-guess"));
    } finally {
      await gw.stop();
    }
  });

  it("unknown method → exit 1 with UNKNOWN_METHOD; bad --params → exit 2", async () => {
    const dir = stateDir();
    const token = "tok-" + "z".repeat(40);
    const gw = await spawnGateway(["--port", "0", "--state-dir", dir, "--token", token], cleanEnv);
    try {
      const unknown = await runCli(["call", "no.such", "--url", gw.url, "--token", token], cleanEnv);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^error UNKNOWN_METHOD: unknown method: no\.such/);
      const bad = await runCli(
        ["call", "status", "--url", gw.url, "--token", token, "--params", "{oops"],
        cleanEnv,
      );
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--params: not valid JSON/);
    } finally {
      await gw.stop();
    }
  });

  it("the gateway not running: CONNECT_FAILED with a hint, exit 1", async () => {
    const port = await freePort();
    const r = await runCli(["health", "--url", `ws://127.0.0.1:${port}`, "--token", "x"], cleanEnv);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error CONNECT_FAILED: .*is the gateway running\?/);
  });

  it("plain ws:// to a non-loopback address is refused before any connection, exit 2", async () => {
    const r = await runCli(["health", "--url", "ws://192.0.2.10:18789", "--token", "x"], cleanEnv);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error INSECURE_URL/);
  });

  it("invalid config: exit 2, names the key, the file is left untouched", async () => {
    const dir = stateDir();
    const file = join(dir, "gatehouse.json");
    const text = JSON.stringify({ gateway: { port: "eighty", auth: { mode: "token" } } });
    writeFileSync(file, text);
    const r = await runCli(["gateway", "run", "--state-dir", dir], cleanEnv);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error CONFIG_INVALID: gateway\.port: /);
    assert.equal(readFileSync(file, "utf8"), text);
  });

  it("binding beyond loopback without auth is refused at start with a clear message", async () => {
    const dir = stateDir();
    const r = await runCli(
      ["gateway", "run", "--state-dir", dir, "--bind", "lan", "--auth", "none"],
      cleanEnv,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error CONFIG_UNSAFE_BIND: /);
  });

  it("a second gateway on the same state dir: STORE_LOCKED naming the holder, exit 1", async () => {
    const dir = stateDir();
    const gw = await spawnGateway(["--port", "0", "--state-dir", dir, "--token", "t".repeat(40)], cleanEnv);
    try {
      const r = await runCli(["gateway", "run", "--state-dir", dir, "--port", "0"], cleanEnv);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`^error STORE_LOCKED: state dir .* is in use by gatehouse gateway pid ${gw.child.pid}\\b`),
      );
    } finally {
      await gw.stop();
    }
  });

  it("a taken port: PORT_IN_USE, exit 1", async () => {
    const gw = await spawnGateway(
      ["--port", "0", "--state-dir", stateDir(), "--token", "t".repeat(40)],
      cleanEnv,
    );
    try {
      const port = new URL(gw.url).port;
      const r = await runCli(
        ["gateway", "run", "--state-dir", stateDir(), "--port", port, "--token", "t".repeat(40)],
        cleanEnv,
      );
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error PORT_IN_USE: port \d+ is already in use — another gateway may be running/,
      );
    } finally {
      await gw.stop();
    }
  });

  it("--help lists the commands and exits 0; an unknown command exits 2", async () => {
    const help = await runCli(["--help"], cleanEnv);
    assert.equal(help.code, 0);
    for (const cmd of ["gateway", "call", "health", "devices"]) {
      assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
    }
    const unknown = await runCli(["frobnicate"], cleanEnv);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});
