/**
 * What a device-management command asks for when this device's approval does not cover what the
 * command needs (policy/client-asks.ts): a device the gateway approved silently on loopback asks
 * again, wider, and is approved silently again; a device a person approved is not made to ask (it
 * would only open an upgrade request for itself) and the command is refused before anything is
 * sent, saying what is missing and which command to run where it is held. Real gateway processes,
 * real state dirs; a "device" is the CLI run with its own state dir, `--url` and `--token`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { PairList } from "../../src/cli/devices/types.js";
import { cliJson, devicesList } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway, type GatewayProcess } from "../helpers/gateway-process.js";

/** Asserts a CLI run exited 0; when it did not, the failure shows what the command printed. */
function assertOk(r: { code: number | null; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, `exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
}

const sandbox = createCliSandbox();
const running = new Set<GatewayProcess>();
after(async () => {
  for (const gw of running) await gw.stop();
  sandbox.cleanup();
});

const TOKEN = "shared-" + "r".repeat(40);

/** A gateway with the shared secret; `silent` decides whether loopback devices are approved silently. */
async function gateway(silent: boolean) {
  const dir = sandbox.stateDir();
  const port = await freePort();
  writeFileSync(
    join(dir, "gatehouse.json"),
    JSON.stringify({ gateway: { port, auth: { token: TOKEN }, pairing: { autoApproveLocal: silent } } }),
  );
  const gw = await spawnGateway(["--state-dir", dir], sandbox.env);
  running.add(gw);
  const url = `ws://127.0.0.1:${port}`;
  return {
    owner: (args: string[]) => runCli([...args, "--state-dir", dir], sandbox.env),
    device: (deviceDir: string, args: string[]) =>
      runCli([...args, "--state-dir", deviceDir, "--url", url, "--token", TOKEN], sandbox.env),
    /** The device with no shared secret: its stored device token is its only credential. */
    tokenOnly: (deviceDir: string, args: string[]) =>
      runCli([...args, "--state-dir", deviceDir, "--url", url], sandbox.env),
    async stop() {
      running.delete(gw);
      await gw.stop();
    },
  };
}

/** The listed record of a device, and the list. */
async function recordOf(g: Gateway, deviceId: string) {
  const list = await devicesList(g.owner);
  return { list, device: list.paired.find((d) => d.deviceId === deviceId) };
}

/** The one device paired since `known`: the one a CLI state dir just connected with. */
function newest(list: PairList, known: ReadonlySet<string>): string {
  const fresh = list.paired.filter((d) => !d.owner && !known.has(d.deviceId));
  assert.equal(fresh.length, 1, JSON.stringify(fresh));
  return fresh[0]!.deviceId;
}

type Gateway = Awaited<ReturnType<typeof gateway>>;

/**
 * Two devices besides the owner: the manager holding operator.pairing + operator.read, the target
 * holding operator.write too (asked through `gatehouse call`, which asks for the method's scope).
 * With `approve`, each ask pends and the owner approves it; else they are approved silently.
 */
async function twoDevices(g: Gateway, approve: boolean) {
  const managerDir = sandbox.stateDir();
  const targetDir = sandbox.stateDir();
  const ask = async (dir: string, args: string[]) => {
    const r = await g.device(dir, [...args, "--json"]);
    if (!approve) return;
    const requestId = cliJson<{ error: { requestId?: string } }>(r).error.requestId;
    assert.ok(requestId, `a request pends: ${r.stdout}`);
    const ok = await g.owner(["devices", "approve", requestId]);
    assert.equal(ok.code, 0, ok.stderr);
  };
  await ask(managerDir, ["health"]);
  const managerId = newest(await devicesList(g.owner), new Set());
  await ask(managerDir, ["call", "device.pair.list"]);
  await ask(targetDir, ["health"]);
  const targetId = newest(await devicesList(g.owner), new Set([managerId]));
  await ask(targetDir, ["call", "node.invoke"]);
  const manager = (await recordOf(g, managerId)).device;
  const target = (await recordOf(g, targetId)).device;
  assert.deepEqual(manager?.scopes, ["operator.pairing", "operator.read"]);
  assert.deepEqual(target?.scopes, ["operator.read", "operator.write"]);
  return { managerDir, managerId, targetId };
}

describe("devices commands ask for what the gateway's management rules need", () => {
  it("a device approved silently on loopback asks again, wider, when removing a device needs it; approved silently, nothing pends", async () => {
    const g = await gateway(true);
    try {
      const { managerDir, managerId, targetId } = await twoDevices(g, false);
      const r = await g.device(managerDir, ["devices", "remove", targetId]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^removed device cli \\(${targetId.slice(0, 12)}\\)`));
      const after = await recordOf(g, managerId);
      assert.equal(
        after.list.paired.find((d) => d.deviceId === targetId),
        undefined,
        "the target is gone",
      );
      // Covering the target's operator.write took asking for it: approved silently, as the device was.
      assert.deepEqual(after.device?.scopes, ["operator.pairing", "operator.read", "operator.write"]);
      assert.equal(after.device?.approvedVia, "silent");
      assert.deepEqual(after.list.pending, []);
    } finally {
      await g.stop();
    }
  });

  it("a device a person approved is not made to ask: refused before anything is sent, naming the scope and the command to run where it is held", async () => {
    const g = await gateway(false);
    try {
      const { managerDir, managerId, targetId } = await twoDevices(g, true);
      const r = await g.device(managerDir, ["devices", "remove", targetId]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.split("\n")[0],
        `error MISSING_SCOPE: removing device ${targetId.slice(0, 12)} needs operator.write, which this device ` +
          `(${managerId.slice(0, 12)}) is not approved for (it holds operator.pairing, operator.read) — ` +
          `run \`gatehouse devices remove ${targetId}\` on the gateway host (the owner's CLI there needs no pairing) ` +
          "or on a device that holds operator.write; a device cannot approve its own upgrade",
      );
      // What a user reads names no rule id and no RPC they cannot run.
      assert.doesNotMatch(r.stderr, /\b(?:ask|manage)-[a-z-]+/);
      assert.doesNotMatch(r.stderr, /device\.(?:pair|token)\./);

      const j = await g.device(managerDir, ["devices", "remove", targetId, "--json"]);
      const error = cliJson<{
        error: {
          code: string;
          missingScopes: string[];
          command: string;
          why: Array<{ rule: string; explanation: string }>;
        };
      }>(j).error;
      assert.equal(error.code, "MISSING_SCOPE");
      assert.deepEqual(error.missingScopes, ["operator.write"]);
      assert.equal(error.command, `gatehouse devices remove ${targetId}`);
      // Why, rule by rule, each with its sentence: the gateway's rule that needs the scope, then the ask's.
      assert.deepEqual(
        error.why.map((w) => w.rule),
        ["manage-target-wider-than-caller", "ask-management-needs", "ask-capped-at-approval"],
      );
      for (const w of error.why) assert.ok(w.explanation.length > 20, w.rule);

      const after = await recordOf(g, managerId);
      assert.ok(
        after.list.paired.some((d) => d.deviceId === targetId),
        "the target is still paired",
      );
      assert.deepEqual(after.list.pending, [], "no upgrade request was opened for the manager");
      assert.deepEqual(after.device?.scopes, ["operator.pairing", "operator.read"]);

      // The command it names works where it says.
      const owner = await g.owner(["devices", "remove", targetId]);
      assert.equal(owner.code, 0, owner.stderr);
    } finally {
      await g.stop();
    }
  });

  it("a read-only device approved silently on loopback lists devices: it asks again for operator.pairing, approved silently, nothing pends", async () => {
    const g = await gateway(true);
    try {
      const dir = sandbox.stateDir();
      assertOk(await g.device(dir, ["health"]));
      const id = newest(await devicesList(g.owner), new Set());
      assert.deepEqual((await recordOf(g, id)).device?.scopes, ["operator.read"]);

      const r = await g.device(dir, ["devices", "list", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const listed = cliJson<PairList>(r).paired.map((d) => d.deviceId);
      assert.ok(listed.includes(id), `its own device is listed: ${listed.join(", ")}`);
      assert.equal(listed.length, 2, "the shared secret sees the owner too");
      const after = await recordOf(g, id);
      // Listing needs operator.pairing (the method table); asked for as the device was approved: silently.
      assert.deepEqual(after.device?.scopes, ["operator.pairing", "operator.read"]);
      assert.equal(after.device?.approvedVia, "silent");
      assert.deepEqual(after.list.pending, []);
    } finally {
      await g.stop();
    }
  });

  it("a read-only device a person approved is refused listing before anything is sent, with commands that work: the list on the gateway host, or asking once and waiting for the owner", async () => {
    const g = await gateway(false);
    try {
      const dir = sandbox.stateDir();
      const first = cliJson<{ error: { requestId: string } }>(await g.device(dir, ["health", "--json"]));
      assertOk(await g.owner(["devices", "approve", first.error.requestId]));
      assertOk(await g.device(dir, ["health"]));
      const id = newest(await devicesList(g.owner), new Set());

      const r = await g.device(dir, ["devices", "list"]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.split("\n")[0],
        `error MISSING_SCOPE: listing devices needs operator.pairing, which this device (${id.slice(0, 12)}) ` +
          "is not approved for (it holds operator.read) — run `gatehouse devices list` on the gateway host " +
          "(the owner's CLI there needs no pairing) or on a device that holds operator.pairing; " +
          "a device cannot approve its own upgrade",
      );
      const ask = "gatehouse call device.pair.list --wait";
      assert.ok(r.stderr.includes(ask), r.stderr);
      assert.deepEqual((await devicesList(g.owner)).pending, [], "refused before anything was sent");
      const j = cliJson<{ error: { command: string; missingScopes: string[] } }>(
        await g.device(dir, ["devices", "list", "--json"]),
      ).error;
      assert.equal(j.command, "gatehouse devices list");
      assert.deepEqual(j.missingScopes, ["operator.pairing"]);

      // Both commands it names work: the owner's list on the host, and the ask, once the owner approves it.
      assertOk(await g.owner(["devices", "list"]));
      const asking = g.device(dir, ask.split(" ").slice(1));
      let pending: PairList["pending"] = [];
      for (let i = 0; i < 50 && pending.length === 0; i++) {
        pending = (await devicesList(g.owner)).pending;
        if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(pending.length, 1, "the ask opened one request");
      assert.deepEqual(pending[0]!.scopes, ["operator.pairing", "operator.read"]);
      assertOk(await g.owner(["devices", "approve", pending[0]!.requestId]));
      const asked = await asking;
      assert.equal(asked.code, 0, asked.stderr);
      const listed = await g.device(dir, ["devices", "list", "--json"]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(cliJson<PairList>(listed).paired.some((d) => d.deviceId === id));
    } finally {
      await g.stop();
    }
  });

  it("a device approved for operator.admin lists every device over its device token alone: the listing asks for admin within its approval", async () => {
    const g = await gateway(false);
    try {
      const { managerDir, managerId, targetId } = await twoDevices(g, true);
      // A connect with the shared secret hands it its device token, which it keeps (with what it asked).
      assertOk(await g.device(managerDir, ["call", "device.pair.list"]));
      const narrow = cliJson<PairList>(await g.tokenOnly(managerDir, ["devices", "list", "--json"]));
      // Without operator.admin a device-token session sees its own device only: that is the gateway's rule.
      assert.deepEqual(
        narrow.paired.map((d) => d.deviceId),
        [managerId],
      );
      const upgrade = cliJson<{ error: { requestId: string } }>(
        await g.device(managerDir, ["call", "audit.list", "--json"]),
      );
      assertOk(await g.owner(["devices", "approve", upgrade.error.requestId]));
      await g.device(managerDir, ["call", "audit.list"]);

      const wide = await g.tokenOnly(managerDir, ["devices", "list", "--json"]);
      assert.equal(wide.code, 0, wide.stderr);
      const ids = cliJson<PairList>(wide).paired.map((d) => d.deviceId);
      assert.ok(ids.includes(targetId), `the other device is listed: ${ids.join(", ")}`);
      assert.equal(ids.length, 3, "the owner, the manager and the target");
      assert.deepEqual(
        (await devicesList(g.owner)).pending,
        [],
        "asking within its approval opened no request",
      );
    } finally {
      await g.stop();
    }
  });
});
