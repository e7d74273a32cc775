/**
 * `gatehouse status` and `gatehouse audit` as a user runs them: a background gateway whose loopback
 * connects still need approval, a second device (the CLI with another state dir), and the audit
 * log read straight from the store while the gateway runs and after it stopped.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { openStore, StoreError } from "../../src/store/index.js";
import { cliJson } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, freePort, runCli, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
const env = sandbox.env;
const gateways = new Set<string>();
after(async () => {
  for (const dir of gateways) await runCli(["gateway", "stop", "--state-dir", dir], env);
  sandbox.cleanup();
});

const TOKEN = "status-audit-" + "q".repeat(40);

interface Setup {
  dir: string;
  url: string;
  pid: number;
  owner(args: string[]): Promise<CliResult>;
  device(deviceDir: string, args: string[], token?: string): Promise<CliResult>;
}

/** A background gateway (`gateway start`) with silent local pairing off, so requests pend. */
async function startGateway(): Promise<Setup> {
  const port = await freePort();
  const dir = sandbox.stateDir({
    gateway: { port, auth: { token: TOKEN }, pairing: { autoApproveLocal: false } },
  });
  gateways.add(dir);
  const url = `ws://127.0.0.1:${port}`;
  const r = await runCli(["gateway", "start", "--json", "--state-dir", dir], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const pid = (JSON.parse(r.stdout) as { pid: number }).pid;
  return {
    dir,
    url,
    pid,
    owner: (args) => runCli([...args, "--state-dir", dir], env),
    device: (deviceDir, args, token = TOKEN) =>
      runCli([...args, "--state-dir", deviceDir, "--url", url, "--token", token], env),
  };
}

function requestIdOf(r: CliResult): string {
  assert.equal(r.code, 1, r.stderr);
  const m = /\(requestId (\S+)\)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return m[1]!;
}

function deviceIdOf(stateDir: string): string {
  return (JSON.parse(readFileSync(join(stateDir, "identity", "device.json"), "utf8")) as { deviceId: string })
    .deviceId;
}

/** Every device token the CLI in `stateDir` holds. */
function deviceTokens(stateDir: string): string[] {
  try {
    const file = JSON.parse(readFileSync(join(stateDir, "identity", "device-auth.json"), "utf8")) as {
      devices: Record<string, Record<string, { token: string }>>;
    };
    return Object.values(file.devices).flatMap((roles) => Object.values(roles).map((e) => e.token));
  } catch {
    return [];
  }
}

interface StatusJson {
  gateway: {
    state: string;
    running: boolean;
    pid: number | null;
    url: string | null;
    authMode: string | null;
  };
  clients: { total: number; byRole: Record<string, number> };
  pending: Array<{ requestId: string; deviceId: string; scopes: string[]; approveCommand: string }>;
  devices: { count: number; list: Array<{ deviceId: string; owner: boolean }> };
  refusals: Array<{
    decision: string;
    reason: string | null;
    requestId: string | null;
    deviceId: string | null;
  }>;
}

interface AuditRow {
  id: number;
  time: string;
  kind: string;
  decision: string;
  reason: string | null;
  deviceId: string | null;
  requestId: string | null;
  client: string | null;
  peer: string | null;
  role: string | null;
  scopes: string[] | null;
  trace: string[] | null;
  actor: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads `read()` until `done` holds, for at most 10 s. Refusals without a device, and rows written
 * while a batch is open, reach the store up to 50 ms after the connect that made them (the gateway
 * batches its audit rows); the CLI reads the store, so it sees them once that batch is written.
 */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

describe("gatehouse status", () => {
  it("shows the gateway, a pending request with its exact approve command, devices and refusals — and the same with the gateway stopped", async () => {
    const setup = await startGateway();
    const devDir = sandbox.stateDir();
    const requestId = requestIdOf(await setup.device(devDir, ["health"]));
    const devId = deviceIdOf(devDir);
    const ownerId = deviceIdOf(setup.dir);

    const text = await setup.owner(["status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`^Gateway: running \\(pid ${setup.pid}\\), up \\d+s — ${setup.url}$`, "m"),
    );
    assert.match(text.stdout, /auth token/);
    assert.match(text.stdout, /^Connected clients: 0 \(operator 0, node 0; not counting this query\)$/m);
    assert.match(text.stdout, /^Pending requests \(1\)$/m);
    assert.ok(text.stdout.includes(`approve    gatehouse devices approve ${requestId}`), text.stdout);
    assert.match(text.stdout, /^Devices \(1\)$/m);
    assert.ok(text.stdout.includes(`${ownerId.slice(0, 12)}`));
    assert.match(text.stdout, /^Recent refusals \(1, newest first/m);
    assert.match(text.stdout, new RegExp(`connect pend +reason=not-paired device=${devId.slice(0, 12)} `));
    assert.ok(!text.stdout.includes(TOKEN));

    const running = cliJson<StatusJson>(await setup.owner(["status", "--json"]));
    assert.equal(running.gateway.state, "running");
    assert.equal(running.gateway.pid, setup.pid);
    assert.equal(running.gateway.url, setup.url);
    assert.equal(running.gateway.authMode, "token");
    assert.equal(running.clients.total, 0);
    assert.equal(running.pending.length, 1);
    assert.equal(running.pending[0]!.requestId, requestId);
    assert.equal(running.pending[0]!.deviceId, devId);
    assert.equal(running.pending[0]!.approveCommand, `gatehouse devices approve ${requestId}`);
    assert.equal(running.devices.count, 1);
    assert.equal(running.devices.list[0]!.owner, true);
    assert.deepEqual(
      running.refusals.map((r) => [r.decision, r.reason, r.requestId, r.deviceId]),
      [["pend", "not-paired", requestId, devId]],
    );

    // A wrong shared token is a refusal too; the newest comes first.
    const wrong = await setup.device(sandbox.stateDir(), ["health"], "not-the-token");
    assert.equal(wrong.code, 1);
    const withReject = await eventually(
      async () => cliJson<StatusJson>(await setup.owner(["status", "--json"])),
      (s) => s.refusals.length === 2,
      "the wrong token's refusal in status",
    );
    assert.equal(withReject.refusals[0]!.decision, "reject");
    assert.equal(withReject.refusals[0]!.reason, "AUTH_TOKEN_MISMATCH");

    const stop = await setup.owner(["gateway", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    const stoppedText = await setup.owner(["status"]);
    assert.equal(stoppedText.code, 0, "status works with the gateway stopped");
    assert.match(
      stoppedText.stdout,
      /^Gateway: stopped \(state dir .*\) — start it with: gatehouse gateway start$/m,
    );
    assert.ok(stoppedText.stdout.includes(`gatehouse devices approve ${requestId}`));
    const stopped = cliJson<StatusJson>(await setup.owner(["status", "--json"]));
    assert.equal(stopped.gateway.state, "stopped");
    assert.equal(stopped.gateway.running, false);
    assert.equal(stopped.gateway.pid, null);
    assert.equal(stopped.clients.total, 0);
    assert.equal(stopped.pending[0]!.requestId, requestId);
    assert.equal(stopped.pending[0]!.approveCommand, `gatehouse devices approve ${requestId}`);
    assert.equal(stopped.devices.count, 1);
    assert.equal(stopped.refusals.length, 2);
  });
});

describe("gatehouse audit", () => {
  it("--json shows every decision with its reason and trace, approvals and token changes, and never a secret", async () => {
    const setup = await startGateway();
    const devDir = sandbox.stateDir();
    const requestId = requestIdOf(await setup.device(devDir, ["health"]));
    const devId = deviceIdOf(devDir);
    assert.equal((await setup.device(sandbox.stateDir(), ["health"], "wrong-token")).code, 1);
    assert.equal((await setup.owner(["devices", "approve", requestId])).code, 0);
    const admitted = await setup.device(devDir, ["health"]);
    assert.equal(admitted.code, 0, admitted.stderr);
    const tokens = new Set(deviceTokens(devDir));
    assert.equal(tokens.size, 1, "the device received a device token");
    assert.equal((await setup.owner(["devices", "rotate", "--device", devId, "--role", "operator"])).code, 0);
    const afterRotate = await setup.device(devDir, ["health"]);
    assert.equal(afterRotate.code, 0, afterRotate.stderr);
    for (const t of deviceTokens(devDir)) tokens.add(t);
    assert.equal((await setup.owner(["devices", "revoke", "--device", devId, "--role", "operator"])).code, 0);
    const r = await eventually(
      () => setup.owner(["audit", "--json", "--limit", "100"]),
      (out) =>
        out.code !== 0 ||
        (["AUTH_TOKEN_MISMATCH", "revoked"] as const).every((why) =>
          cliJson<{ rows: AuditRow[] }>(out).rows.some((x) => x.reason === why || x.decision === why),
        ),
      "the wrong token's refusal and the revoke in the audit log",
    );
    assert.equal(r.code, 0, r.stderr);
    const { rows, store } = cliJson<{ rows: AuditRow[]; store: string }>(r);
    assert.equal(store, join(setup.dir, "state", "gatehouse.sqlite"));
    const ids = rows.map((x) => x.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "newest last",
    );
    const find = (kind: string, decision: string, pred: (x: AuditRow) => boolean = () => true) => {
      const row = rows.find((x) => x.kind === kind && x.decision === decision && pred(x));
      assert.ok(row, `no ${kind}/${decision} row in ${JSON.stringify(rows, null, 1)}`);
      return row;
    };
    const pend = find("connect", "pend", (x) => x.deviceId === devId);
    assert.equal(pend.reason, "not-paired");
    assert.equal(pend.requestId, requestId);
    assert.equal(pend.client, "cli/cli");
    assert.equal(pend.peer, "127.0.0.1");
    assert.equal(pend.role, "operator");
    assert.deepEqual(pend.scopes, ["operator.read"]);
    assert.ok(pend.trace && pend.trace.length > 0 && pend.trace.includes("auto-approve-local-disabled"));
    assert.match(pend.time, /^\d{4}-\d\d-\d\dT/);
    const reject = find("connect", "reject", (x) => x.reason === "AUTH_TOKEN_MISMATCH");
    assert.ok(reject.trace && reject.trace.length > 0);
    const approve = find("approve", "approved", (x) => x.requestId === requestId);
    assert.equal(approve.deviceId, devId);
    const admit = find("connect", "admit", (x) => x.deviceId === devId);
    assert.ok(admit.trace && admit.trace.length > 0);
    find(
      "connect",
      "admit",
      (x) => x.deviceId === deviceIdOf(setup.dir) && x.trace!.includes("credential-owner-key"),
    );
    find("rotate", "rotated", (x) => x.deviceId === devId);
    find("revoke", "revoked", (x) => x.deviceId === devId);

    const verbose = await setup.owner(["audit", "--verbose", "--limit", "100"]);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(
      verbose.stdout,
      /connect pend +reason=not-paired device=[0-9a-f]{64} client=cli\/cli peer=127\.0\.0\.1 role=operator scopes=operator\.read request=/,
    );
    assert.match(verbose.stdout, /\n {4}trace: .*auto-approve-local-disabled/);
    for (const out of [r.stdout, verbose.stdout]) {
      assert.ok(!out.includes(TOKEN), "the shared token never appears");
      for (const t of tokens) assert.ok(!out.includes(t), "no device token appears");
    }

    // --device takes a prefix; --limit keeps the newest.
    const mine = cliJson<{ rows: AuditRow[] }>(
      await setup.owner(["audit", "--json", "--device", devId.slice(0, 10)]),
    );
    assert.ok(mine.rows.length >= 5);
    assert.ok(mine.rows.every((x) => x.deviceId === devId));
    const two = cliJson<{ rows: AuditRow[] }>(
      await setup.owner(["audit", "--json", "--device", devId, "--limit", "2"]),
    );
    assert.deepEqual(
      two.rows.map((x) => x.id),
      mine.rows.slice(-2).map((x) => x.id),
    );
    const short = await setup.owner(["audit", "--device", "abc"]);
    assert.equal(short.code, 2);

    // Also readable with the gateway stopped.
    assert.equal((await setup.owner(["gateway", "stop"])).code, 0);
    const offline = cliJson<{ rows: AuditRow[] }>(await setup.owner(["audit", "--json", "--limit", "100"]));
    assert.ok(offline.rows.length >= rows.length);
  });

  it("--follow prints a row for a connection made after it started, and stops on SIGINT", async () => {
    const setup = await startGateway();
    const child = spawn(
      process.execPath,
      [CLI_MAIN, "audit", "--follow", "--limit", "0", "--state-dir", setup.dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const lines: string[] = [];
      createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const waitFor = async (cond: () => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!cond()) {
          if (Date.now() > deadline)
            assert.fail(`timed out waiting for ${what}; stdout: ${lines.join("\n")}; stderr: ${stderr}`);
          await sleep(50);
        }
      };
      await waitFor(() => stderr.includes("following"), "the follow notice");
      assert.equal(lines.length, 0, "--limit 0: no history");

      const devDir = sandbox.stateDir();
      const requestId = requestIdOf(await setup.device(devDir, ["health"]));
      const devShort = deviceIdOf(devDir).slice(0, 12);
      await waitFor(() => lines.some((l) => l.includes(`request=${requestId}`)), "the pend row");
      const row = lines.find((l) => l.includes(`request=${requestId}`))!;
      assert.match(
        row,
        new RegExp(`connect pend +reason=not-paired device=${devShort} client=cli/cli peer=127\\.0\\.0\\.1`),
      );

      // An admitted connect (batched by the gateway) shows up too.
      assert.equal((await setup.owner(["health"])).code, 0);
      await waitFor(() => lines.some((l) => / connect admit /.test(l)), "the admit row");
      assert.ok(!lines.join("\n").includes(TOKEN));
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, "SIGINT ends --follow cleanly");
    assert.equal((await setup.owner(["gateway", "stop"])).code, 0);
  });
});

describe("the read-only store the CLI reads the audit log with", () => {
  it("reads rows another connection writes, never writes, and refuses a missing or foreign file", () => {
    const dir = sandbox.stateDir();
    const path = join(dir, "state", "gatehouse.sqlite");
    assert.throws(() => openStore(path, { readonly: true }), StoreError);
    assert.equal(existsSync(path), false, "a read-only open creates nothing");

    const writer = openStore(path);
    const reader = openStore(path, { readonly: true });
    try {
      writer.audit.append({ kind: "connect", decision: "admit", client: "cli/cli" }, 1);
      assert.deepEqual(
        reader.audit.list({ afterId: 0 }).map((r) => r.decision),
        ["admit"],
      );
      writer.audit.append({ kind: "connect", decision: "reject", reason: "AUTH_TOKEN_MISMATCH" }, 2);
      assert.deepEqual(
        reader.audit.list({ afterId: 1 }).map((r) => r.reason),
        ["AUTH_TOKEN_MISMATCH"],
      );
      assert.throws(
        () => reader.audit.append({ kind: "connect", decision: "admit", reason: "written-by-a-reader" }, 3),
        StoreError,
      );
    } finally {
      reader.close();
      writer.close();
    }

    const foreign = join(dir, "foreign.sqlite");
    writeFileSync(foreign, "not a database at all, just text that is long enough to be a page".repeat(100));
    assert.throws(
      () => openStore(foreign, { readonly: true }),
      (err: unknown) => err instanceof StoreError && err.code === "STORE_CORRUPT",
    );
  });
});
