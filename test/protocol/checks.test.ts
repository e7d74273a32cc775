/**
 * The precompiled checks (checks.ts) accept and refuse exactly what the schemas do, with the same
 * problems listed, and their code is what TypeBox's compiler emits for today's schemas.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHECK_CODE } from "../../src/protocol/check-code.js";
import { CHECK_SCHEMAS, type CheckName } from "../../src/protocol/check-schemas.js";
import { checker } from "../../src/protocol/checks.js";
import { checkCode, compileValidator } from "../../src/protocol/compile-validator.js";
import { checkEventFrame, checkHelloOk, checkResponseFrame } from "../../src/protocol/frame-checks.js";
import { paramsParser } from "../../src/methods/params.js";

const hello = {
  type: "hello-ok",
  protocol: 4,
  server: { version: "1", connId: "c" },
  features: { methods: ["health"], events: ["tick"] },
  snapshot: {},
  auth: { role: "operator", scopes: ["operator.read"] },
  policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs: 1 },
};
const client = { id: "cli", version: "1.0.0", platform: "linux", mode: "cli" };

const samples: unknown[] = [
  null,
  [],
  "res",
  {},
  { type: "req", id: "1", method: "health" },
  { type: "req", id: "", method: "health", extra: 1 },
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
  { minProtocol: 4, maxProtocol: 4, client },
  { minProtocol: 0, maxProtocol: 4, client: { ...client, id: "nobody" }, role: 7 },
  {
    minProtocol: 4,
    maxProtocol: 4,
    client,
    device: { id: "d", publicKey: "k", signature: "s", signedAt: -1 },
  },
  { requestId: "r1" },
  { requestId: "" },
  { deviceId: "d", role: "operator", scopes: ["operator.read"] },
  { deviceId: "d", role: "admin" },
  { deviceId: "d", label: "x".repeat(65) },
  { idleDays: 0, dryRun: "yes" },
  { command: "/bin/true", env: { PATH: "/bin", "1BAD": "x" }, scopes: ["operator.read", "Bad Scope"] },
  { command: "/bin/true", timeoutMs: 1.5, label: "" },
  { status: "running", limit: 1001 },
  { id: "x".repeat(65) },
  { schedule: "* * * * *", command: "/bin/true", missedPolicy: "never", timezone: null },
  { id: "j1", timezone: null, cwd: null, enabled: true },
  { includeDisabled: false, offset: -1 },
  { nodeId: "n", command: "system.run", params: { a: 1 }, timeoutMs: 600_001 },
  { invokeId: "i", ok: true, payloadJSON: null, error: { code: "E", extra: 1 } },
  { nodeId: "n", displayName: "" },
  { event: "e", payloadJSON: 1 },
  { skills: [{ name: "s", description: "d", content: "" }] },
  { tools: [{ pluginId: "p", name: "n", description: "d", mcp: { server: "s" } }] },
  { protocolFeatures: ["a", ""] },
  { profile: "node", ttlMs: 1000, url: "http://x", qr: true },
  { limit: 0, afterId: -1, decisions: [] },
  { bin: "git" },
  { bins: [] },
  { bin: "git", bins: ["git"] },
  { command: ["uname", "-a"], env: { LANG: "C" }, timeoutMs: 1000 },
  { command: [], cwd: "", env: { A: 1 } },
];

const names = Object.keys(CHECK_SCHEMAS) as CheckName[];

describe("precompiled checks", () => {
  it("hold the code TypeBox compiles from today's schemas (else: npm run schemas)", () => {
    assert.deepEqual(
      Object.keys(CHECK_CODE).sort(),
      [...names].sort(),
      "check-code.ts is stale: run npm run schemas",
    );
    for (const name of names) {
      assert.equal(CHECK_CODE[name], checkCode(CHECK_SCHEMAS[name]), `${name} is stale: run npm run schemas`);
    }
  });

  it("give the full validators' result, problems included, for valid and invalid values", () => {
    let accepted = 0;
    for (const name of names) {
      const check = checker(name);
      const full = compileValidator(CHECK_SCHEMAS[name]);
      for (const value of samples) {
        const got = check(value);
        assert.deepEqual(got, full(value), `${name}: ${JSON.stringify(value)}`);
        if (got.ok) accepted++;
      }
    }
    // The samples exercise both answers, not only refusals.
    assert.ok(accepted >= 10, `only ${accepted} samples accepted`);
  });

  it("keep the client's frame checks' answers", () => {
    assert.equal(checkHelloOk(hello).ok, true);
    assert.deepEqual(checkHelloOk({ ...hello, protocol: "4" }), {
      ok: false,
      errors: ["at /protocol: Expected integer"],
    });
    assert.equal(checkResponseFrame({ type: "res", id: "1", ok: true }).ok, true);
    assert.equal(checkEventFrame({ type: "event", event: "" }).ok, false);
  });

  it("refuse method params with INVALID_PARAMS naming the offending path", () => {
    const parse = paramsParser("DeviceRenameParams");
    assert.deepEqual(parse({ deviceId: "d", label: "kitchen" }), { deviceId: "d", label: "kitchen" });
    assert.throws(
      () => parse({ deviceId: "d", label: "" }),
      (err: Error & { code?: string }) =>
        err.code === "INVALID_PARAMS" &&
        err.message === "invalid params: at /label: Expected string length greater or equal to 1",
    );
  });
});
