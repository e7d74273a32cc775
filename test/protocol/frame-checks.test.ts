/**
 * The client's frame checks (frame-checks.ts) accept and refuse exactly what the schemas do, with
 * the same problems listed, and their compiled code is what TypeBox emits for today's schemas.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as code from "../../src/protocol/frame-check-code.js";
import { FRAME_CHECK_SCHEMAS, frameCheckCode } from "../../src/protocol/frame-check-schemas.js";
import { checkEventFrame, checkHelloOk, checkResponseFrame } from "../../src/protocol/frame-checks.js";
import { validateEventFrame, validateHelloOk, validateResponseFrame } from "../../src/protocol/validate.js";

const hello = {
  type: "hello-ok",
  protocol: 4,
  server: { version: "1", connId: "c" },
  features: { methods: ["health"], events: ["tick"] },
  snapshot: {},
  auth: { role: "operator", scopes: ["operator.read"] },
  policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs: 1 },
};

const samples: unknown[] = [
  null,
  [],
  "res",
  {},
  { type: "res", id: "1", ok: true, payload: { ok: true } },
  { type: "res", id: "1", ok: false, error: { code: "FORBIDDEN", message: "no", retryAfterMs: 5 } },
  { type: "res", id: "1", ok: false, error: { code: "FORBIDDEN", message: "no", retryAfterMs: -1 } },
  { type: "res", id: "1", ok: "yes" },
  { type: "res", id: "1", ok: true, extra: 1 },
  { type: "event", event: "tick", payload: { ts: 1 }, seq: 3 },
  { type: "event", event: "" },
  { type: "event", event: "tick", stateVersion: { presence: 1, other: 2 } },
  hello,
  { ...hello, protocol: "4" },
  { ...hello, features: { methods: [1], events: [] } },
  { ...hello, unknown: true },
  { ...hello, auth: { role: "operator" } },
];

describe("client frame checks", () => {
  it("hold the code TypeBox compiles from today's schemas (else: npm run schemas)", () => {
    for (const [name, schema] of Object.entries(FRAME_CHECK_SCHEMAS)) {
      assert.equal(
        (code as Record<string, string>)[name],
        frameCheckCode(schema),
        `${name} is stale: run npm run schemas`,
      );
    }
  });

  it("give the full validators' result for valid and invalid frames", () => {
    for (const value of samples) {
      assert.deepEqual(checkResponseFrame(value), validateResponseFrame(value), JSON.stringify(value));
      assert.deepEqual(checkEventFrame(value), validateEventFrame(value), JSON.stringify(value));
      assert.deepEqual(checkHelloOk(value), validateHelloOk(value), JSON.stringify(value));
    }
    assert.equal(checkHelloOk(hello).ok, true);
    assert.equal(checkHelloOk({ ...hello, protocol: "4" }).ok, false);
  });
});
