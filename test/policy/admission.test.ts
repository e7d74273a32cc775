import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  decide,
  type AdmissionFacts,
  type AuthFailureCode,
  type Decision,
  type SharedAuthResult,
} from "../../src/policy/admission.js";
import { resolveLocality, type Locality, type TransportFacts } from "../../src/policy/locality.js";
import { ERROR_TABLE } from "../../src/protocol/errors.js";

const ADMIN_ETC = ["operator.admin", "operator.read", "operator.write"];

/** Locality as the gateway computes it from what it observed (no hand-made flags). */
function observed(overrides: Partial<TransportFacts> = {}, trustedProxies: string[] = []): Locality {
  return resolveLocality(
    {
      peerAddress: "127.0.0.1",
      host: "127.0.0.1:18789",
      origin: null,
      forwardedFor: null,
      hasProxyHeaders: false,
      ...overrides,
    },
    trustedProxies,
  );
}

const LOCAL = observed();
const LOCAL_BROWSER = observed({ origin: "https://evil.example" });
const REMOTE = observed({ peerAddress: "203.0.113.7", host: "gw.example:18789" });

const TOKEN_OK: SharedAuthResult = { ok: true, method: "token" };
const PASSWORD_OK: SharedAuthResult = { ok: true, method: "password" };
const NONE_OK: SharedAuthResult = { ok: true, method: "none" };

const AUTH_FAILURES: AuthFailureCode[] = [
  "AUTH_TOKEN_MISSING",
  "AUTH_TOKEN_MISMATCH",
  "AUTH_TOKEN_NOT_CONFIGURED",
  "AUTH_PASSWORD_MISSING",
  "AUTH_PASSWORD_MISMATCH",
  "AUTH_PASSWORD_NOT_CONFIGURED",
];

const DEVICE = { deviceId: "a".repeat(64) };

const LANES = {
  cli: { id: "cli", mode: "cli" },
  backend: { id: "gateway-client", mode: "backend" },
  controlUi: { id: "openclaw-control-ui", mode: "webchat" },
  nodeHost: { id: "node-host", mode: "node" },
  ios: { id: "openclaw-ios", mode: "ui" },
} as const;

/** A device-less local `cli`/`cli` asking for admin with a valid token, unless overridden. */
function facts(overrides: Partial<AdmissionFacts> = {}): AdmissionFacts {
  return {
    locality: LOCAL,
    client: LANES.cli,
    role: "operator",
    requestedScopes: ADMIN_ETC,
    sharedAuth: TOKEN_OK,
    device: null,
    deviceTokenPresented: false,
    ...overrides,
  };
}

function run(f: AdmissionFacts): Decision {
  const d = decide(f);
  assert.ok(d.trace.length > 0, "every decision has a trace");
  return d;
}

function assertAdmit(d: Decision, scopes: string[], authMethod?: string): void {
  assert.equal(d.kind, "admit", `expected admit, got ${JSON.stringify(d)}`);
  assert.ok(d.kind === "admit");
  assert.deepEqual(d.scopes, scopes);
  if (authMethod) assert.equal(d.authMethod, authMethod);
}

function assertReject(d: Decision, code: string): void {
  assert.equal(d.kind, "reject", `expected reject ${code}, got ${JSON.stringify(d)}`);
  assert.ok(d.kind === "reject");
  assert.equal(d.code, code);
}

function assertPend(d: Decision, reason: string): void {
  assert.equal(d.kind, "pend", `expected pend ${reason}, got ${JSON.stringify(d)}`);
  assert.ok(d.kind === "pend");
  assert.equal(d.reason, reason);
}

describe("shared auth failures", () => {
  for (const code of AUTH_FAILURES) {
    for (const provided of [true, false]) {
      test(`${code} (credential ${provided ? "provided" : "absent"}) → reject ${code}`, () => {
        assertReject(run(facts({ sharedAuth: { ok: false, code, provided } })), code);
      });
    }
  }

  test("a failed shared auth rejects even a device-bearing local backend", () => {
    const d = run(
      facts({
        client: LANES.backend,
        device: DEVICE,
        sharedAuth: { ok: false, code: "AUTH_TOKEN_MISMATCH", provided: true },
      }),
    );
    assertReject(d, "AUTH_TOKEN_MISMATCH");
  });

  test("deviceToken presented without a shared token → AUTH_DEVICE_TOKEN_MISMATCH", () => {
    for (const device of [DEVICE, null]) {
      const d = run(
        facts({
          device,
          deviceTokenPresented: true,
          sharedAuth: { ok: false, code: "AUTH_TOKEN_MISSING", provided: false },
        }),
      );
      assertReject(d, "AUTH_DEVICE_TOKEN_MISMATCH");
    }
  });

  test("auth mode none from a non-local connection → AUTH_UNAUTHORIZED", () => {
    assertReject(run(facts({ sharedAuth: NONE_OK, locality: REMOTE })), "AUTH_UNAUTHORIZED");
    assertReject(
      run(facts({ sharedAuth: NONE_OK, locality: observed({ host: "foo.ts.net" }) })),
      "AUTH_UNAUTHORIZED",
    );
    assertReject(
      run(
        facts({
          sharedAuth: NONE_OK,
          locality: observed({ forwardedFor: "127.0.0.1", hasProxyHeaders: true }),
        }),
      ),
      "AUTH_UNAUTHORIZED",
    );
  });

  test("auth mode none on a direct-local connection is accepted", () => {
    assertAdmit(run(facts({ sharedAuth: NONE_OK })), ADMIN_ETC, "none");
  });
});

describe("device-less connections", () => {
  test("local cli/cli keeps its requested scopes", () => {
    assertAdmit(run(facts()), ADMIN_ETC, "token");
  });

  test("local gateway-client/backend keeps its requested scopes", () => {
    assertAdmit(run(facts({ client: LANES.backend })), ADMIN_ETC, "token");
  });

  test("local lanes keep scopes with password auth too, in the order requested", () => {
    const scopes = ["operator.read", "operator.admin"];
    assertAdmit(run(facts({ sharedAuth: PASSWORD_OK, requestedScopes: scopes })), scopes, "password");
  });

  test("local cli with an IPv6 loopback peer keeps scopes", () => {
    assertAdmit(run(facts({ locality: observed({ peerAddress: "::1", host: "[::1]:18789" }) })), ADMIN_ETC);
  });

  test("admitted scopes are a copy, not the caller's array", () => {
    const requested = ["operator.read"];
    const d = run(facts({ requestedScopes: requested }));
    assert.ok(d.kind === "admit");
    assert.notEqual(d.scopes, requested);
  });

  test("remote cli with a valid token → admitted with no scopes", () => {
    assertAdmit(run(facts({ locality: REMOTE })), [], "token");
  });

  test("remote gateway-client/backend with a valid token → admitted with no scopes", () => {
    assertAdmit(run(facts({ client: LANES.backend, locality: REMOTE })), []);
  });

  test("C13: device-less backend with a browser Origin on loopback → admitted with no scopes", () => {
    assert.equal(LOCAL_BROWSER.directLocal, true);
    assertAdmit(run(facts({ client: LANES.backend, locality: LOCAL_BROWSER })), []);
    assertAdmit(run(facts({ client: LANES.cli, locality: LOCAL_BROWSER })), []);
  });

  test("C13: device-less backend declaring admin via a Host-spoofed loopback (C05) → no scopes", () => {
    assertAdmit(run(facts({ client: LANES.backend, locality: observed({ host: "foo.ts.net" }) })), []);
  });

  test("C03: device-less cli behind a forged X-Forwarded-For: 127.0.0.1 → no scopes", () => {
    const forged = observed({
      peerAddress: "198.51.100.20",
      forwardedFor: "127.0.0.1",
      hasProxyHeaders: true,
    });
    assertAdmit(run(facts({ locality: forged })), []);
  });

  test("C04: device-less cli via an over-trusted LAN proxy forwarding 127.0.0.1 → no scopes", () => {
    const lan = observed({ peerAddress: "10.0.0.2", forwardedFor: "127.0.0.1", hasProxyHeaders: true }, [
      "10.0.0.0/8",
    ]);
    assertAdmit(run(facts({ locality: lan })), []);
  });

  test("a lane needs both id and mode: cli/backend and gateway-client/cli get no scopes", () => {
    assertAdmit(run(facts({ client: { id: "cli", mode: "backend" } })), []);
    assertAdmit(run(facts({ client: { id: "gateway-client", mode: "cli" } })), []);
  });

  test("other local clients (tui, native app, test) get no scopes without a device", () => {
    for (const client of [{ id: "openclaw-tui", mode: "cli" }, LANES.ios, { id: "test", mode: "test" }]) {
      assertAdmit(run(facts({ client })), []);
    }
  });

  test("node role without a device → DEVICE_IDENTITY_REQUIRED", () => {
    for (const locality of [LOCAL, REMOTE]) {
      for (const client of [LANES.nodeHost, LANES.cli, LANES.backend]) {
        assertReject(run(facts({ role: "node", client, locality })), "DEVICE_IDENTITY_REQUIRED");
      }
    }
  });

  test("Control UI without a device → CONTROL_UI_DEVICE_IDENTITY_REQUIRED", () => {
    for (const locality of [LOCAL, LOCAL_BROWSER, REMOTE]) {
      for (const client of [LANES.controlUi, { id: "webchat-ui", mode: "webchat" }]) {
        assertReject(run(facts({ client, locality })), "CONTROL_UI_DEVICE_IDENTITY_REQUIRED");
      }
    }
  });
});

describe("device-bearing connections", () => {
  test("local gateway-client/backend with a token → admitted with the requested scopes", () => {
    assertAdmit(run(facts({ client: LANES.backend, device: DEVICE })), ADMIN_ETC, "token");
  });

  test("C01: remote gateway-client/backend with a valid token asking admin → pending not-paired", () => {
    for (const locality of [
      REMOTE,
      observed({ host: "foo.ts.net" }),
      observed({ peerAddress: "10.0.0.2", forwardedFor: "127.0.0.1", hasProxyHeaders: true }, ["10.0.0.0/8"]),
    ]) {
      const d = run(
        facts({ client: LANES.backend, device: DEVICE, locality, requestedScopes: ["operator.admin"] }),
      );
      assertPend(d, "not-paired");
    }
  });

  test("C01: remote cli/cli with a valid token → pending not-paired", () => {
    assertPend(run(facts({ device: DEVICE, locality: REMOTE })), "not-paired");
  });

  test("local backend with a browser Origin → pending, never silently admitted", () => {
    assertPend(run(facts({ client: LANES.backend, device: DEVICE, locality: LOCAL_BROWSER })), "not-paired");
  });

  test("local backend asking for the node role → pending", () => {
    assertPend(run(facts({ client: LANES.backend, device: DEVICE, role: "node" })), "not-paired");
  });

  test("local cli/cli with a device → pending not-paired (until pairing lands)", () => {
    assertPend(run(facts({ device: DEVICE })), "not-paired");
  });

  test("local Control UI, node host and native app with a device → pending not-paired", () => {
    assertPend(run(facts({ device: DEVICE, client: LANES.controlUi })), "not-paired");
    assertPend(
      run(facts({ device: DEVICE, client: LANES.nodeHost, role: "node", requestedScopes: [] })),
      "not-paired",
    );
    assertPend(run(facts({ device: DEVICE, client: LANES.ios })), "not-paired");
  });
});

describe("decision properties", () => {
  test("the trace starts with the locality trace", () => {
    const d = run(facts({ locality: REMOTE }));
    assert.deepEqual(d.trace.slice(0, REMOTE.trace.length), REMOTE.trace);
  });

  test("pure: same facts, same decision; facts are not mutated", () => {
    const f = facts({ client: LANES.backend, device: DEVICE });
    const snapshot = structuredClone(f);
    assert.deepEqual(decide(f), decide(f));
    assert.deepEqual(f, snapshot);
  });
});

describe("exhaustive invariants over the fact space", () => {
  const localities: [string, Locality][] = [
    ["directLocal", { clientIp: "127.0.0.1", directLocal: true, browserOrigin: false, trace: ["t-local"] }],
    [
      "directLocal+origin",
      { clientIp: "127.0.0.1", directLocal: true, browserOrigin: true, trace: ["t-lo"] },
    ],
    ["remote", { clientIp: "203.0.113.7", directLocal: false, browserOrigin: false, trace: ["t-remote"] }],
    ["remote+origin", { clientIp: "203.0.113.7", directLocal: false, browserOrigin: true, trace: ["t-ro"] }],
  ];
  const sharedAuths: SharedAuthResult[] = [
    TOKEN_OK,
    PASSWORD_OK,
    NONE_OK,
    ...AUTH_FAILURES.flatMap((code) =>
      [true, false].map((provided) => ({ ok: false as const, code, provided })),
    ),
  ];
  const scopeSets: string[][] = [
    [],
    ["operator.admin"],
    ["operator.read", "operator.write"],
    ["node.invoke"],
  ];
  const roles = ["operator", "node"] as const;
  const clients = Object.values(LANES);

  test("no combination breaks an admission invariant", () => {
    let count = 0;
    for (const [, locality] of localities)
      for (const client of clients)
        for (const role of roles)
          for (const sharedAuth of sharedAuths)
            for (const device of [DEVICE, null])
              for (const deviceTokenPresented of [true, false])
                for (const requestedScopes of scopeSets) {
                  const f: AdmissionFacts = {
                    locality,
                    client,
                    role,
                    requestedScopes,
                    sharedAuth,
                    device,
                    deviceTokenPresented,
                  };
                  const d = decide(f);
                  const where = JSON.stringify({ f, d });
                  count++;

                  assert.ok(d.trace.length > 0, `empty trace: ${where}`);
                  assert.deepEqual(decide(f), d, `not deterministic: ${where}`);
                  if (d.kind === "reject") assert.ok(d.code in ERROR_TABLE, `unmapped code: ${where}`);
                  if (d.kind === "pend") assert.ok(device, `pend without a device: ${where}`);
                  if (!sharedAuth.ok)
                    assert.equal(d.kind, "reject", `admitted after failed shared auth: ${where}`);
                  if (sharedAuth.ok && sharedAuth.method === "none" && !locality.directLocal) {
                    assert.equal(d.kind, "reject", `auth none off-host: ${where}`);
                  }
                  if (!device && role === "node")
                    assert.notEqual(d.kind, "admit", `device-less node: ${where}`);
                  if (!device && client.mode === "webchat") {
                    assert.notEqual(d.kind, "admit", `device-less Control UI: ${where}`);
                  }

                  if (d.kind !== "admit") continue;
                  if (!locality.directLocal || locality.browserOrigin) {
                    assert.deepEqual(d.scopes, [], `scopes off the local lane: ${where}`);
                  }
                  if (device) {
                    assert.ok(
                      client.id === "gateway-client" &&
                        client.mode === "backend" &&
                        role === "operator" &&
                        locality.directLocal &&
                        !locality.browserOrigin,
                      `device admitted outside the local backend lane: ${where}`,
                    );
                  }
                  for (const s of d.scopes)
                    assert.ok(requestedScopes.includes(s), `scope not requested: ${where}`);
                  assert.equal(d.authMethod, sharedAuth.ok ? sharedAuth.method : "", where);
                }
    assert.equal(count, 4 * 5 * 2 * 15 * 2 * 2 * 4);
  });
});
