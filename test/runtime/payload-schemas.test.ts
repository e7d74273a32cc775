/**
 * The wire result payloads of `device.pair.*`, `device.token.*`, `sessions.*` and `cron.*` are
 * exactly what their schemas in src/protocol say: each method is called on a real gateway and its
 * JSON payload (as a client receives it) is validated against the schema the CLI reads it with.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import { GatewayClient, GatewayClientError, MemoryDeviceTokenStore } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import {
  CronJobSchema,
  CronListResultSchema,
  CronRemoveResultSchema,
  CronRunResultSchema,
} from "../../src/protocol/cron.js";
import {
  ApproveResultSchema,
  PairListSchema,
  PendingRequestSchema,
  RejectResultSchema,
  RemoveResultSchema,
  RenameResultSchema,
  RevokeResultSchema,
  RotateResultSchema,
  SetupCodeResultSchema,
  type PairList,
} from "../../src/protocol/devices.js";
import { SessionListResultSchema, SessionSchema } from "../../src/protocol/sessions.js";
import { compileValidator } from "../../src/protocol/compile-validator.js";
import { CHILD, connectClient, startRuntimeGateway, waitEnded, type RuntimeGateway } from "./helpers.js";

function conforms(schema: TSchema, payload: unknown, what: string): void {
  const r = compileValidator(schema, 10)(payload);
  assert.ok(r.ok, `${what}: ${r.ok ? "" : r.errors.join("; ")}\n${JSON.stringify(payload)}`);
}

let gw: RuntimeGateway;
let owner: GatewayClient;
before(async () => {
  // Local devices pend instead of being approved silently, so there are requests to resolve.
  gw = await startRuntimeGateway({ autoApproveLocal: false });
  owner = await connectClient(gw, ["operator.admin", "operator.pairing"]);
});
after(async () => {
  await owner.close();
  await gw.dispose();
});

/** A new device asks with the shared token and pends; returns its requestId (seen as an event). */
async function pendingRequest(): Promise<string> {
  const requested = new Promise<unknown>((resolve) =>
    owner.on("event", (e) => {
      if (e.event === "device.pair.requested") resolve(e.payload);
    }),
  );
  const device = new GatewayClient({
    url: gw.url,
    identity: generateIdentity(),
    auth: { token: gw.auth.token },
    deviceTokenStore: new MemoryDeviceTokenStore(),
    client: { id: "cli", mode: "cli" },
    scopes: ["operator.read"],
    reconnect: false,
  });
  await assert.rejects(device.connect(), (err: unknown) => err instanceof GatewayClientError);
  await device.close();
  const payload = await requested;
  conforms(PendingRequestSchema, payload, "device.pair.requested event");
  return (payload as { requestId: string }).requestId;
}

describe("wire payloads match their schemas in src/protocol", () => {
  it("device.pair.* and device.token.* results", async () => {
    const list = await owner.request<PairList>("device.pair.list", {});
    conforms(PairListSchema, list, "device.pair.list");
    assert.ok(list.paired.some((d) => d.owner));

    const first = await pendingRequest();
    const rejected = await owner.request("device.pair.reject", { requestId: first });
    conforms(RejectResultSchema, rejected, "device.pair.reject");

    const requestId = await pendingRequest();
    conforms(PairListSchema, await owner.request("device.pair.list", {}), "device.pair.list with pending");
    const approved = await owner.request<{ device: { deviceId: string } }>("device.pair.approve", {
      requestId,
    });
    conforms(ApproveResultSchema, approved, "device.pair.approve");
    const deviceId = approved.device.deviceId;
    conforms(
      RenameResultSchema,
      await owner.request("device.pair.rename", { deviceId, label: "laptop" }),
      "device.pair.rename",
    );
    conforms(
      RotateResultSchema,
      await owner.request("device.token.rotate", { deviceId, role: "operator", scopes: ["operator.read"] }),
      "device.token.rotate",
    );
    conforms(
      RevokeResultSchema,
      await owner.request("device.token.revoke", { deviceId, role: "operator" }),
      "device.token.revoke",
    );
    conforms(PairListSchema, await owner.request("device.pair.list", {}), "device.pair.list with tokens");
    conforms(
      RemoveResultSchema,
      await owner.request("device.pair.remove", { deviceId }),
      "device.pair.remove",
    );
    conforms(
      SetupCodeResultSchema,
      await owner.request("device.pair.setupCode", { profile: "node" }),
      "device.pair.setupCode",
    );
  });

  it("sessions.* and cron.* results", async () => {
    const spawned = await owner.request<{ id: string }>("sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "exit", "0"],
      scopes: ["operator.read"],
    });
    conforms(SessionSchema, spawned, "sessions.spawn");
    await waitEnded(gw, spawned.id);
    conforms(SessionSchema, await owner.request("sessions.get", { id: spawned.id }), "sessions.get");
    conforms(SessionSchema, await owner.request("sessions.kill", { id: spawned.id }), "sessions.kill");
    conforms(SessionListResultSchema, await owner.request("sessions.list", {}), "sessions.list");
    const failed = await owner.request("sessions.spawn", { command: "/nonexistent/program" });
    conforms(SessionSchema, failed, "sessions.spawn that failed to start");

    const job = await owner.request<{ id: string }>("cron.add", {
      schedule: "0 0 1 1 *",
      command: process.execPath,
      args: [CHILD, "exit", "0"],
      scopes: ["operator.read"],
    });
    conforms(CronJobSchema, job, "cron.add");
    conforms(
      CronJobSchema,
      await owner.request("cron.update", { id: job.id, enabled: false }),
      "cron.update",
    );
    conforms(CronListResultSchema, await owner.request("cron.list", {}), "cron.list");
    const run = await owner.request<{ sessionId: string }>("cron.run", { id: job.id });
    conforms(CronRunResultSchema, run, "cron.run");
    await waitEnded(gw, run.sessionId);
    conforms(CronRemoveResultSchema, await owner.request("cron.remove", { id: job.id }), "cron.remove");
  });
});
