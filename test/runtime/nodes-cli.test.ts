/**
 * `gatehouse node run` and `gatehouse nodes list|invoke` as real processes (through a program that
 * registers only the node commands) against an in-process gateway: S10 on the gateway host with the
 * owner identity; S45 with a node of its own that waits for approval, prints the approve command,
 * and survives a gateway restart and its own restart without a new approval.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { GatewayClient } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { SystemRunResult } from "../../src/runtime/node-host-commands.js";
import { CLI_MAIN } from "../helpers/gateway-process.js";
import { startNodeGateway, TEST_TOKEN, type NodeTestGateway } from "./node-gateway.js";

const CLI = CLI_MAIN;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The environment without gateway settings from outside the test. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
  return env;
}

interface Service {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line (from `from` on) matching `re`. */
  waitFor(re: RegExp, from?: number): Promise<RegExpMatchArray>;
  stop(): Promise<number | null>;
}

function service(args: string[]): Service {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv(),
  });
  const lines: string[] = [];
  let stderr = "";
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const svc: Service = {
    child,
    lines,
    waitFor: (re, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines.slice(from)) {
            const m = line.match(re);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${re} within 10 s:\n${lines.join("\n")}\n${stderr}`));
        }, 10_000);
        waiters.add(check);
        check();
      }),
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  cleanups.push(() => svc.stop());
  return svc;
}

function runOnce(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function gateway(options: Parameters<typeof startNodeGateway>[0] = {}): Promise<NodeTestGateway> {
  const gw = await startNodeGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

async function admin(gw: NodeTestGateway): Promise<GatewayClient> {
  const client = new GatewayClient({ url: gw.url, identity: gw.owner, scopes: ["operator.admin"] });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("gatehouse node run / nodes list / nodes invoke", () => {
  it("S10: node run on the gateway host connects with the owner key; nodes list and nodes invoke reach it", async () => {
    const gw = await gateway();
    const common = ["--url", gw.url, "--state-dir", gw.stateDir];
    const node = service(["node", "run", ...common, "--display-name", "cli-node"]);
    await node.waitFor(
      new RegExp(`^connected to ${escape(gw.url)} as node ${gw.owner.deviceId} \\(auth: owner-key\\)$`),
    );

    const list = await runOnce(["nodes", "list", ...common, "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const nodes = (JSON.parse(list.stdout) as { nodes: Array<Record<string, unknown>> }).nodes;
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.nodeId, gw.owner.deviceId);
    assert.equal(nodes[0]!.displayName, "cli-node");
    assert.deepEqual(nodes[0]!.commands, ["system.run", "system.which"]);

    const text = await runOnce(["nodes", "list", ...common]);
    assert.match(text.stdout, /^NODE +NAME +PLATFORM +CONNECTED +COMMANDS\n/);
    assert.match(
      text.stdout,
      new RegExp(`^${gw.owner.deviceId.slice(0, 12)} +cli-node .* system\\.run, system\\.which$`, "m"),
    );

    const prefix = gw.owner.deviceId.slice(0, 12);
    const params = JSON.stringify({ command: [process.execPath, "-e", "console.log(42)"] });
    const ran = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.run",
      "--params",
      params,
      ...common,
      "--json",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const answer = JSON.parse(ran.stdout) as { nodeId: string; payload: SystemRunResult };
    assert.equal(answer.nodeId, gw.owner.deviceId);
    assert.equal(answer.payload.stdout, "42\n");
    assert.equal(answer.payload.exitCode, 0);
    await node.waitFor(/^system\.run ok \(/);

    // Without --json: the command's own output on stdout and stderr, and its exit status.
    const script = "process.stdout.write('out\\n'); process.stderr.write('err\\n'); process.exit(3)";
    const plain = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.run",
      ...common,
      "--",
      process.execPath,
      "-e",
      script,
    ]);
    assert.equal(plain.code, 3, plain.stderr);
    assert.equal(plain.stdout, "out\n");
    assert.equal(plain.stderr, "err\n");
    const raw = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.run",
      "--json",
      ...common,
      "--",
      process.execPath,
      "-e",
      script,
    ]);
    assert.equal(raw.code, 3, "the remote status with --json too");
    assert.equal((JSON.parse(raw.stdout) as { payload: SystemRunResult }).payload.stdout, "out\n");

    const missing = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.which",
      "--params",
      '{"bin":"/x"}',
      ...common,
    ]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "error INVALID_PARAMS: invalid params for system.which: bin must be a program name, not a path\n",
    );

    // The expected shape in plain words: no validator paths or schema terms.
    const shape = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.run",
      "--params",
      '{"cmd":"uname -a"}',
      ...common,
    ]);
    assert.equal(shape.code, 1);
    assert.equal(
      shape.stderr,
      'error INVALID_PARAMS: invalid params for system.run: command must be a list of strings: the program and its arguments; unknown field "cmd" (expected e.g. {"command":["uname","-a"]}; fields: command, cwd, env, timeoutMs)\n',
    );
    const asJson = await runOnce([
      "nodes",
      "invoke",
      prefix,
      "system.run",
      "--params",
      '{"command":"uname"}',
      "--json",
      ...common,
    ]);
    assert.equal(asJson.code, 1);
    const { error } = JSON.parse(asJson.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, "INVALID_PARAMS");
    assert.doesNotMatch(error.message, /Expected|at \/|property|schema/);

    const unknownNode = await runOnce([
      "nodes",
      "invoke",
      "0123456789abcdef",
      "system.which",
      "--params",
      '{"bin":"sh"}',
      ...common,
    ]);
    assert.equal(unknownNode.code, 1);
    assert.equal(
      unknownNode.stderr,
      "error INVALID_PARAMS: no node 0123456789abcdef is connected (gatehouse nodes list shows the connected nodes)\n",
    );

    assert.equal(await node.stop(), 0);
    assert.match(node.lines.at(-1) ?? "", /^node host stopped$/);
  });

  it("S45: a node host of its own waits for approval (printing the approve command), then survives both restarts", async () => {
    // Local, but with silent local approval off: the node must be approved like one elsewhere.
    const gw = await gateway({ autoApproveLocal: false });
    const nodeDir = mkdtempSync(join(tmpdir(), "gatehouse-node-cli-"));
    cleanups.push(() => rmSync(nodeDir, { recursive: true, force: true }));
    const nodeId = loadOrCreateIdentity(join(nodeDir, "identity", "device.json")).deviceId;

    const first = service(["node", "run", "--url", gw.url, "--token", TEST_TOKEN, "--state-dir", nodeDir]);
    const [, requestId] = await first.waitFor(
      /^waiting for approval of request (\S+); on the gateway host run: gatehouse devices approve (\S+) \(retrying every 3s\)$/,
    );
    assert.ok(requestId);
    assert.ok(
      first.lines.some((l) => l.endsWith(`gatehouse devices approve ${requestId} (retrying every 3s)`)),
    );

    const owner = await admin(gw);
    await owner.request("device.pair.approve", { requestId });
    await first.waitFor(new RegExp(`^connected to ${escape(gw.url)} as node ${nodeId} \\(auth: token\\)$`));
    const waits = first.lines.filter((l) => l.startsWith("waiting for approval")).length;
    assert.equal(waits, 1, "the same request is announced once, not on every retry");

    const from = first.lines.length;
    await gw.restart();
    await first.waitFor(/^disconnected \(1012 service restart\); reconnecting$/, from);
    await first.waitFor(/^connected to /, from);
    assert.equal(await first.stop(), 0);

    // Restarted without the shared secret: the device token stored after approval is enough.
    const second = service(["node", "run", "--url", gw.url, "--state-dir", nodeDir]);
    await second.waitFor(new RegExp(`as node ${nodeId} \\(auth: device-token\\)$`));
    const owner2 = await admin(gw);
    const ran = await owner2.request<{ payload: SystemRunResult }>("node.invoke", {
      nodeId,
      command: "system.run",
      params: { command: [process.execPath, "-e", "console.log(42)"] },
    });
    assert.equal(ran.payload.stdout, "42\n");
    assert.deepEqual(gw.store.pending.list(Date.now()), []);
  });
});
