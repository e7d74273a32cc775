/**
 * S04 and C25 for cron: a cron run is a session with a runtime token that calls back and succeeds,
 * before and after a gateway restart; a job never runs with more than its creator held.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GatewayClient } from "../../src/client/index.js";
import type { CronJobView } from "../../src/methods/cron.js";
import type { RuntimeCaller } from "../../src/methods/params.js";
import type { SessionView } from "../../src/methods/sessions.js";
import { missedSince } from "../../src/runtime/cron.js";
import {
  assertSandboxed,
  CHILD,
  type ChildNamespaces,
  connectClient,
  refusal,
  eventually,
  resultOf,
  sleep,
  startRuntimeGateway,
  waitEnded,
  type RuntimeGateway,
} from "./helpers.js";

/** A schedule that will not fire during a test run (midnight, January 1st). */
const RARELY = "0 0 1 1 *";
const EVERY_SECOND = "* * * * * *";

let gw: RuntimeGateway;
let stateDir: string;
let admin: GatewayClient;
before(async () => {
  gw = await startRuntimeGateway();
  stateDir = gw.stateDir;
  admin = await connectClient(gw, ["operator.admin"]);
});
after(async () => {
  await admin.close();
  await gw.dispose();
});

function addJob(client: GatewayClient, extra: Record<string, unknown> = {}): Promise<CronJobView> {
  return client.request<CronJobView>("cron.add", {
    schedule: RARELY,
    command: process.execPath,
    args: [CHILD, "callback"],
    ...extra,
  });
}

interface Callback {
  auth: { method: string; scopes: string[] };
  health: boolean;
  envScopes: string;
  namespaces: ChildNamespaces;
}

describe("S04 — cron runs call back into the gateway and succeed", () => {
  it("S04: a scheduled run is a sandboxed session with a runtime token holding exactly the job's scopes", async () => {
    const job = await addJob(admin, {
      schedule: EVERY_SECOND,
      scopes: ["operator.read"],
      name: "every-second",
    });
    assert.deepEqual(job.scopes, ["operator.read"]);
    assert.deepEqual(job.creatorScopes, ["operator.admin"]);
    assert.equal(job.createdBy, `device:${gw.owner.deviceId}`);
    assert.equal(job.missedPolicy, "skip");
    assert.ok(job.nextRunAtMs !== null && job.nextRunAtMs <= Date.now() + 1_500);
    const run = await eventually(
      () => gw.store.sessions.list({ cronJobId: job.id }).find((s) => s.status !== "running"),
      10_000,
      "a finished scheduled run",
    );
    await admin.request("cron.update", { id: job.id, enabled: false });
    assert.equal(run.status, "exited", run.stderrTail ?? "");
    assert.equal(run.exitCode, 0);
    assert.equal(run.createdBy, `cron:${job.id}`);
    assert.equal(run.label, "every-second");
    assert.deepEqual(run.scopes, ["operator.read"]);
    const seen = resultOf<Callback>(run);
    assert.equal(seen.auth.method, "runtime-token");
    assert.deepEqual(seen.auth.scopes, ["operator.read"], "the run held exactly the job's stored scopes");
    assert.equal(seen.envScopes, "operator.read");
    assert.equal(seen.health, true);
    assertSandboxed(seen);
    const stored = gw.store.cron.get(job.id)!;
    assert.notEqual(stored.lastRunAtMs, null);
    assert.notEqual(stored.lastSessionId, null);
  });

  it("S04: `cron.run` runs a job now and returns its session, which calls back", async () => {
    const job = await addJob(admin, { scopes: ["operator.read"] });
    const res = await admin.request<{ jobId: string; sessionId: string; session: SessionView }>("cron.run", {
      id: job.id,
    });
    assert.equal(res.jobId, job.id);
    assert.equal(res.session.id, res.sessionId);
    assert.equal(res.session.cronJobId, job.id);
    const ended = await waitEnded(gw, res.sessionId);
    assert.equal(ended.exitCode, 0, ended.stderrTail ?? "");
    assert.deepEqual(resultOf<Callback>(ended).auth.scopes, ["operator.read"]);
    assertSandboxed(resultOf<Callback>(ended));
    const listed = (await admin.request<{ jobs: CronJobView[] }>("cron.list", {})).jobs.find(
      (j) => j.id === job.id,
    )!;
    assert.equal(listed.lastSessionId, res.sessionId);
  });

  it("S04: after a gateway restart jobs persist, cron.run and scheduled runs still call back", async () => {
    const manual = await addJob(admin, { scopes: ["operator.read"], name: "survives" });
    await admin.close();
    await gw.stop();
    gw = await startRuntimeGateway({ stateDir });
    admin = await connectClient(gw, ["operator.admin"]);
    const { jobs } = await admin.request<{ jobs: CronJobView[] }>("cron.list", {});
    const again = jobs.find((j) => j.id === manual.id)!;
    assert.equal(again.name, "survives");
    assert.deepEqual(again.scopes, ["operator.read"]);
    assert.deepEqual(again.creatorScopes, ["operator.admin"]);

    const res = await admin.request<{ sessionId: string }>("cron.run", { id: manual.id });
    const ended = await waitEnded(gw, res.sessionId);
    assert.equal(ended.exitCode, 0, ended.stderrTail ?? "");
    assert.equal(resultOf<Callback>(ended).health, true);
    assertSandboxed(resultOf<Callback>(ended));

    const scheduled = await addJob(admin, { schedule: EVERY_SECOND, scopes: ["operator.read"] });
    const run = await eventually(
      () => gw.store.sessions.list({ cronJobId: scheduled.id }).find((s) => s.status !== "running"),
      10_000,
      "a scheduled run after restart",
    );
    await admin.request("cron.remove", { id: scheduled.id });
    assert.equal(run.exitCode, 0, run.stderrTail ?? "");
    assert.equal(resultOf<Callback>(run).auth.method, "runtime-token");
    assertSandboxed(resultOf<Callback>(run));
  });
});

describe("S04 — runs missed while the gateway was down follow the stated policy", () => {
  it("S04: run-once runs a job once at start when a scheduled time passed; skip does not", async () => {
    const hourly = "0 * * * *";
    const runOnce = await addJob(admin, {
      schedule: hourly,
      missedPolicy: "run-once",
      scopes: ["operator.read"],
    });
    const skip = await addJob(admin, { schedule: hourly, missedPolicy: "skip", scopes: ["operator.read"] });
    await admin.close();
    await gw.stop();
    // The gateway was "down" for three hours: both jobs last ran (or were created) back then.
    {
      const { openStore } = await import("../../src/store/db.js");
      const { join } = await import("node:path");
      const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
      const threeHoursAgo = Date.now() - 3 * 3_600_000;
      for (const id of [runOnce.id, skip.id]) {
        store.cron.update({ ...store.cron.get(id)!, createdAtMs: threeHoursAgo, lastRunAtMs: threeHoursAgo });
      }
      assert.notEqual(missedSince(store.cron.get(runOnce.id)!, Date.now()), null);
      store.close();
    }
    gw = await startRuntimeGateway({ stateDir });
    admin = await connectClient(gw, ["operator.admin"]);
    const run = await eventually(
      () => gw.store.sessions.list({ cronJobId: runOnce.id }).find((s) => s.status !== "running"),
      10_000,
      "the missed run",
    );
    assert.equal(run.exitCode, 0, run.stderrTail ?? "");
    await sleep(300);
    assert.equal(
      gw.store.sessions.list({ cronJobId: runOnce.id }).length,
      1,
      "once, not once per missed hour",
    );
    assert.equal(gw.store.sessions.list({ cronJobId: skip.id }).length, 0, "skip replays nothing");
    assert.ok(gw.store.cron.get(runOnce.id)!.lastRunAtMs! > Date.now() - 60_000);
    for (const id of [runOnce.id, skip.id]) await admin.request("cron.remove", { id });
  });

  it("missedSince: null when no scheduled time passed since the last run", () => {
    const now = Date.UTC(2026, 0, 1, 12, 30);
    const job = {
      ...gw.store.cron.list()[0]!,
      schedule: "0 * * * *",
      timezone: "UTC",
      lastRunAtMs: Date.UTC(2026, 0, 1, 12, 0),
    };
    assert.equal(missedSince(job, now), null);
    assert.equal(missedSince(job, Date.UTC(2026, 0, 1, 13, 0, 1)), Date.UTC(2026, 0, 1, 13, 0));
  });
});

describe("C25 — scheduled work cannot launder privileges", () => {
  const creator = (scopes: string[]): RuntimeCaller => ({
    scopes,
    actor: "test",
    runtimeJobId: null,
    deviceId: null,
  });

  it("C25: a non-admin caller cannot create a cron job at all (cron.add needs operator.admin)", async () => {
    const writer = await connectClient(gw, ["operator.write"], "token");
    try {
      const err = await refusal(addJob(writer, { scopes: ["operator.admin"] }));
      assert.equal(err.detailCode, "MISSING_SCOPE");
      const list = await refusal(writer.request("cron.run", { id: "cron_x" }));
      assert.equal(list.detailCode, "MISSING_SCOPE");
    } finally {
      await writer.close();
    }
  });

  it("C25: a job's scopes must be within its creator's: write cannot schedule admin work", () => {
    assert.throws(
      () =>
        gw.runtime.cron.add(
          { schedule: RARELY, command: process.execPath, scopes: ["operator.admin"] },
          creator(["operator.write"]),
        ),
      (err: { code: string; details: { missingScopes: string[] } }) => {
        assert.equal(err.code, "FORBIDDEN_ACTION");
        assert.deepEqual(err.details.missingScopes, ["operator.admin"]);
        return true;
      },
    );
    const job = gw.runtime.cron.add(
      { schedule: RARELY, command: process.execPath },
      creator(["operator.write"]),
    );
    assert.deepEqual(job.scopes, ["operator.write"], "default: the creator's scopes");
    assert.deepEqual(job.creatorScopes, ["operator.write"]);
    gw.runtime.cron.remove(job.id, creator([]));
  });

  it("C25: the ceiling is enforced at execution: a job edited in the store beyond its creator's scopes does not run", async () => {
    const job = gw.runtime.cron.add(
      { schedule: RARELY, command: process.execPath, args: [CHILD, "callback"], scopes: ["operator.read"] },
      creator(["operator.write"]),
    );
    // Someone widens the job's scopes behind the gateway's back.
    gw.store.cron.update({ ...gw.store.cron.get(job.id)!, scopes: ["operator.admin"] });
    const before = gw.store.sessions.list({ cronJobId: job.id }).length;
    const err = await refusal(admin.request("cron.run", { id: job.id }));
    assert.equal(err.detailCode, "FORBIDDEN_ACTION");
    assert.deepEqual((err.details as { missingScopes: string[] }).missingScopes, ["operator.admin"]);
    assert.equal(gw.store.sessions.list({ cronJobId: job.id }).length, before, "no session was started");
    gw.runtime.cron.remove(job.id, creator([]));
  });

  it("C25: an update may narrow a job's scopes but never widen them past the creator's", async () => {
    const job = gw.runtime.cron.add(
      { schedule: RARELY, command: process.execPath, scopes: ["operator.write"] },
      creator(["operator.write"]),
    );
    // Even an admin cannot widen it: the ceiling is the creator's, not the editor's.
    const widen = await refusal(admin.request("cron.update", { id: job.id, scopes: ["operator.admin"] }));
    assert.equal(widen.detailCode, "FORBIDDEN_ACTION");
    const narrowed = await admin.request<CronJobView>("cron.update", {
      id: job.id,
      scopes: ["operator.read"],
    });
    assert.deepEqual(narrowed.scopes, ["operator.read"]);
    assert.deepEqual(narrowed.creatorScopes, ["operator.write"]);
    // An editor must hold what the job runs with.
    assert.throws(
      () => gw.runtime.cron.update({ id: job.id, command: "/bin/sh" }, creator([])),
      (err: { code: string }) => err.code === "FORBIDDEN_ACTION",
    );
    await admin.request("cron.remove", { id: job.id });
  });
});

describe("cron — params", () => {
  it("an invalid expression, time zone or never-firing schedule is INVALID_PARAMS naming the field", async () => {
    for (const [params, re] of [
      [{ schedule: "bogus" }, /^schedule: invalid cron expression "bogus"/],
      [{ schedule: "61 * * * *" }, /^schedule: invalid cron expression/],
      [{ schedule: "0 0 30 2 *" }, /^schedule: .* never fires/],
      [{ timezone: "Mars/Olympus" }, /^timezone: "Mars\/Olympus" is not a known IANA time zone/],
      [{ missedPolicy: "replay-all" }, /missedPolicy/],
      [{ scopes: ["NOT VALID"] }, /scopes/],
    ] as const) {
      const err = await refusal(addJob(admin, params));
      assert.equal(err.detailCode, "INVALID_PARAMS", JSON.stringify(params));
      assert.match(err.message, re);
    }
  });

  it("unknown ids are INVALID_PARAMS; remove deletes the job", async () => {
    for (const method of ["cron.run", "cron.remove", "cron.update"]) {
      const err = await refusal(admin.request(method, { id: "cron_nope" }));
      assert.equal(err.detailCode, "INVALID_PARAMS", method);
    }
    const job = await addJob(admin);
    assert.deepEqual(await admin.request("cron.remove", { id: job.id }), { id: job.id, removed: true });
    assert.equal(gw.store.cron.get(job.id), null);
  });
});
