/**
 * The methods OpenClaw's clients call answer in OpenClaw's shapes (issue 13 item 2): `status` is a
 * superset of OpenClaw's status summary, `system-presence`, `config.get` (no secret in it),
 * `agents.list`, `channels.status`, `cron.list` paging, and the reports an OpenClaw node host sends
 * after connecting. Each payload is validated against its schema in src/protocol as a client gets it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import { GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { CronListResultSchema, type CronListResult } from "../../src/protocol/cron.js";
import {
  AgentsListResultSchema,
  ChannelsStatusResultSchema,
  ConfigGetResultSchema,
  NodeEventResultSchema,
  OpenClawStatusSummarySchema,
  SystemPresenceResultSchema,
  type PresenceEntry,
} from "../../src/protocol/openclaw-compat.js";
import { compileValidator } from "../../src/protocol/compile-validator.js";
import { connectClient, startRuntimeGateway, type RuntimeGateway } from "../runtime/helpers.js";

function conforms(schema: TSchema, payload: unknown, what: string): void {
  const r = compileValidator(schema, 10)(payload);
  assert.ok(r.ok, `${what}: ${r.ok ? "" : r.errors.join("; ")}\n${JSON.stringify(payload)}`);
}

let gw: RuntimeGateway;
let owner: GatewayClient;
before(async () => {
  gw = await startRuntimeGateway();
  owner = await connectClient(gw, ["operator.admin"]);
});
after(async () => {
  await owner.close();
  await gw.dispose();
});

describe("OpenClaw's read-only views on Gatehouse", () => {
  it("status carries OpenClaw's summary (sessions.byAgent, tasks, heartbeat) beside Gatehouse's own fields", async () => {
    const status = await owner.request<Record<string, unknown>>("status", {
      includeChannelSummary: false,
      includeCliProjection: true,
    });
    conforms(OpenClawStatusSummarySchema, status, "status");
    const sessions = status.sessions as { byAgent: unknown[]; count: number };
    assert.deepEqual(sessions.byAgent, []);
    assert.equal(sessions.count, 0);
    assert.equal(typeof (status.gateway as { version: string }).version, "string");
    assert.equal(status.runtimeVersion, (status.gateway as { version: string }).version);
    assert.equal((status.self as { deviceId: string }).deviceId, gw.owner.deviceId);
  });

  it("system-presence lists the gateway itself, then each open session", async () => {
    const presence = await owner.request<PresenceEntry[]>("system-presence");
    conforms(SystemPresenceResultSchema, presence, "system-presence");
    assert.equal(presence[0]?.mode, "gateway");
    assert.equal(presence[0]?.reason, "self");
    assert.ok(presence.some((p) => p.deviceId === gw.owner.deviceId && p.roles?.includes("operator")));
  });

  it("config.get returns the gateway's settings and never its token", async () => {
    const config = await owner.request<{ config: { gateway: { port: number; auth: { mode: string } } } }>(
      "config.get",
      {},
    );
    conforms(ConfigGetResultSchema, config, "config.get");
    assert.equal(config.config.gateway.port, Number(new URL(gw.url).port));
    assert.equal(config.config.gateway.auth.mode, "token");
    assert.ok(!JSON.stringify(config).includes(gw.auth.token!), "the shared token leaked into config.get");
  });

  it("agents.list and channels.status answer empty lists, not unknown method", async () => {
    conforms(AgentsListResultSchema, await owner.request("agents.list", {}), "agents.list");
    conforms(ChannelsStatusResultSchema, await owner.request("channels.status", {}), "channels.status");
  });

  it("each needs operator.read, like on OpenClaw", async () => {
    const bare = await connectClient(gw, ["operator.pairing"]);
    try {
      for (const method of ["system-presence", "config.get", "agents.list", "channels.status"]) {
        const err = await bare.request(method, {}).then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(err instanceof GatewayClientError, method);
        assert.match(err.message, /missing scope: operator\.read/, method);
      }
    } finally {
      await bare.close();
    }
  });
});

describe("cron.list paging (OpenClaw's `cron list`)", () => {
  it("takes includeDisabled, limit and offset, and says where the next page starts", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await owner.request<{ id: string }>("cron.add", {
        schedule: "0 3 * * *",
        name: `job-${i}`,
        command: "/bin/true",
        enabled: i !== 1,
      });
      ids.push(job.id);
    }
    const all = await owner.request<CronListResult>("cron.list", {});
    conforms(CronListResultSchema, all, "cron.list");
    assert.equal(all.total, 3);
    const enabled = await owner.request<CronListResult>("cron.list", {
      includeDisabled: false,
      limit: 1,
      offset: 0,
    });
    conforms(CronListResultSchema, enabled, "cron.list page");
    assert.equal(enabled.total, 2);
    assert.equal(enabled.jobs.length, 1);
    assert.equal(enabled.hasMore, true);
    assert.equal(enabled.nextOffset, 1);
    const rest = await owner.request<CronListResult>("cron.list", { includeDisabled: false, offset: 1 });
    assert.deepEqual(
      [...enabled.jobs, ...rest.jobs].map((j) => j.id),
      all.jobs.filter((j) => j.enabled).map((j) => j.id),
    );
    assert.equal(rest.hasMore, false);
    assert.equal(rest.nextOffset, null);
    const refused = await owner.request("cron.list", { limit: 0 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof GatewayClientError);
    assert.match(refused.message, /invalid params/);
    for (const id of ids) await owner.request("cron.remove", { id });
  });
});

describe("an OpenClaw node host's reports", () => {
  it("node.event, node.skills.update, node.pluginTools.update and node.runnerInventory.update are acknowledged", async () => {
    const node = new GatewayClient({
      url: gw.url,
      identity: generateIdentity(),
      auth: { token: gw.auth.token },
      role: "node",
      client: { id: "node-host", mode: "node" },
    });
    await node.connect();
    try {
      assert.equal(node.hello?.auth.role, "node");
      const event = await node.request("node.event", { event: "node.stats", payloadJSON: "{}" });
      conforms(NodeEventResultSchema, event, "node.event");
      assert.deepEqual(event, {
        ok: true,
        event: "node.stats",
        handled: false,
        reason: "gatehouse-has-no-node-event-consumers",
      });
      const skills = [{ name: "notes", description: "takes notes", content: "# notes" }];
      assert.deepEqual(
        (await node.request<{ skills: unknown }>("node.skills.update", { skills })).skills,
        skills,
      );
      assert.deepEqual(
        (await node.request<{ tools: unknown[] }>("node.pluginTools.update", { tools: [] })).tools,
        [],
      );
      const inv = await node.request<{ nodeId: string }>("node.runnerInventory.update", {
        protocolFeatures: [],
      });
      assert.match(inv.nodeId, /^[0-9a-f]{64}$/);
      const bad = await node.request("node.skills.update", { skills: "none" }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(bad instanceof GatewayClientError);
    } finally {
      await node.close();
    }
    // Node reports are for nodes: an operator may not send them.
    const err = await owner.request("node.event", { event: "x" }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayClientError);
  });
});
