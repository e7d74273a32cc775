/**
 * Revocation reaches everything derived from an authority (issue "Authority is one lifecycle", item
 * 4; design principle 7): when a job ends — exit, kill, timeout — every connection made with its
 * runtime token closes at once and the sessions it spawned end with it; revoking or removing a
 * device ends the sessions resting on it and disables its cron jobs (shown with the reason), and
 * every cron run re-checks its creator's current authority.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  GatewayClient,
  GatewayClientError,
  MemoryDeviceTokenStore,
  type CloseInfo,
} from "../../src/client/index.js";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { connectOnce } from "../helpers/raw-client.js";
import type { RuntimeCaller } from "../../src/methods/params.js";
import type { CronJobInfo, CronListResult } from "../../src/protocol/cron.js";
import type { SessionInfo } from "../../src/protocol/sessions.js";
import {
  CHILD,
  connectClient,
  eventually,
  resultOf,
  runtimeCli,
  startRuntimeGateway,
  waitEnded,
  type RuntimeGateway,
} from "./helpers.js";

const RARELY = "0 0 1 1 *";
const EVERY_SECOND = "* * * * * *";

let gw: RuntimeGateway;
let owner: GatewayClient;
let dir: string;
const clients: GatewayClient[] = [];
before(async () => {
  gw = await startRuntimeGateway();
  owner = await connectClient(gw, ["operator.admin", "operator.pairing"]);
  dir = mkdtempSync(join(tmpdir(), "gatehouse-cascade-"));
  // Children are sandboxed: they see (and, as the sandbox user, may write) only their cwd.
  chmodSync(dir, 0o777);
});
after(async () => {
  for (const c of clients) await c.close();
  await owner.close();
  await gw.dispose();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const file = (name: string) => join(dir, `${name}-${files++}`);

/** Resolves with the close, or null if the connection is still open after `ms`. */
function closedWithin(client: GatewayClient, ms: number): Promise<CloseInfo | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    client.once("close", (info) => {
      clearTimeout(t);
      resolve(info);
    });
  });
}

/** A client that holds a job's runtime token: what a helper the job left behind would do. */
async function helperWith(token: string): Promise<GatewayClient> {
  const helper = new GatewayClient({
    url: gw.url,
    auth: { agentRuntimeIdentityToken: token },
    client: { id: "gateway-client", mode: "backend" },
    scopes: ["operator.read"],
    reconnect: false,
  });
  clients.push(helper);
  await helper.connect();
  assert.equal((await helper.request<{ ok: boolean }>("health")).ok, true);
  return helper;
}

/** The runtime token a `token-wait` child wrote to `path`, once it is there. */
function tokenIn(path: string): Promise<string> {
  return eventually(
    () => {
      const text = existsSync(path) ? readFileSync(path, "utf8") : "";
      return text.length > 0 ? text : undefined;
    },
    15_000,
    `a runtime token in ${path}`,
  );
}

/** Starts a job that hands its token out and runs until told; returns it, its token and its "go" file. */
async function tokenJob(extra: Record<string, unknown> = {}) {
  const tokenFile = file("token");
  const go = file("go");
  const session = await owner.request<SessionInfo>("sessions.spawn", {
    command: process.execPath,
    args: [CHILD, "token-wait", tokenFile, go],
    scopes: ["operator.read"],
    cwd: dir,
    ...extra,
  });
  const token = await tokenIn(tokenFile);
  return { session, token, go };
}

/** A device on this host, paired silently with `scopes`, connected with its own key and the token. */
async function localDevice(scopes: string[]): Promise<{ identity: DeviceIdentity; client: GatewayClient }> {
  const identity = generateIdentity();
  const client = new GatewayClient({
    url: gw.url,
    identity,
    auth: { token: gw.auth.token },
    deviceTokenStore: new MemoryDeviceTokenStore(),
    client: { id: "cli", mode: "cli" },
    scopes,
    reconnect: false,
  });
  clients.push(client);
  await client.connect();
  return { identity, client };
}

async function refusedWith(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, `expected a refusal, got ${String(err)}`);
  return err;
}

async function jobOf(id: string): Promise<CronJobInfo> {
  const { jobs } = await owner.request<CronListResult>("cron.list", {});
  const job = jobs.find((j) => j.id === id);
  assert.ok(job, `cron job ${id} is listed`);
  return job;
}

describe("a job's end closes every connection made with its runtime token", () => {
  const ends: Array<
    [string, (job: Awaited<ReturnType<typeof tokenJob>>) => Promise<void>, Record<string, unknown>]
  > = [
    ["exit", async (job) => writeFileSync(job.go, ""), {}],
    [
      "kill",
      async (job) => {
        await owner.request("sessions.kill", { id: job.session.id });
      },
      {},
    ],
    ["timeout", async () => undefined, { timeoutMs: 6_000 }],
  ];
  for (const [how, end, extra] of ends) {
    it(`attack: a sub-agent's detached helper keeps its open runtime-token connection, and keeps working, after the job ended; only new connects with that token are refused (${how})`, async () => {
      const job = await tokenJob(extra);
      const helper = await helperWith(job.token);
      const closed = closedWithin(helper, 20_000);
      await end(job);
      const ended = await waitEnded(gw, job.session.id, 20_000);
      assert.equal(ended.status, how === "exit" ? "exited" : how === "kill" ? "killed" : "timed-out");
      const info = await closed;
      assert.ok(info !== null, "the helper's connection is still open after its job ended");
      assert.equal(info.code, 4001);
      await refusedWith(helper.request("health"));
      // And the token admits nothing new.
      await assert.rejects(helperWith(job.token));
    });
  }

  it("sessions spawned by a session end with it", async () => {
    const parent = await owner.request<SessionInfo>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "spawn-hold-exit"],
      scopes: ["operator.admin"],
    });
    const ended = await waitEnded(gw, parent.id);
    const { child } = resultOf<{ child: string }>(ended);
    try {
      const gone = await waitEnded(gw, child, 20_000);
      assert.equal(gone.status, "killed");
      assert.equal(gone.parentSessionId, parent.id);
      assert.match(gone.endReason ?? "", new RegExp(`parent session ${parent.id} ended`));
    } finally {
      if (gw.runtime.sessions.isRunning(child)) await owner.request("sessions.kill", { id: child });
    }
  });
});

describe("revoking or removing a device ends what rests on it", () => {
  it("attack: a cron job created by a device keeps running with that device's admin scopes after the device was removed; nothing re-checks the creator", async () => {
    const { identity, client } = await localDevice(["operator.admin"]);
    const job = await client.request<CronJobInfo>("cron.add", {
      schedule: EVERY_SECOND,
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.admin"],
    });
    assert.equal(job.creatorDeviceId, identity.deviceId);
    const removed = await owner.request("device.pair.remove", { deviceId: identity.deviceId });
    assert.ok(removed);

    const listed = await jobOf(job.id);
    assert.equal(listed.enabled, false, "the job of a removed device is still enabled");
    assert.match(listed.disabledReason ?? "", /was removed/);
    assert.equal(listed.nextRunAtMs, null);
    // A manual run re-checks the creator too: refused, nothing started.
    const before = gw.store.sessions.list({ cronJobId: job.id }).length;
    const err = await refusedWith(owner.request("cron.run", { id: job.id }));
    assert.equal(err.detailCode, "FORBIDDEN_ACTION");
    assert.equal(gw.store.sessions.list({ cronJobId: job.id }).length, before);

    // `gatehouse cron list` shows it disabled, with the reason.
    const shown = await runtimeCli(gw, ["cron", "list"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`${job.id} .*disabled: device ${identity.deviceId} was removed`));
    // Someone who does not cover its scopes cannot re-enable it; someone who does can, and then it
    // rests on them.
    const reader: RuntimeCaller = {
      scopes: ["operator.read"],
      actor: "reader",
      runtimeJobId: null,
      deviceId: null,
    };
    assert.throws(
      () => gw.runtime.cron.update({ id: job.id, enabled: true }, reader),
      /cannot enable cron job/,
    );
    const reenabled = await owner.request<CronJobInfo>("cron.update", {
      id: job.id,
      enabled: true,
      schedule: RARELY,
    });
    assert.equal(reenabled.enabled, true);
    assert.equal(reenabled.disabledReason, null);
    assert.equal(reenabled.creatorDeviceId, gw.owner.deviceId);
    assert.equal(reenabled.createdBy, `device:${gw.owner.deviceId}`);
    const run = await owner.request<{ sessionId: string }>("cron.run", { id: job.id });
    const done = await waitEnded(gw, run.sessionId);
    assert.equal(done.exitCode, 0, done.stderrTail ?? "");
    assert.equal(done.authorityDeviceId, gw.owner.deviceId);
    await owner.request("cron.remove", { id: job.id });
  });

  it("gatehouse cron disable|enable: a job comes back on its creator while the creator holds its scopes, and only as the enabler's work once the creator's role was revoked", async () => {
    const { identity, client } = await localDevice(["operator.admin"]);
    const job = await client.request<CronJobInfo>("cron.add", {
      schedule: RARELY,
      command: process.execPath,
      args: [CHILD, "callback"],
      scopes: ["operator.read"],
    });
    const disabled = await runtimeCli(gw, ["cron", "disable", job.id]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, new RegExp(`^cron job ${job.id} disabled`, "m"));
    assert.equal((await jobOf(job.id)).enabled, false);
    assert.equal((await jobOf(job.id)).disabledReason, null);

    // Its creator still holds its scopes: enabling keeps it resting on the creator.
    const back = await client.request<CronJobInfo>("cron.update", { id: job.id, enabled: true });
    assert.equal(back.enabled, true);
    assert.equal(back.creatorDeviceId, identity.deviceId);

    // The creator's operator role is revoked: the cascade disables the job with the reason.
    await owner.request("device.token.revoke", { deviceId: identity.deviceId, role: "operator" });
    const cascaded = await jobOf(job.id);
    assert.equal(cascaded.enabled, false);
    assert.ok(cascaded.disabledReason, "a cascade says why");

    // The owner enables it from the CLI: it runs on the owner's authority from now on, and says so.
    const enabled = await runtimeCli(gw, ["cron", "enable", job.id]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, new RegExp(`^cron job ${job.id} enabled`, "m"));
    assert.match(enabled.stdout, /its creator's authority had ended: it now runs on yours/);
    const rebased = await jobOf(job.id);
    assert.equal(rebased.enabled, true);
    assert.equal(rebased.disabledReason, null);
    assert.equal(rebased.creatorDeviceId, gw.owner.deviceId);

    // An unknown id is a clear error, not a stack trace.
    const unknown = await runtimeCli(gw, ["cron", "enable", "cron_nope"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown cron job "cron_nope"/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    await owner.request("cron.remove", { id: job.id });
  });

  it("every cron run re-checks its creator: a creator gone from the store without a cascade disables the job at its next run", async () => {
    const { identity, client } = await localDevice(["operator.admin"]);
    const job = await client.request<CronJobInfo>("cron.add", {
      schedule: EVERY_SECOND,
      command: process.execPath,
      args: [CHILD, "exit", "0"],
      scopes: ["operator.read"],
    });
    await client.close();
    // As if an older release or a hand edit removed the device: nothing told the scheduler.
    gw.store.devices.remove(identity.deviceId);
    const removedAt = Date.now();
    const disabled = await eventually(
      () => {
        const j = gw.store.cron.get(job.id);
        return j && !j.enabled ? j : undefined;
      },
      15_000,
      "the job disabled at its next run",
    );
    assert.match(disabled.disabledReason ?? "", /removed/);
    const after = gw.store.sessions.list({ cronJobId: job.id }).filter((s) => s.startedAtMs >= removedAt);
    assert.deepEqual(after, [], "a run started after its creator was removed");
    gw.store.cron.remove(job.id);
  });

  it("revoking a device's operator role kills the sessions resting on it (its sub-agents' children too), closes their token connections and disables its jobs", async () => {
    const { identity, client } = await localDevice(["operator.admin"]);
    const job = await client.request<CronJobInfo>("cron.add", {
      schedule: RARELY,
      command: process.execPath,
      args: [CHILD, "callback"],
    });
    const held = await client.request<SessionInfo>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "token-wait", file("token"), file("never")],
      scopes: ["operator.read"],
      cwd: dir,
    });
    assert.equal(held.authorityDeviceId, identity.deviceId);
    const tokenFile = held.command[3]!;
    const token = await tokenIn(tokenFile);
    const helper = await helperWith(token);
    const closed = closedWithin(helper, 20_000);

    const revoked = await owner.request("device.token.revoke", {
      deviceId: identity.deviceId,
      role: "operator",
    });
    assert.ok(revoked);
    const info = await closed;
    assert.equal(
      info?.code,
      4001,
      "the token connection of a session resting on a revoked device stays open",
    );
    const gone = await waitEnded(gw, held.id, 20_000);
    assert.equal(gone.status, "killed");
    assert.match(gone.endReason ?? "", /operator role of device .* was revoked/);
    assert.equal(gw.runtime.runtimeTokens.verify(token).kind, "invalid");
    const listed = await jobOf(job.id);
    assert.equal(listed.enabled, false);
    assert.match(listed.disabledReason ?? "", /was revoked/);
    await owner.request("cron.remove", { id: job.id });
  });

  it("model finding: a setup code minted by a session resting on a device dies with the device, like the codes the device minted itself", async () => {
    const { identity, client } = await localDevice(["operator.admin", "operator.pairing"]);
    const tokenFile = file("token");
    const held = await client.request<SessionInfo>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "token-wait", tokenFile, file("never")],
      scopes: ["operator.admin", "operator.pairing"],
      cwd: dir,
    });
    assert.equal(held.authorityDeviceId, identity.deviceId);
    const helper = new GatewayClient({
      url: gw.url,
      auth: { agentRuntimeIdentityToken: await tokenIn(tokenFile) },
      client: { id: "gateway-client", mode: "backend" },
      scopes: ["operator.admin", "operator.pairing"],
      reconnect: false,
    });
    clients.push(helper);
    await helper.connect();
    const { code } = await helper.request<{ code: string }>("device.pair.setupCode", {
      profile: "operator-full",
    });

    await owner.request("device.token.revoke", { deviceId: identity.deviceId, role: "operator" });
    await waitEnded(gw, held.id, 20_000);
    const stranger = generateIdentity();
    const res = await connectOnce(gw.url, {
      identity: stranger,
      auth: { bootstrapToken: code },
      scopes: ["operator.admin"],
    });
    assert.equal(res.ok, false, "a code minted on a revoked device's authority still approved a device");
    assert.equal(res.error?.details?.code, "AUTH_BOOTSTRAP_TOKEN_INVALID");
    assert.equal(gw.store.devices.get(stranger.deviceId), null);
  });

  it("roots are not revoked this way: work started by the device-less shared secret or the owner key rests on no revocable device", async () => {
    const cli = await connectClient(gw, ["operator.admin"], "token");
    clients.push(cli);
    const s = await cli.request<SessionInfo>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "exit", "0"],
    });
    assert.equal(s.authorityDeviceId, null);
    const byOwner = await owner.request<SessionInfo>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "exit", "0"],
    });
    assert.equal(byOwner.authorityDeviceId, gw.owner.deviceId);
    const refused = await refusedWith(
      owner.request("device.token.revoke", { deviceId: gw.owner.deviceId, role: "operator" }),
    );
    assert.equal(refused.detailCode, "FORBIDDEN_ACTION");
    await waitEnded(gw, s.id);
    await waitEnded(gw, byOwner.id);
  });
});
