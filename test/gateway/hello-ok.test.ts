import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { helloConstants, helloOkFrame } from "../../src/gateway/hello-ok.js";
import type { Session } from "../../src/gateway/handshake.js";
import { WIRE_EVENTS } from "../../src/protocol/events.js";
import { validateHelloOk } from "../../src/protocol/validate.js";

const base: Session = {
  role: "operator",
  scopes: ["operator.read", "operator.write"],
  authMethod: "device-token",
  client: { id: "cli", version: "1", platform: "linux", mode: "cli" },
  deviceId: "dev",
  protocol: 4,
  legacyNode: false,
  commands: [],
  runtimeJobId: null,
  proxyUser: null,
};

const constants = helloConstants(["health", "status", "devices.list"]);

function parse(session: Session, requestId = "r-1") {
  const text = helloOkFrame({ requestId, version: "9.9.9", connId: "c-1", uptimeMs: 42, session }, constants);
  return JSON.parse(text) as { type: string; id: string; ok: boolean; payload: Record<string, unknown> };
}

describe("hello-ok as text: per-connect members serialized, the gateway's constant ones appended", () => {
  test("a paired operator: every member in place, the constant ones last, and it passes the schema", () => {
    const frame = parse(base);
    assert.deepEqual(frame, {
      type: "res",
      id: "r-1",
      ok: true,
      payload: {
        type: "hello-ok",
        protocol: 4,
        server: { version: "9.9.9", connId: "c-1" },
        snapshot: { uptimeMs: 42, stateVersion: { presence: 0, health: 0 } },
        auth: { method: "device-token", role: "operator", scopes: ["operator.read", "operator.write"] },
        features: {
          methods: ["devices.list", "health", "status"],
          // Every event the gateway sends, but the invoke request addressed to one node.
          events: WIRE_EVENTS.filter((e) => e !== "node.invoke.request"),
        },
        policy: { maxPayload: 25 * 1024 * 1024, maxBufferedBytes: 50 * 1024 * 1024, tickIntervalMs: 30_000 },
      },
    });
    assert.ok(validateHelloOk(frame.payload).ok);
  });

  test("a fresh token is handed over; a setup-code pairing also gets it with its profile", () => {
    const token = { token: "tok-secret", issuedAtMs: 7, scopes: ["operator.read"] };
    const issued = parse({ ...base, deviceToken: token });
    assert.deepEqual(issued.payload.auth, {
      ...(parse(base).payload.auth as object),
      deviceToken: "tok-secret",
      issuedAtMs: 7,
    });
    const setup = parse({ ...base, authMethod: "setup-code", deviceToken: token });
    assert.deepEqual((setup.payload.auth as { deviceTokens: unknown }).deviceTokens, [
      { deviceToken: "tok-secret", role: "operator", scopes: ["operator.read"], issuedAtMs: 7 },
    ]);
    assert.ok(validateHelloOk(setup.payload).ok);
  });

  test("a node hears its surface; text the client chose (its request id) stays a string", () => {
    const nodeSurface = { exposed: ["system.run"], approved: null, pending: null };
    const frame = parse({ ...base, role: "node", scopes: [], nodeSurface }, 'id "with" quotes }}\u2028');
    assert.equal(frame.id, 'id "with" quotes }}\u2028');
    assert.deepEqual(frame.payload.nodeSurface, nodeSurface);
    assert.ok(validateHelloOk(frame.payload).ok);
  });
});
