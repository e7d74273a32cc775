/**
 * `gatehouse devices` and the CLI's own identity, as a user runs them: real gateway processes,
 * real state dirs. A "second device" is the CLI run with another state dir (its own identity)
 * plus `--url` and `--token`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveDevice } from "../../src/cli/commands/devices.js";
import type { PairedDevice, PairList } from "../../src/cli/devices/types.js";
import { CliError } from "../../src/cli/output.js";
import { cliJson, devicesList } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import {
  freePort,
  runCli,
  spawnGateway,
  type CliResult,
  type GatewayProcess,
} from "../helpers/gateway-process.js";

// The user's environment must not leak into these runs, nor they into the user's ~/.gatehouse.
const sandbox = createCliSandbox();
const cleanEnv = sandbox.env;
const running = new Set<GatewayProcess>();
after(async () => {
  for (const gw of running) await gw.stop();
  sandbox.cleanup();
});

function newDir(): string {
  return sandbox.stateDir();
}

/** A gateway state dir whose loopback connects still need approval (so requests pend). */
interface GatewaySetup {
  dir: string;
  port: number;
  token: string;
  url: string;
  gw: GatewayProcess | null;
  start(): Promise<GatewayProcess>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The owner's CLI on the gateway host: only --state-dir. */
  owner(args: string[]): Promise<CliResult>;
  /** Another device: its own state dir, --url and --token. */
  device(deviceDir: string, args: string[]): Promise<CliResult>;
}

async function setupGateway(): Promise<GatewaySetup> {
  const dir = newDir();
  const port = await freePort();
  const token = "shared-" + "k".repeat(40);
  writeFileSync(
    join(dir, "gatehouse.json"),
    JSON.stringify({ gateway: { port, auth: { token }, pairing: { autoApproveLocal: false } } }),
  );
  const setup: GatewaySetup = {
    dir,
    port,
    token,
    url: `ws://127.0.0.1:${port}`,
    gw: null,
    async start() {
      const gw = await spawnGateway(["--state-dir", dir], cleanEnv);
      running.add(gw);
      setup.gw = gw;
      // "gateway listening" comes before the SIGTERM handler is installed; "gateway ready" after.
      const deadline = Date.now() + 5000;
      while (!gw.log.some((l) => l.includes('"gateway ready"')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return gw;
    },
    async stop() {
      const gw = setup.gw;
      if (!gw) return;
      setup.gw = null;
      assert.equal(await gw.stop(), 0, "the gateway stops cleanly");
      running.delete(gw);
    },
    async restart() {
      await setup.stop();
      await setup.start();
    },
    owner: (args) => runCli([...args, "--state-dir", dir], cleanEnv),
    device: (deviceDir, args) =>
      runCli([...args, "--state-dir", deviceDir, "--url", setup.url, "--token", token], cleanEnv),
  };
  await setup.start();
  return setup;
}

/** The deviceId stored in a state dir's identity file. */
function deviceIdOf(stateDir: string): string {
  return (JSON.parse(readFileSync(join(stateDir, "identity", "device.json"), "utf8")) as { deviceId: string })
    .deviceId;
}

const PAIRING_LINE =
  /^error PAIRING_REQUIRED: pairing required: [^\n]* \(requestId (\S+)\) — approve it on the gateway host: gatehouse devices approve (\S+)$/m;

/** Asserts a PAIRING_REQUIRED refusal and returns its requestId. */
function refusedRequestId(r: CliResult): string {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
  const m = PAIRING_LINE.exec(r.stderr);
  assert.ok(m, `no PAIRING_REQUIRED line in: ${r.stderr}`);
  assert.equal(m[1], m[2], "the approve command names the same request");
  return m[1]!;
}

/** Pairs a fresh device for `operator.read` through the owner; returns its state dir. */
async function pairedReader(setup: GatewaySetup): Promise<string> {
  const dir = newDir();
  const id = refusedRequestId(await setup.device(dir, ["health"]));
  const ok = await setup.owner(["devices", "approve", id]);
  assert.equal(ok.code, 0, ok.stderr);
  const health = await setup.device(dir, ["health"]);
  assert.equal(health.code, 0, health.stderr);
  return dir;
}

const OFFLINE_NOTE = "gateway not running: working on the store directly";

describe("the CLI signs with its state dir's identity", () => {
  it("S01: the owner's CLI is admitted without pairing, before and after a restart", async () => {
    const setup = await setupGateway();
    try {
      const first = await setup.owner(["health"]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^gateway ok at ws:\/\/127\.0\.0\.1:\d+/);
      await setup.restart();
      const second = await setup.owner(["health"]);
      assert.equal(second.code, 0, second.stderr);

      const list = await devicesList(setup.owner);
      const ownerId = deviceIdOf(setup.dir);
      const owner = list.paired.find((d) => d.deviceId === ownerId);
      assert.ok(owner, "the owner device is listed");
      assert.equal(owner.approvedVia, "owner");
      assert.equal(owner.owner, true);
      assert.ok(owner.scopes.includes("operator.admin"));
      assert.deepEqual(list.pending, [], "the owner's CLI never created a request");
    } finally {
      await setup.stop();
    }
  });

  it("a second device pairs once: same requestId on retry (S42), approve, admitted across restarts; rotate, revoke, remove", async () => {
    const setup = await setupGateway();
    try {
      const devDir = newDir();
      const r1 = await setup.device(devDir, ["health"]);
      const requestId = refusedRequestId(r1);
      const devId = deviceIdOf(devDir);
      assert.match(r1.stderr, /\n {2}requested: role operator, scopes operator\.read; approved: nothing yet/);
      assert.equal(r1.stdout, "");

      // S42: the same ask keeps the same request.
      const again = await setup.device(devDir, ["health", "--json"]);
      assert.equal(again.code, 1);
      const err = cliJson<{
        error: { code: string; requestId: string; requestedScopes: string[]; reason: string };
      }>(again).error;
      assert.equal(err.code, "PAIRING_REQUIRED");
      assert.equal(err.requestId, requestId);
      assert.deepEqual(err.requestedScopes, ["operator.read"]);
      assert.equal(err.reason, "not-paired");

      // The owner sees exactly that request, what it asks for, and the command to approve it.
      const text = await setup.owner(["devices", "list"]);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(!text.stderr.includes(OFFLINE_NOTE), "a running gateway is used over the network");
      assert.match(text.stdout, /^Pending requests \(1\)$/m);
      assert.ok(text.stdout.includes(`  ${requestId}\n`), text.stdout);
      assert.match(text.stdout, /requested +roles operator; scopes operator\.read$/m);
      assert.match(text.stdout, /approved +nothing yet \(not paired\)$/m);
      assert.ok(text.stdout.includes(`approve    gatehouse devices approve ${requestId}`), text.stdout);
      assert.ok(text.stdout.includes(devId.slice(0, 12)));
      const pending = (await devicesList(setup.owner)).pending;
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.requestId, requestId);
      assert.equal(pending[0]!.deviceId, devId);
      assert.deepEqual(pending[0]!.scopes, ["operator.read"]);

      const approved = await setup.owner(["devices", "approve", requestId]);
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(
        approved.stdout,
        new RegExp(
          `^approved request ${requestId}: device cli \\(${devId.slice(0, 12)}\\) was granted roles operator; scopes operator\\.read$`,
          "m",
        ),
      );

      const ok = await setup.device(devDir, ["health"]);
      assert.equal(ok.code, 0, ok.stderr);
      const tokens = JSON.parse(readFileSync(join(devDir, "identity", "device-auth.json"), "utf8")) as {
        devices: Record<string, Record<string, { scopes: string[] }>>;
      };
      assert.deepEqual(
        tokens.devices[devId]?.operator?.scopes,
        ["operator.read"],
        "the issued token is kept",
      );

      await setup.restart();
      const afterRestart = await setup.device(devDir, ["health"]);
      assert.equal(afterRestart.code, 0, afterRestart.stderr);

      // Rename via a unique prefix; the name shows in the list.
      const renamed = await setup.owner([
        "devices",
        "rename",
        "--device",
        devId.slice(0, 10),
        "--name",
        "laptop",
      ]);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.match(renamed.stdout, /to "laptop"$/m);
      const listed = (await devicesList(setup.owner)).paired.find((d) => d.deviceId === devId);
      assert.equal(listed?.label, "laptop");

      // Rotate for another device: the token is withheld and never shown.
      // The device is the argument, as for remove; --device (the old spelling) still works above.
      const rotated = await setup.owner(["devices", "rotate", devId, "--role", "operator"]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /rotated the operator token of device laptop .*: scopes operator\.read/);
      assert.match(rotated.stdout, /withheld-cross-device/);
      const rotatedJson = await setup.owner([
        "devices",
        "rotate",
        "--device",
        devId,
        "--role",
        "operator",
        "--json",
      ]);
      const rj = cliJson<{ tokenDelivery: string; token?: string; scopes: string[] }>(rotatedJson);
      assert.equal(rj.tokenDelivery, "withheld-cross-device");
      assert.equal(rj.token, undefined);
      // Its stale token is dropped and the shared secret gets it a fresh one (S13).
      const afterRotate = await setup.device(devDir, ["health"]);
      assert.equal(afterRotate.code, 0, afterRotate.stderr);

      // A device with two roles (the owner) must say which; one with a single role need not.
      const owner = (await devicesList(setup.owner)).paired.find((d) => d.roles.length === 2)!;
      const ambiguous = await setup.owner(["devices", "revoke", owner.deviceId]);
      assert.equal(ambiguous.code, 2);
      assert.match(
        ambiguous.stderr,
        /^error INVALID_FLAG: device \S+ has the roles operator and node: say which with --role$/m,
      );

      // Revoke: not re-admitted with the revoked token; it pends again (autoApproveLocal is off).
      const revoked = await setup.owner(["devices", "revoke", devId.slice(0, 8)]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, /^revoked the operator token of device laptop/);
      const refused = await setup.device(devDir, ["health", "--json"]);
      assert.equal(refused.code, 1);
      const refusedErr = cliJson<{ error: { code: string; reason: string; requestId: string } }>(
        refused,
      ).error;
      assert.equal(refusedErr.code, "PAIRING_REQUIRED");
      assert.equal(refusedErr.reason, "role-upgrade");
      assert.notEqual(refusedErr.requestId, requestId);

      const removed = await setup.owner(["devices", "remove", devId]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /^removed device laptop/);
      const finalList = await devicesList(setup.owner);
      assert.ok(!finalList.paired.some((d) => d.deviceId === devId), "gone from paired");
    } finally {
      await setup.stop();
    }
  });

  it("--wait: waits for the approval, then completes the command", async () => {
    const setup = await setupGateway();
    try {
      const devDir = newDir();
      const started = Date.now();
      const waiting = setup.device(devDir, ["health", "--wait", "30"]);
      let requestId: string | undefined;
      while (requestId === undefined && Date.now() - started < 10_000) {
        requestId = (await devicesList(setup.owner)).pending[0]?.requestId;
      }
      assert.ok(requestId, "the waiting device created a request");
      const approved = await setup.owner(["devices", "approve", requestId]);
      assert.equal(approved.code, 0, approved.stderr);
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^gateway ok at /);
      assert.ok(
        r.stderr.includes(
          `waiting for approval of request ${requestId} (gatehouse devices approve ${requestId} on the gateway host)…`,
        ),
        r.stderr,
      );
      assert.equal(
        r.stderr.split("waiting for approval").length,
        2,
        "announced once: the requestId stayed the same",
      );
    } finally {
      await setup.stop();
    }
  });

  it("--wait gives up after the timeout with WAIT_TIMEOUT", async () => {
    const setup = await setupGateway();
    try {
      const r = await setup.device(newDir(), ["health", "--wait", "1"]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error WAIT_TIMEOUT: request (\S+) was not approved within 1s — approve it on the gateway host: gatehouse devices approve \1/m,
      );
    } finally {
      await setup.stop();
    }
  });
});

describe("gatehouse devices approve", () => {
  it("no id: exit 2 listing the exact approve commands (C12); an unknown id: exit 1, nothing approved", async () => {
    const setup = await setupGateway();
    try {
      const devDir = newDir();
      const requestId = refusedRequestId(await setup.device(devDir, ["health"]));

      const none = await setup.owner(["devices", "approve"]);
      assert.equal(none.code, 2);
      assert.match(
        none.stderr,
        /^error REQUEST_ID_REQUIRED: approve needs the exact requestId; there is no implicit "latest"/,
      );
      assert.ok(none.stderr.includes(`\n      gatehouse devices approve ${requestId}\n`), none.stderr);
      const noneJson = await setup.owner(["devices", "approve", "--json"]);
      assert.equal(noneJson.code, 2);
      const e = cliJson<{
        error: { code: string; pending: Array<{ requestId: string; approveCommand: string }> };
      }>(noneJson).error;
      assert.equal(e.code, "REQUEST_ID_REQUIRED");
      assert.deepEqual(
        e.pending.map((p) => p.approveCommand),
        [`gatehouse devices approve ${requestId}`],
      );

      const unknown = await setup.owner(["devices", "approve", "no-such-request"]);
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /^error UNKNOWN_REQUEST: no pending request no-such-request: it may have expired/,
      );

      const list = await devicesList(setup.owner);
      assert.deepEqual(
        list.pending.map((p) => p.requestId),
        [requestId],
        "neither call approved anything",
      );
    } finally {
      await setup.stop();
    }
  });

  it("a device holding only operator.read cannot approve, says what is missing, and opens no request for itself (S46)", async () => {
    const setup = await setupGateway();
    try {
      const readerDir = await pairedReader(setup);
      const readerId = deviceIdOf(readerDir);
      const otherDir = newDir();
      const otherRequest = refusedRequestId(await setup.device(otherDir, ["health"]));

      const r = await setup.device(readerDir, ["devices", "approve", otherRequest]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error MISSING_SCOPE: managing devices needs operator\.pairing, which this device \(\w{12}\) is not approved for \(it holds operator\.read\) — do it on the gateway host/,
      );
      const j = await setup.device(readerDir, ["devices", "approve", otherRequest, "--json"]);
      assert.equal(j.code, 1);
      assert.deepEqual(cliJson<{ error: { missingScopes: string[] } }>(j).error.missingScopes, [
        "operator.pairing",
      ]);

      const list = await devicesList(setup.owner);
      assert.deepEqual(
        list.pending.map((p) => p.requestId),
        [otherRequest],
        "still pending, and no upgrade request from the approving device",
      );
      assert.ok(!list.pending.some((p) => p.deviceId === readerId));
      const reader = list.paired.find((d) => d.deviceId === readerId);
      assert.deepEqual(reader?.scopes, ["operator.read"], "the reader gained nothing");
    } finally {
      await setup.stop();
    }
  });

  it("a device asks for operator.pairing explicitly, is approved, and can then list (its token's scopes are refreshed)", async () => {
    const setup = await setupGateway();
    try {
      const readerDir = await pairedReader(setup);
      const blocked = await setup.device(readerDir, ["devices", "list"]);
      assert.equal(blocked.code, 1);
      assert.match(blocked.stderr, /^error MISSING_SCOPE: /);
      assert.match(
        blocked.stderr,
        /\n {2}to have this device approved for operator\.pairing, ask once with: gatehouse call device\.pair\.list --wait/,
      );

      const upgrade = await setup.device(readerDir, ["call", "device.pair.list", "--json"]);
      assert.equal(upgrade.code, 1);
      const e = cliJson<{
        error: { reason: string; requestId: string; requestedScopes: string[]; approvedScopes: string[] };
      }>(upgrade).error;
      assert.equal(e.reason, "scope-upgrade");
      assert.deepEqual(e.requestedScopes, ["operator.pairing"]);
      assert.deepEqual(e.approvedScopes, ["operator.read"]);
      const approved = await setup.owner(["devices", "approve", e.requestId]);
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(
        approved.stdout,
        /now approved: roles operator; scopes operator\.pairing, operator\.read$/m,
      );

      const call = await setup.device(readerDir, ["call", "device.pair.list", "--json"]);
      assert.equal(call.code, 0, call.stderr);
      const list = await setup.device(readerDir, ["devices", "list", "--json"]);
      assert.equal(list.code, 0, list.stdout);
      const own = cliJson<PairList>(list).paired.find((d) => d.deviceId === deviceIdOf(readerDir));
      assert.deepEqual(own?.scopes, ["operator.pairing", "operator.read"]);
    } finally {
      await setup.stop();
    }
  });

  it("reject drops the request; the device stays unpaired and asks anew", async () => {
    const setup = await setupGateway();
    try {
      const devDir = newDir();
      const requestId = refusedRequestId(await setup.device(devDir, ["health"]));
      const r = await setup.owner(["devices", "reject", requestId]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^rejected request ${requestId} from device cli`));
      assert.deepEqual((await devicesList(setup.owner)).pending, []);
      const again = refusedRequestId(await setup.device(devDir, ["health"]));
      assert.notEqual(again, requestId);
    } finally {
      await setup.stop();
    }
  });
});

describe("offline break-glass on the gateway host (S46)", () => {
  it("with the gateway stopped, devices list/approve work on the store under the lock; the approval holds", async () => {
    const setup = await setupGateway();
    const devDir = newDir();
    const requestId = refusedRequestId(await setup.device(devDir, ["health"]));
    await setup.stop();

    const list = await setup.owner(["devices", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(
      list.stderr.includes(`${OFFLINE_NOTE} (${join(setup.dir, "state", "gatehouse.sqlite")})`),
      list.stderr,
    );
    assert.ok(list.stdout.includes(`gatehouse devices approve ${requestId}`), list.stdout);

    const approved = await setup.owner(["devices", "approve", requestId]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.ok(approved.stderr.includes(OFFLINE_NOTE));
    assert.match(approved.stdout, new RegExp(`^approved request ${requestId}: device cli`));

    const json = await setup.owner(["devices", "list", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const after = cliJson<PairList>(json);
    assert.deepEqual(after.pending, []);
    const dev = after.paired.find((d) => d.deviceId === deviceIdOf(devDir));
    assert.equal(dev?.approvedVia, "approved");
    assert.ok(!existsSync(join(setup.dir, "state", "gateway.lock")), "the lock was released");

    // The gateway starts again (lock released) and honours the offline approval.
    await setup.start();
    try {
      const ok = await setup.device(devDir, ["health"]);
      assert.equal(ok.code, 0, ok.stderr);
      const online = await setup.owner(["devices", "list"]);
      assert.equal(online.code, 0, online.stderr);
      assert.ok(!online.stderr.includes(OFFLINE_NOTE), "offline mode is not used while the gateway runs");
      assert.match(online.stdout, /connected +no$/m);
    } finally {
      await setup.stop();
    }
  });

  it("issue 14.3: no store, no gateway: not break-glass — it dials, and says how to reach a gateway", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "gatehouse.json"), JSON.stringify({ gateway: { port: await freePort() } }));
    const r = await runCli(["devices", "list", "--state-dir", dir], cleanEnv);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error CONNECT_FAILED: .* — is the gateway running\? on its host: gatehouse gateway start; from another machine, pair once with gatehouse connect --pair/,
    );
    assert.ok(!r.stderr.includes(OFFLINE_NOTE));
    assert.ok(!existsSync(join(dir, "state", "gatehouse.sqlite")), "no empty store was created");
  });

  it("with --url the CLI never falls back to the store", async () => {
    const setup = await setupGateway();
    await setup.stop();
    const r = await setup.owner(["devices", "list", "--url", setup.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error CONNECT_FAILED: /);
    assert.ok(!r.stderr.includes(OFFLINE_NOTE));
  });
});

describe("device id prefixes", () => {
  const device = (deviceId: string): PairedDevice => ({
    deviceId,
    publicKey: "k",
    roles: ["operator"],
    scopes: [],
    approvedVia: "approved",
    owner: false,
    createdAtMs: 0,
    approvedAtMs: 0,
    tokens: [],
    connected: false,
  });
  const list: PairList = {
    pending: [],
    paired: [device("abcdef0123" + "0".repeat(54)), device("abcdef0199" + "1".repeat(54))],
  };
  const fails = (given: string, code: string, exitCode: number) =>
    assert.throws(
      () => resolveDevice(list, given),
      (e: unknown) => e instanceof CliError && e.code === code && e.exitCode === exitCode,
    );

  it("a unique prefix of 8+ hex characters resolves; ambiguous, short, unknown ones do not", () => {
    assert.equal(resolveDevice(list, "ABCDEF0123").deviceId, list.paired[0]!.deviceId);
    assert.equal(resolveDevice(list, list.paired[1]!.deviceId).deviceId, list.paired[1]!.deviceId);
    fails("abcdef01", "AMBIGUOUS_DEVICE_ID", 2);
    fails("abcdef0", "INVALID_DEVICE_ID", 2);
    fails("ffffffff", "DEVICE_NOT_FOUND", 1);
  });

  it("an ambiguous prefix lists every match", () => {
    try {
      resolveDevice(list, "abcdef01");
      assert.fail("expected an error");
    } catch (e) {
      assert.ok(e instanceof CliError);
      assert.deepEqual(
        e.extra.lines,
        list.paired.map((d) => `  ${d.deviceId}  ${d.deviceId.slice(0, 12)}`),
      );
    }
  });
});
