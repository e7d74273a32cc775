import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  canonicalizeConnectParams,
  validateConnectParams,
  validateEventFrame,
  validateHelloOk,
  validateRequestFrame,
  validateResponseFrame,
} from "../../src/protocol/validate.js";
import { GATEWAY_CLIENT_IDS, GATEWAY_CLIENT_MODES } from "../../src/protocol/client-info.js";

type Json = Record<string, unknown>;

/** Connect params with every optional field filled in. */
function fullParams(): Json {
  return {
    minProtocol: 3,
    maxProtocol: 4,
    client: {
      id: "openclaw-macos",
      displayName: "Studio Mac",
      version: "2026.7.1",
      platform: "macos",
      deviceFamily: "Mac",
      modelIdentifier: "Mac14,2",
      mode: "ui",
      instanceId: "inst-1",
    },
    caps: ["tool-events", "approvals"],
    commands: ["system.run"],
    permissions: { camera: true, screen: false },
    pathEnv: "/usr/local/bin:/usr/bin",
    role: "operator",
    scopes: ["operator.admin", "operator.read"],
    device: {
      id: "a".repeat(64),
      publicKey: "A".repeat(43),
      signature: "B".repeat(86),
      signedAt: 1700000000000,
      nonce: "nonce-abc",
    },
    auth: {
      token: "tok",
      bootstrapToken: "boot",
      deviceToken: "dev",
      password: "pw",
      approvalRuntimeToken: "art",
      agentRuntimeIdentityToken: "arit",
    },
    locale: "en-US",
    userAgent: "openclaw-macos/2026.7.1",
  };
}

function minimalParams(): Json {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "cli", version: "1.0.0", platform: "linux", mode: "cli" },
  };
}

/** Applies `edit` to a fresh full params object and returns the validation errors (asserting rejection). */
function rejectionOf(edit: (p: Json) => void): string[] {
  const params = fullParams();
  edit(params);
  const result = validateConnectParams(params);
  assert.equal(result.ok, false, "expected rejection");
  assert.ok(!result.ok);
  assert.ok(result.errors.length > 0 && result.errors.length <= 5);
  for (const e of result.errors) assert.match(e, /^at \S*: /);
  return result.errors;
}

const sub = (p: Json, key: string) => p[key] as Json;

describe("validateConnectParams", () => {
  test("accepts a full params object with every optional field", () => {
    const params = fullParams();
    const result = validateConnectParams(params);
    assert.deepEqual(result, { ok: true, value: params });
  });

  test("accepts minimal params", () => {
    assert.equal(validateConnectParams(minimalParams()).ok, true);
  });

  test("accepts every closed client id and every client mode", () => {
    for (const id of GATEWAY_CLIENT_IDS) {
      const p = minimalParams();
      sub(p, "client").id = id;
      assert.equal(validateConnectParams(p).ok, true, id);
    }
    for (const mode of GATEWAY_CLIENT_MODES) {
      const p = minimalParams();
      sub(p, "client").mode = mode;
      assert.equal(validateConnectParams(p).ok, true, mode);
    }
  });

  test("rejects an unknown top-level field", () => {
    rejectionOf((p) => (p.nodeId = "n-1"));
  });

  test("rejects an unknown field inside client", () => {
    rejectionOf((p) => (sub(p, "client").buildId = "b"));
  });

  test("rejects an unknown field inside device", () => {
    rejectionOf((p) => (sub(p, "device").instanceId = "i"));
  });

  test("rejects an unknown field inside auth", () => {
    rejectionOf((p) => (sub(p, "auth").sessionToken = "s"));
  });

  test("rejects an unknown client id (the stale docs' 'ios-node')", () => {
    rejectionOf((p) => (sub(p, "client").id = "ios-node"));
  });

  test("rejects an unknown client mode (the stale docs' 'operator')", () => {
    rejectionOf((p) => (sub(p, "client").mode = "operator"));
  });

  test("rejects auth.deviceToken: null with a message naming the path", () => {
    const errors = rejectionOf((p) => (sub(p, "auth").deviceToken = null));
    assert.ok(
      errors.some((e) => e.includes("at /auth/deviceToken")),
      errors.join("; "),
    );
  });

  test("rejects a negative device.signedAt", () => {
    const errors = rejectionOf((p) => (sub(p, "device").signedAt = -1));
    assert.ok(errors.some((e) => e.includes("/device/signedAt")));
  });

  test("rejects a fractional device.signedAt", () => {
    rejectionOf((p) => (sub(p, "device").signedAt = 1700000000000.5));
  });

  test("rejects missing required client fields", () => {
    rejectionOf((p) => delete sub(p, "client").version);
    rejectionOf((p) => delete sub(p, "client").platform);
    rejectionOf((p) => delete sub(p, "device").nonce);
    rejectionOf((p) => delete p.client);
    rejectionOf((p) => delete p.minProtocol);
  });

  test("rejects wrongly typed fields", () => {
    rejectionOf((p) => (p.minProtocol = "4"));
    rejectionOf((p) => (p.maxProtocol = 0));
    rejectionOf((p) => (p.scopes = "operator.admin"));
    rejectionOf((p) => (p.scopes = ["operator.read", 7]));
    rejectionOf((p) => (p.permissions = { camera: "yes" }));
    rejectionOf((p) => (p.auth = null));
  });

  test("rejects non-objects", () => {
    for (const v of [null, undefined, "connect", 4, [], true]) {
      assert.equal(validateConnectParams(v).ok, false, String(v));
    }
  });
});

describe("canonicalizeConnectParams", () => {
  test("makes client.id 'CLI' valid without touching the input", () => {
    const input = minimalParams();
    sub(input, "client").id = "CLI";
    const snapshot = structuredClone(input);
    assert.equal(validateConnectParams(input).ok, false);
    const canonical = canonicalizeConnectParams(input);
    const result = validateConnectParams(canonical);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.client.id, "cli");
    assert.deepEqual(input, snapshot);
    assert.equal(sub(input, "client").id, "CLI");
  });

  test("trims and lowercases mixed-case ids", () => {
    const input = minimalParams();
    sub(input, "client").id = " Gateway-Client ";
    assert.equal(
      (canonicalizeConnectParams(input) as { client: { id: string } }).client.id,
      "gateway-client",
    );
  });

  test("an unknown id stays unknown after canonicalization", () => {
    const input = minimalParams();
    sub(input, "client").id = "IOS-NODE";
    assert.equal(validateConnectParams(canonicalizeConnectParams(input)).ok, false);
  });

  test("does not canonicalize the mode (modes are not case-insensitive)", () => {
    const input = minimalParams();
    sub(input, "client").mode = "CLI";
    assert.equal(validateConnectParams(canonicalizeConnectParams(input)).ok, false);
  });

  test("returns non-object input unchanged", () => {
    for (const v of [null, "x", 4, [1]]) assert.equal(canonicalizeConnectParams(v), v);
    const noClient = { minProtocol: 4 };
    assert.equal(canonicalizeConnectParams(noClient), noClient);
    const numericId = { client: { id: 7 } };
    assert.equal(canonicalizeConnectParams(numericId), numericId);
  });
});

describe("validateRequestFrame", () => {
  test("accepts a request with and without params", () => {
    assert.equal(validateRequestFrame({ type: "req", id: "1", method: "connect", params: {} }).ok, true);
    assert.equal(validateRequestFrame({ type: "req", id: "abc", method: "health" }).ok, true);
  });

  test("rejects an empty id", () => {
    const r = validateRequestFrame({ type: "req", id: "", method: "health" });
    assert.ok(!r.ok);
    assert.ok(r.errors.some((e) => e.startsWith("at /id")));
  });

  test("rejects a missing or empty method", () => {
    assert.equal(validateRequestFrame({ type: "req", id: "1" }).ok, false);
    assert.equal(validateRequestFrame({ type: "req", id: "1", method: "" }).ok, false);
  });

  test("rejects extra fields", () => {
    assert.equal(validateRequestFrame({ type: "req", id: "1", method: "health", seq: 1 }).ok, false);
  });

  test("rejects other frame types and wrongly typed ids", () => {
    assert.equal(validateRequestFrame({ type: "res", id: "1", method: "health" }).ok, false);
    assert.equal(validateRequestFrame({ type: "req", id: 1, method: "health" }).ok, false);
    assert.equal(validateRequestFrame(null).ok, false);
  });
});

describe("response and event frames", () => {
  test("response frames are closed objects", () => {
    assert.equal(validateResponseFrame({ type: "res", id: "1", ok: true, payload: { a: 1 } }).ok, true);
    assert.equal(validateResponseFrame({ type: "res", id: "1", ok: true, extra: 1 }).ok, false);
    assert.equal(
      validateResponseFrame({ type: "res", id: "1", ok: false, error: { code: "X", message: "m", extra: 1 } })
        .ok,
      false,
    );
  });

  test("event frames need a non-empty event name", () => {
    assert.equal(validateEventFrame({ type: "event", event: "tick", seq: 3 }).ok, true);
    assert.equal(validateEventFrame({ type: "event", event: "" }).ok, false);
    assert.equal(validateEventFrame({ type: "event", event: "tick", seq: -1 }).ok, false);
  });
});

describe("validateHelloOk", () => {
  function minimalHello(): Json {
    return {
      type: "hello-ok",
      protocol: 4,
      server: { version: "0.1.0", connId: "c-1" },
      features: { methods: ["health"], events: ["tick"] },
      snapshot: {},
      auth: { role: "operator", scopes: [] },
      policy: { maxPayload: 1048576, maxBufferedBytes: 4194304, tickIntervalMs: 15000 },
    };
  }

  test("accepts a minimal hello-ok", () => {
    assert.equal(validateHelloOk(minimalHello()).ok, true);
  });

  test("accepts issued device tokens", () => {
    const h = minimalHello();
    h.auth = {
      role: "operator",
      scopes: ["operator.read"],
      deviceToken: "dt",
      issuedAtMs: 1700000000000,
      deviceTokens: [{ deviceToken: "dt2", role: "node", scopes: [], issuedAtMs: 1 }],
    };
    assert.equal(validateHelloOk(h).ok, true);
  });

  test("rejects a hello-ok without auth, or with the wrong type", () => {
    const noAuth = minimalHello();
    delete noAuth.auth;
    assert.equal(validateHelloOk(noAuth).ok, false);
    assert.equal(validateHelloOk({ ...minimalHello(), type: "hello" }).ok, false);
  });

  test("rejects an issued token entry with unknown fields", () => {
    const h = minimalHello();
    h.auth = {
      role: "operator",
      scopes: [],
      deviceTokens: [{ deviceToken: "d", role: "node", scopes: [], issuedAtMs: 1, secret: "x" }],
    };
    assert.equal(validateHelloOk(h).ok, false);
  });
});
