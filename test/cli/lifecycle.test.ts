/**
 * `gatehouse gateway start|stop|restart|status|install` as a user runs them: real processes, each
 * test with its own state dir, and nothing left running afterwards (checked in /proc).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cliJson } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, freePort, runCli, spawnGateway, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
// Also keep `install` away from the user's own ~/.config.
const env: NodeJS.ProcessEnv = { ...sandbox.env, XDG_CONFIG_HOME: "" };
const started = new Set<string>();

after(async () => {
  for (const dir of started) {
    await runCli(["gateway", "stop", "--state-dir", dir], env);
    for (const pid of gatewayPids(dir)) process.kill(pid, "SIGKILL");
  }
  sandbox.cleanup();
});

const TOKEN = "lifecycle-" + "t".repeat(40);

/** A state dir whose config fixes a free port and a known token. */
async function newGatewayDir(extra: Record<string, unknown> = {}): Promise<{ dir: string; port: number }> {
  const port = await freePort();
  const dir = sandbox.stateDir({ gateway: { port, auth: { token: TOKEN }, ...extra } });
  started.add(dir);
  return { dir, port };
}

function gh(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli([...args, "--state-dir", dir], { ...env, ...extraEnv });
}

/** Live (non-zombie) `gateway run` processes whose command line names `dir`. */
function gatewayPids(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("gateway");
      if (at < 0 || argv[at + 1] !== "run" || !argv.includes(dir)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

interface StartJson {
  started: boolean;
  alreadyRunning: boolean;
  pid: number;
  url: string;
  args: string[];
  logFile: string;
  pidFile: string;
}

interface StatusJson {
  running: boolean;
  state: string;
  pid: number | null;
  url: string | null;
  uptimeMs: number | null;
  bind: { hosts: string[]; port: number } | null;
  authMode: string | null;
  clients: { total: number; byRole: Record<string, number> } | null;
  launchedBy: string | null;
}

interface PidFileJson {
  pid: number;
  startedAtMs: number;
  url: string;
  args: string[];
}

async function start(dir: string, args: string[] = []): Promise<StartJson> {
  const r = await gh(dir, ["gateway", "start", "--json", ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return cliJson<StartJson>(r);
}

async function stopAndCheck(dir: string, pid: number): Promise<void> {
  const r = await gh(dir, ["gateway", "stop"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `gateway stopped (pid ${pid})`);
  assert.equal(alive(pid), false, "the gateway process is gone");
  assert.deepEqual(gatewayPids(dir), [], "no gateway run process for this state dir remains");
  assert.equal(existsSync(join(dir, "gateway.pid")), false, "the pid file is removed");
}

/** A process that is not a gateway, to put in a pid file. */
function bystander(): { pid: number; kill(): void } {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" });
  return { pid: child.pid!, kill: () => child.kill("SIGKILL") };
}

describe("gateway start / status / stop", () => {
  it("start waits until it answers; status shows it; stop ends it and leaves nothing behind; then status exits 3", async () => {
    const { dir, port } = await newGatewayDir();
    const s = await start(dir);
    assert.equal(s.started, true);
    assert.equal(s.url, `ws://127.0.0.1:${port}`);
    assert.ok(alive(s.pid));

    // Its own process group, with the pid file and the log in the state dir.
    const stat = readFileSync(`/proc/${s.pid}/stat`, "utf8");
    assert.equal(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]), s.pid, "own process group");
    const pidFile = JSON.parse(readFileSync(join(dir, "gateway.pid"), "utf8")) as PidFileJson;
    assert.equal(pidFile.pid, s.pid);
    assert.equal(pidFile.url, s.url);
    assert.deepEqual(pidFile.args, []);
    assert.equal(statSync(join(dir, "gateway.pid")).mode & 0o777, 0o600);
    const logFile = join(dir, "logs", "gateway.log");
    assert.equal(s.logFile, logFile);
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "logs")).mode & 0o777, 0o700);
    assert.match(readFileSync(logFile, "utf8"), /gateway listening urls=ws:\/\/127\.0\.0\.1:\d+/);

    const health = await gh(dir, ["health"]);
    assert.equal(health.code, 0, health.stderr);

    const status = await gh(dir, ["gateway", "status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const st = cliJson<StatusJson>(status);
    assert.equal(st.running, true);
    assert.equal(st.state, "running");
    assert.equal(st.pid, s.pid);
    assert.equal(st.url, s.url);
    assert.equal(st.bind?.port, port);
    assert.ok(st.bind?.hosts.includes("127.0.0.1"));
    assert.equal(st.authMode, "token");
    assert.equal(st.clients?.total, 0, "the status query itself is not counted");
    assert.deepEqual(st.clients?.byRole, { operator: 0, node: 0 });
    assert.equal(st.launchedBy, "start");
    assert.ok(typeof st.uptimeMs === "number" && st.uptimeMs >= 0);
    const text = await gh(dir, ["gateway", "status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^gateway running \\(pid ${s.pid}\\), up \\d+s$`, "m"));
    assert.match(text.stdout, new RegExp(`^ {2}url +ws://127\\.0\\.0\\.1:${port}$`, "m"));
    assert.match(text.stdout, /^ {2}auth +token$/m);
    assert.match(text.stdout, /^ {2}clients +0 \(operator 0, node 0; not counting this query\)$/m);

    await stopAndCheck(dir, s.pid);
    assert.ok(!readFileSync(logFile, "utf8").includes(TOKEN), "the token never reaches the log");
    assert.match(readFileSync(logFile, "utf8"), /gateway stopped reason="gateway stopping \(SIGTERM\)"/);

    const down = await gh(dir, ["gateway", "status"]);
    assert.equal(down.code, 3, "not running: exit 3");
    assert.equal(down.stdout.trim(), `gateway not running (state dir ${dir})`);
    const downJson = cliJson<StatusJson>(await gh(dir, ["gateway", "status", "--json"]));
    assert.equal(downJson.running, false);
    assert.equal(downJson.state, "stopped");

    const again = await gh(dir, ["gateway", "stop"]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.trim(), "gateway not running");
  });

  it("start twice, or twice at once: one gateway", async () => {
    const { dir } = await newGatewayDir();
    const first = await start(dir);
    const second = await gh(dir, ["gateway", "start"]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`^gateway already running \\(pid ${first.pid}\\) on ws://`));
    const secondJson = await start(dir);
    assert.equal(secondJson.started, false);
    assert.equal(secondJson.alreadyRunning, true);
    assert.equal(secondJson.pid, first.pid);
    assert.deepEqual(gatewayPids(dir), [first.pid]);
    await stopAndCheck(dir, first.pid);

    const [a, b] = await Promise.all([start(dir), start(dir)]);
    assert.equal(a.pid, b.pid, "both name the one gateway");
    assert.equal([a, b].filter((r) => r.started).length, 1, "exactly one started it");
    assert.deepEqual(gatewayPids(dir), [a.pid]);
    const st = cliJson<StatusJson>(await gh(dir, ["gateway", "status", "--json"]));
    assert.equal(st.pid, a.pid);
    await stopAndCheck(dir, a.pid);
  });

  it("a stale pid file (dead pid, or a live process that is not our gateway) is ignored, and that process is never signalled", async () => {
    const { dir } = await newGatewayDir();
    const pidPath = join(dir, "gateway.pid");
    const writePid = (pid: number) =>
      writeFileSync(pidPath, JSON.stringify({ pid, startedAtMs: Date.now(), url: null, args: [] }));

    // A dead pid.
    const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    const deadPid = gone.pid!;
    await new Promise((resolve) => gone.once("exit", resolve));
    writePid(deadPid);
    const st = await gh(dir, ["gateway", "status"]);
    assert.equal(st.code, 3);
    const r1 = await gh(dir, ["gateway", "start"]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, new RegExp(`ignoring stale pid file .*: pid ${deadPid} is not running`));
    const pid1 = (JSON.parse(readFileSync(pidPath, "utf8")) as PidFileJson).pid;
    assert.notEqual(pid1, deadPid);
    await stopAndCheck(dir, pid1);

    // The test runner itself, and another live program: neither is touched by status, stop or start.
    for (const other of [{ pid: process.pid, kill() {} }, bystander()]) {
      try {
        writePid(other.pid);
        assert.equal((await gh(dir, ["gateway", "status"])).code, 3, "not our gateway: not running");
        const stop = await gh(dir, ["gateway", "stop"]);
        assert.equal(stop.code, 0, stop.stderr);
        assert.equal(stop.stdout.trim(), "gateway not running");
        assert.match(stop.stderr, /is not a gatehouse gateway; it was left alone/);
        assert.ok(alive(other.pid), "stop did not signal it");

        writePid(other.pid);
        const r = await gh(dir, ["gateway", "start"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /is not a gatehouse gateway for this state dir/);
        const m = /^gateway started \(pid (\d+)\) on ws:/.exec(r.stdout);
        assert.ok(m, r.stdout);
        const pid = Number(m[1]);
        assert.notEqual(pid, other.pid);
        await stopAndCheck(dir, pid);
        assert.ok(alive(other.pid), "the unrelated process is untouched");
      } finally {
        other.kill();
      }
    }
  });

  it("a start that fails prints the end of the log and exits 1, leaving no pid file and no process", async () => {
    const { dir, port } = await newGatewayDir();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const r = await gh(dir, ["gateway", "start"]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error GATEWAY_START_FAILED: the gateway exited with status 1 before accepting connections/,
      );
      assert.match(
        r.stderr,
        /last lines of .*gateway\.log:\n( {2}.*\n)* {2}error PORT_IN_USE: port \d+ is already in use/,
      );
      assert.equal(existsSync(join(dir, "gateway.pid")), false);
      assert.deepEqual(gatewayPids(dir), []);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("stop kills a gateway that does not exit after SIGTERM within --timeout, says so, and a start right after works", async () => {
    const { dir } = await newGatewayDir();
    const s = await start(dir);
    process.kill(s.pid, "SIGSTOP"); // a stopped process cannot act on SIGTERM; SIGKILL still works
    const stop = await gh(dir, ["gateway", "stop", "--timeout", "300"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(
      stop.stdout.trim(),
      `gateway stopped (pid ${s.pid}) forcefully: it did not exit within 300 ms of SIGTERM, so it was killed`,
    );
    assert.equal(alive(s.pid), false);
    assert.equal(existsSync(join(dir, "gateway.pid")), false, "the pid file is removed");
    assert.deepEqual(gatewayPids(dir), []);
    const next = await start(dir);
    assert.equal(next.started, true, "the killed gateway's lock does not block the next start");
    await stopAndCheck(dir, next.pid);
  });

  it("stop also stops a gateway started in the foreground (found through the store lock)", async () => {
    const { dir } = await newGatewayDir();
    const gw = await spawnGateway(["--state-dir", dir], env);
    const pid = gw.child.pid!;
    // Wait until it holds the lock and handles SIGTERM ("gateway ready").
    const deadline = Date.now() + 5000;
    while (!gw.log.some((l) => l.includes('"gateway ready"')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const st = cliJson<StatusJson>(await gh(dir, ["gateway", "status", "--json"]));
    assert.equal(st.running, true);
    assert.equal(st.pid, pid);
    assert.equal(st.launchedBy, "other");
    const stop = await gh(dir, ["gateway", "stop", "--json"]);
    assert.equal(stop.code, 0, stop.stderr);
    const result = cliJson<{ wasRunning: boolean; stopped: boolean; forced: boolean; pid: number }>(stop);
    assert.deepEqual(
      { wasRunning: result.wasRunning, stopped: result.stopped, forced: result.forced, pid: result.pid },
      { wasRunning: true, stopped: true, forced: false, pid },
    );
    assert.equal(await gw.stop(), 0, "it exited cleanly on SIGTERM");
  });
});

describe("gateway restart", () => {
  it("keeps the port and the flags it was started with; new flags replace them", async () => {
    const port = await freePort();
    const dir = sandbox.stateDir({ gateway: { auth: { token: TOKEN } } });
    started.add(dir);
    const first = await start(dir, ["--port", String(port), "--log-format", "json"]);
    assert.equal(first.url, `ws://127.0.0.1:${port}`);
    assert.deepEqual(first.args, ["--port", String(port), "--log-format", "json"]);

    const r = await gh(dir, ["gateway", "restart", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const { stopped, started: next } = cliJson<{
      stopped: { wasRunning: boolean; pid: number };
      started: StartJson;
    }>(r);
    assert.equal(stopped.wasRunning, true);
    assert.equal(stopped.pid, first.pid);
    assert.equal(alive(first.pid), false);
    assert.notEqual(next.pid, first.pid);
    assert.equal(next.url, `ws://127.0.0.1:${port}`, "same port");
    const pidFile = JSON.parse(readFileSync(join(dir, "gateway.pid"), "utf8")) as PidFileJson;
    assert.deepEqual(pidFile.args, ["--port", String(port), "--log-format", "json"], "same flags");
    assert.deepEqual(gatewayPids(dir), [next.pid]);
    const health = await runCli(["health", "--url", next.url, "--token", TOKEN, "--state-dir", dir], env);
    assert.equal(health.code, 0, health.stderr);
    const lastLine = readFileSync(join(dir, "logs", "gateway.log"), "utf8")
      .trim()
      .split("\n")
      .pop()!;
    assert.doesNotThrow(() => JSON.parse(lastLine), "still logging JSON");

    const port2 = await freePort();
    const text = await gh(dir, ["gateway", "restart", "--port", String(port2)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `^gateway stopped \\(pid ${next.pid}\\)\\ngateway started \\(pid \\d+\\) on ws://127\\.0\\.0\\.1:${port2}$`,
        "m",
      ),
    );
    const third = JSON.parse(readFileSync(join(dir, "gateway.pid"), "utf8")) as PidFileJson;
    assert.deepEqual(third.args, ["--port", String(port2)]);
    await stopAndCheck(dir, third.pid);
  });

  it("a --token given to start stays out of the pid file and the command line; restart asks for it again", async () => {
    const { dir } = await newGatewayDir();
    const secret = "flag-secret-" + "s".repeat(30);
    const s = await start(dir, ["--token", secret]);
    assert.ok(!readFileSync(join(dir, "gateway.pid"), "utf8").includes(secret), "not in the pid file");
    assert.ok(!readFileSync(`/proc/${s.pid}/cmdline`, "utf8").includes(secret), "not on its command line");
    assert.ok(!readFileSync(join(dir, "logs", "gateway.log"), "utf8").includes(secret), "not in the log");
    const ok = await runCli(
      ["health", "--url", s.url, "--token", secret, "--state-dir", sandbox.stateDir()],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);

    const refused = await gh(dir, ["gateway", "restart"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^error SECRET_NOT_RECORDED: .*--token.*nothing was stopped/);
    assert.ok(alive(s.pid), "the gateway still runs");

    const r = await gh(dir, ["gateway", "restart", "--json"], { GATEHOUSE_GATEWAY_TOKEN: secret });
    assert.equal(r.code, 0, r.stderr);
    const next = cliJson<{ started: StartJson }>(r).started;
    const again = await runCli(
      ["health", "--url", next.url, "--token", secret, "--state-dir", sandbox.stateDir()],
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    await stopAndCheck(dir, next.pid);
  });
});

describe("gateway install", () => {
  it("writes a systemd user unit with the node path, the CLI and the state dir, and no secret", async () => {
    const { dir } = await newGatewayDir();
    const printed = await gh(dir, ["gateway", "install", "--print"]);
    assert.equal(printed.code, 0, printed.stderr);
    const unit = printed.stdout;
    assert.ok(
      unit.includes(`\nExecStart=${process.execPath} ${CLI_MAIN} gateway run --state-dir ${dir}\n`),
      unit,
    );
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^WantedBy=default\.target$/m);
    assert.ok(!unit.includes(TOKEN), "no token value in the unit");
    assert.ok(!/^Environment/m.test(unit), "no Environment= line");

    const home = env.HOME!;
    const unitPath = join(home, ".config", "systemd", "user", "gatehouse.service");
    const written = await gh(dir, ["gateway", "install", "--user"], { GATEHOUSE_GATEWAY_TOKEN: TOKEN });
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, new RegExp(`^wrote ${unitPath.replace(/[.]/g, "\\.")}$`, "m"));
    assert.ok(
      written.stdout.includes("systemctl --user daemon-reload && systemctl --user enable --now gatehouse"),
    );
    assert.ok(!written.stdout.includes(TOKEN));
    const onDisk = readFileSync(unitPath, "utf8");
    assert.equal(onDisk, unit);
    assert.ok(!onDisk.includes(TOKEN));
    assert.equal(statSync(unitPath).mode & 0o777, 0o644);
  });
});
