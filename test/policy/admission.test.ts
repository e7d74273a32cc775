/**
 * The admission decision (`decide`): named catalogue cases (S01…, C01…) plus an exhaustive sweep of
 * the finite fact space checking the policy's invariants on every combination.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  decide,
  type AdmissionFacts,
  type Ask,
  type DeviceTokenCheck,
  type PendingFacts,
  type SetupCodeCheck,
  type SharedAuthResult,
  type StoredDeviceFacts,
} from "../../src/policy/admission.js";
import type { Locality } from "../../src/policy/locality.js";
import { scopeSatisfied } from "../../src/policy/scopes.js";
import {
  identityScopesFor,
  resolveProxyIdentity,
  type ProxyFacts,
  type TrustedProxyPolicy,
} from "../../src/policy/trusted-proxy.js";
import { ERROR_TABLE } from "../../src/protocol/errors.js";
import {
  ADMIN,
  APPROVALS,
  approved,
  admitted,
  device,
  facts,
  FAMILY,
  FORGED_XFF_LAN,
  FORGED_XFF_LOOPBACK,
  FULL_BASELINE,
  KEY,
  LANES,
  LEGACY_BASELINE,
  LOCAL,
  LOCAL_ORIGIN,
  methodOf,
  NEW_KEY,
  NO_PROXY,
  NODE_X,
  NONE_OK,
  OLD_PLATFORM,
  OTHER_PENDING_KEY,
  OWN_ORIGIN,
  OWNER_DEVICE,
  OWNER_RECORD,
  PAIRING,
  PASSWORD_MISMATCH,
  PASSWORD_MISSING,
  PASSWORD_OK,
  pended,
  PLATFORM,
  PROXY_ALICE,
  READ,
  record,
  rejected,
  REMOTE,
  REMOTE_ORIGIN,
  run,
  SHARED_OKS,
  sorted,
  TOKEN_MISMATCH,
  TOKEN_MISSING,
  TOKEN_OK,
  TS_NET_HOST,
  VIA_PROXY,
  WRITE,
  type Client,
  type Device,
  type Role,
} from "./admission-fixtures.js";

// ---------------------------------------------------------------------------------------------
// Named cases
// ---------------------------------------------------------------------------------------------

describe("fixtures: localities come from resolveLocality", () => {
  test("direct local, browser origin, remote, C05 ts.net Host and C03 forged XFF", () => {
    assert.equal(LOCAL.directLocal && !LOCAL.browserOrigin, true);
    assert.equal(LOCAL_ORIGIN.directLocal && LOCAL_ORIGIN.browserOrigin, true);
    assert.equal(REMOTE.directLocal || REMOTE.browserOrigin, false);
    assert.equal(!REMOTE_ORIGIN.directLocal && REMOTE_ORIGIN.browserOrigin, true);
    for (const l of [TS_NET_HOST, FORGED_XFF_LAN, FORGED_XFF_LOOPBACK]) assert.equal(l.directLocal, false);
  });
});

describe("device-less connections", () => {
  test("S02: local cli/cli and gateway-client/backend with the shared secret keep their declared scopes", () => {
    for (const client of [LANES.cli, LANES.backend]) {
      for (const sharedAuth of SHARED_OKS) {
        const d = admitted(
          run(facts({ device: null, client, sharedAuth, requestedScopes: [ADMIN, WRITE] })),
          [ADMIN, WRITE],
        );
        assert.equal(d.credential, methodOf(sharedAuth));
        assert.equal(d.token.action, "none");
      }
    }
  });

  test("C13: every other device-less client gets no scopes, whatever it declares", () => {
    const cases: Array<[string, Partial<AdmissionFacts>]> = [
      ["local native app", { client: LANES.ios }],
      ["local node-host as operator", { client: LANES.nodeHost }],
      ["lane id with the wrong mode", { client: { id: "cli", mode: "backend" } }],
      ["lane id with the wrong mode (backend)", { client: { id: "gateway-client", mode: "cli" } }],
      ["remote cli/cli", { locality: REMOTE }],
      ["remote gateway-client/backend", { locality: REMOTE, client: LANES.backend }],
      ["local cli/cli with a browser Origin", { locality: LOCAL_ORIGIN }],
      ["C05 backend with a ts.net Host", { locality: TS_NET_HOST, client: LANES.backend }],
      ["C03 cli behind a forged XFF", { locality: FORGED_XFF_LAN }],
    ];
    for (const [name, o] of cases) {
      const d = run(facts({ device: null, requestedScopes: [ADMIN, READ, WRITE], ...o }));
      if (d.kind !== "admit") assert.fail(`${name}: expected admit, got ${JSON.stringify(d)}`);
      assert.deepEqual(d.scopes, [], name);
      assert.equal(d.token.action, "none", name);
    }
  });

  test("device-less node role → DEVICE_IDENTITY_REQUIRED, even locally on a lane", () => {
    for (const client of [LANES.nodeHost, LANES.cli, LANES.backend]) {
      rejected(
        run(facts({ device: null, client, role: "node", requestedScopes: [] })),
        "DEVICE_IDENTITY_REQUIRED",
      );
      rejected(
        run(facts({ device: null, client, role: "node", requestedScopes: [NODE_X] })),
        "DEVICE_IDENTITY_REQUIRED",
      );
    }
  });

  test("device-less Control UI → CONTROL_UI_DEVICE_IDENTITY_REQUIRED, local or remote, with or without Origin", () => {
    for (const locality of [LOCAL, LOCAL_ORIGIN, REMOTE, REMOTE_ORIGIN]) {
      rejected(
        run(facts({ device: null, client: LANES.controlUi, locality, requestedScopes: [ADMIN] })),
        "CONTROL_UI_DEVICE_IDENTITY_REQUIRED",
      );
    }
  });

  test("a failed shared secret rejects with its own code; a device token without a device is a token mismatch", () => {
    rejected(run(facts({ device: null, sharedAuth: TOKEN_MISMATCH })), "AUTH_TOKEN_MISMATCH");
    rejected(run(facts({ device: null, sharedAuth: TOKEN_MISSING })), "AUTH_TOKEN_MISSING");
    rejected(
      run(facts({ device: null, sharedAuth: TOKEN_MISSING, deviceToken: { kind: "mismatch" } })),
      "AUTH_DEVICE_TOKEN_MISMATCH",
    );
  });

  test("auth.mode none: device-less local lane admitted; remote → AUTH_UNAUTHORIZED", () => {
    admitted(run(facts({ device: null, sharedAuth: NONE_OK, requestedScopes: [WRITE] })), [WRITE]);
    rejected(run(facts({ device: null, sharedAuth: NONE_OK, locality: REMOTE })), "AUTH_UNAUTHORIZED");
    rejected(run(facts({ device: null, sharedAuth: NONE_OK, locality: TS_NET_HOST })), "AUTH_UNAUTHORIZED");
  });
});

describe("owner key", () => {
  test("S01/S07: owner key admitted from anywhere for covered requests; credential owner-key, token none", () => {
    for (const locality of [LOCAL, LOCAL_ORIGIN, REMOTE, REMOTE_ORIGIN, TS_NET_HOST, FORGED_XFF_LAN]) {
      for (const sharedAuth of [TOKEN_OK, TOKEN_MISSING, TOKEN_MISMATCH]) {
        for (const [role, requestedScopes] of [
          ["operator", [ADMIN, APPROVALS, PAIRING, READ, WRITE]],
          ["operator", [READ]],
          ["node", []],
          ["node", [NODE_X]],
        ] as const) {
          const d = admitted(
            run(
              facts({
                locality,
                sharedAuth,
                role,
                requestedScopes,
                device: OWNER_DEVICE,
                stored: OWNER_RECORD,
              }),
            ),
            requestedScopes,
          );
          assert.equal(d.credential, "owner-key");
          assert.equal(d.token.action, "none");
        }
      }
    }
  });

  test("Control UI: the gateway's own page on loopback with the shared token is approved silently; another local page is not", () => {
    const client = { id: "openclaw-control-ui", mode: "webchat" };
    const device = {
      deviceId: "d".repeat(64),
      publicKey: "k",
      platform: "",
      deviceFamily: "",
      ownerKey: false,
    };
    const own = decide(facts({ locality: OWN_ORIGIN, client, device, requestedScopes: [ADMIN] }));
    assert.equal(own.kind, "approve-then-admit", JSON.stringify(own));
    const other = decide(facts({ locality: LOCAL_ORIGIN, client, device, requestedScopes: [ADMIN] }));
    assert.equal(other.kind, "pend", JSON.stringify(other));
    const notUi = decide(
      facts({ locality: OWN_ORIGIN, client: LANES.cli, device, requestedScopes: [ADMIN] }),
    );
    assert.equal(notUi.kind, "pend", "only the Control UI client gets the exception");
  });

  test("owner key not yet recorded: local → approve-then-admit; remote → pend not-paired", () => {
    const ask = { roles: ["operator"], scopes: [ADMIN] } satisfies Ask;
    const d = approved(
      run(facts({ device: OWNER_DEVICE, sharedAuth: TOKEN_MISSING, requestedScopes: [ADMIN] })),
      ask,
    );
    assert.equal(d.credential, "owner-key");
    pended(
      run(facts({ device: OWNER_DEVICE, locality: REMOTE, requestedScopes: [ADMIN] })),
      "not-paired",
      ask,
    );
  });
});

describe("first contact", () => {
  test("local shared-secret not-paired → approve-then-admit, ask = requested role and scopes", () => {
    for (const sharedAuth of [TOKEN_OK, PASSWORD_OK]) {
      for (const client of Object.values(LANES).filter((c) => c !== LANES.backend)) {
        const d = approved(run(facts({ sharedAuth, client, requestedScopes: [WRITE, ADMIN] })), {
          roles: ["operator"],
          scopes: [ADMIN, WRITE],
        });
        assert.deepEqual(d.scopes, [WRITE, ADMIN]);
        assert.equal(d.credential, methodOf(sharedAuth));
        assert.equal(d.token.action, "issue");
      }
      approved(run(facts({ sharedAuth, client: LANES.nodeHost, role: "node", requestedScopes: [] })), {
        roles: ["node"],
        scopes: [],
      });
    }
  });

  test("local backend (gateway-client/backend) with the shared secret and a device → admitted unpaired, no token", () => {
    for (const sharedAuth of [TOKEN_OK, PASSWORD_OK]) {
      for (const stored of [null, record({ scopes: [READ] })]) {
        const d = run(facts({ sharedAuth, client: LANES.backend, stored, requestedScopes: [WRITE, ADMIN] }));
        assert.equal(d.kind, "admit");
        assert.ok(d.kind === "admit");
        assert.deepEqual(d.scopes, [WRITE, ADMIN]);
        assert.deepEqual(d.token, { action: "none" });
        assert.equal(d.trace.at(-1), "local-backend-device-not-paired");
      }
    }
    // Remote, or from a browser page, it pairs like anyone else.
    for (const locality of [REMOTE, LOCAL_ORIGIN]) {
      const d = run(
        facts({ sharedAuth: TOKEN_OK, client: LANES.backend, locality, requestedScopes: [READ] }),
      );
      assert.notEqual(d.kind, "admit");
    }
  });

  test("C01: remote peer with a valid token asking admin → pend not-paired whatever client it claims", () => {
    for (const client of [
      ...Object.values(LANES),
      { id: "test", mode: "test" },
      { id: "cli", mode: "backend" },
    ]) {
      for (const locality of [REMOTE, REMOTE_ORIGIN]) {
        for (const sharedAuth of [TOKEN_OK, PASSWORD_OK]) {
          pended(run(facts({ locality, client, sharedAuth, requestedScopes: [ADMIN] })), "not-paired", {
            roles: ["operator"],
            scopes: [ADMIN],
          });
        }
      }
    }
  });

  test("C01: remote scope, role and metadata upgrades always pend", () => {
    pended(run(facts({ locality: REMOTE, stored: record(), requestedScopes: [ADMIN] })), "scope-upgrade");
    pended(
      run(facts({ locality: REMOTE, stored: record(), role: "node", requestedScopes: [] })),
      "role-upgrade",
    );
    pended(
      run(facts({ locality: REMOTE, stored: record({ platform: OLD_PLATFORM }), requestedScopes: [READ] })),
      "metadata-upgrade",
    );
  });

  test("C02: loopback with a browser Origin and a valid token → pend, never approve", () => {
    for (const client of Object.values(LANES)) {
      pended(run(facts({ locality: LOCAL_ORIGIN, client, requestedScopes: [ADMIN] })), "not-paired");
      pended(
        run(facts({ locality: LOCAL_ORIGIN, client, stored: record(), requestedScopes: [ADMIN] })),
        "scope-upgrade",
      );
    }
  });

  test("C05: loopback peer with Host x.ts.net is not local → pend, never silent", () => {
    pended(
      run(facts({ locality: TS_NET_HOST, client: LANES.backend, requestedScopes: [ADMIN] })),
      "not-paired",
    );
    pended(
      run(facts({ locality: TS_NET_HOST, stored: record(), requestedScopes: [ADMIN] })),
      "scope-upgrade",
    );
  });

  test("C03: forged X-Forwarded-For: 127.0.0.1 (LAN peer or untrusted same-host proxy) → pend, never silent", () => {
    for (const locality of [FORGED_XFF_LAN, FORGED_XFF_LOOPBACK]) {
      pended(run(facts({ locality, client: LANES.backend, requestedScopes: [ADMIN] })), "not-paired");
      pended(run(facts({ locality, stored: record(), role: "node", requestedScopes: [] })), "role-upgrade");
    }
  });

  test("C18: a failed shared secret without any other proof never creates a pending request", () => {
    for (const locality of [LOCAL, REMOTE]) {
      rejected(run(facts({ locality, sharedAuth: TOKEN_MISMATCH })), "AUTH_TOKEN_MISMATCH");
      rejected(run(facts({ locality, sharedAuth: TOKEN_MISSING, stored: record() })), "AUTH_TOKEN_MISSING");
    }
  });
});

describe("covered requests never pair (scope lattice)", () => {
  test("S08: legacy baseline [admin, approvals, pairing] covers read and write → admit", () => {
    const stored = record({
      scopes: LEGACY_BASELINE,
      tokens: { operator: { revoked: false, scopes: LEGACY_BASELINE } },
    });
    for (const requestedScopes of [
      [READ],
      [WRITE],
      [READ, WRITE],
      [ADMIN, READ, WRITE],
      ["operator.talk.secrets"],
    ]) {
      for (const locality of [LOCAL, REMOTE, REMOTE_ORIGIN]) {
        const byToken = admitted(run(facts({ locality, stored, requestedScopes })), requestedScopes);
        assert.equal(byToken.credential, "token");
        assert.equal(byToken.token.action, "issue");
        const byDeviceToken = admitted(
          run(
            facts({
              locality,
              stored,
              requestedScopes,
              sharedAuth: TOKEN_MISSING,
              deviceToken: { kind: "valid", scopes: LEGACY_BASELINE },
            }),
          ),
          requestedScopes,
        );
        assert.equal(byDeviceToken.credential, "device-token");
        assert.equal(byDeviceToken.token.action, "keep");
      }
    }
  });

  test("S09: a request within the baseline is admitted, never pended, even with a pending request around", () => {
    const stored = record({
      scopes: [ADMIN, PAIRING],
      tokens: { operator: { revoked: false, scopes: [ADMIN, PAIRING] } },
    });
    const pending: PendingFacts = {
      requestId: "req-1",
      publicKey: KEY,
      roles: ["operator"],
      scopes: [APPROVALS],
    };
    for (const requestedScopes of [[], [READ], [WRITE], [PAIRING], [ADMIN], [READ, PAIRING]]) {
      for (const locality of [LOCAL, REMOTE]) {
        for (const sharedAuth of [TOKEN_OK, PASSWORD_OK]) {
          admitted(run(facts({ locality, stored, requestedScopes, sharedAuth, pending })), requestedScopes);
        }
      }
    }
  });

  test("S09: a request within the baseline but beyond a valid device token → AUTH_SCOPE_MISMATCH, no pending loop", () => {
    const stored = record({
      scopes: [ADMIN, PAIRING],
      tokens: { operator: { revoked: false, scopes: [READ] } },
    });
    for (const locality of [LOCAL, REMOTE]) {
      const d = rejected(
        run(
          facts({
            locality,
            stored,
            requestedScopes: [WRITE],
            sharedAuth: TOKEN_MISSING,
            deviceToken: { kind: "valid", scopes: [READ] },
          }),
        ),
        "AUTH_SCOPE_MISMATCH",
      );
      assert.ok(d.trace.includes("request-exceeds-device-token"), d.trace.join(","));
    }
  });

  test("the lattice: write covers read, admin covers every operator.*, unknown scopes need an exact match", () => {
    const writer = record({ scopes: [WRITE], tokens: { operator: { revoked: false, scopes: [WRITE] } } });
    admitted(run(facts({ locality: REMOTE, stored: writer, requestedScopes: [READ] })), [READ]);
    pended(run(facts({ locality: REMOTE, stored: writer, requestedScopes: [ADMIN] })), "scope-upgrade");
    const admin = record({ scopes: [ADMIN], tokens: {} });
    admitted(run(facts({ locality: REMOTE, stored: admin, requestedScopes: ["operator.future"] })), [
      "operator.future",
    ]);
    pended(
      run(facts({ locality: REMOTE, stored: admin, requestedScopes: ["custom.scope"] })),
      "scope-upgrade",
    );
    const nodeRecord = record({ roles: ["node"], scopes: [ADMIN], tokens: {} });
    pended(
      run(facts({ locality: REMOTE, stored: nodeRecord, role: "node", requestedScopes: [NODE_X] })),
      "scope-upgrade",
    );
  });
});

describe("upgrades", () => {
  test("S10: role upgrade local + shared token → approve-then-admit; remote → pend role-upgrade", () => {
    const stored = record({ scopes: [ADMIN], tokens: { operator: { revoked: false, scopes: [ADMIN] } } });
    const ask = { roles: ["node", "operator"], scopes: [ADMIN] } satisfies Ask;
    const d = approved(
      run(facts({ client: LANES.nodeHost, role: "node", requestedScopes: [], stored })),
      ask,
    );
    assert.ok(d.trace.includes("uncovered-role-upgrade"), d.trace.join(","));
    pended(
      run(facts({ locality: REMOTE, client: LANES.nodeHost, role: "node", requestedScopes: [], stored })),
      "role-upgrade",
      ask,
    );
  });

  test("S11: metadata change local + shared token → approve; remote or browser → pend metadata-upgrade", () => {
    const stored = record({ roles: ["node", "operator"], platform: OLD_PLATFORM });
    const ask = { roles: ["node", "operator"], scopes: [READ] } satisfies Ask;
    const d = approved(run(facts({ client: LANES.ios, stored })), ask);
    assert.ok(d.trace.includes("uncovered-metadata-upgrade"), d.trace.join(","));
    pended(run(facts({ locality: REMOTE, client: LANES.ios, stored })), "metadata-upgrade", ask);
    pended(run(facts({ locality: LOCAL_ORIGIN, client: LANES.ios, stored })), "metadata-upgrade", ask);
    pended(run(facts({ stored: record({ deviceFamily: "iPhone" }), locality: REMOTE })), "metadata-upgrade");
  });

  test("unpinned metadata (null) is not a metadata change", () => {
    admitted(run(facts({ locality: REMOTE, stored: record({ platform: null, deviceFamily: null }) })), [
      READ,
    ]);
  });

  test("S07: local scope upgrade by the same key with the shared secret → approve-then-admit, ask ⊇ baseline", () => {
    const d = approved(run(facts({ stored: record(), requestedScopes: [ADMIN, PAIRING] })), {
      roles: ["operator"],
      scopes: [ADMIN, PAIRING, READ],
    });
    assert.deepEqual(d.scopes, [ADMIN, PAIRING]);
  });

  test("S07: the same local upgrade when the client also presents its valid read-only device token → approve-then-admit", () => {
    // The reference client sends its cached device token next to the configured shared token. The
    // connection proved the shared secret, so the silent-approval rule applies (issue: "direct-local,
    // no browser Origin, proved the shared secret or the owner key").
    const d = run(
      facts({
        stored: record(),
        requestedScopes: [ADMIN, PAIRING],
        sharedAuth: TOKEN_OK,
        deviceToken: { kind: "valid", scopes: [READ] },
      }),
    );
    approved(d, { roles: ["operator"], scopes: [ADMIN, PAIRING, READ] });
  });

  test("a device token alone (no shared secret, no owner key) locally uncovered → pend: it is not owner proof", () => {
    const d = pended(
      run(
        facts({
          stored: record(),
          requestedScopes: [ADMIN],
          sharedAuth: TOKEN_MISSING,
          deviceToken: { kind: "valid", scopes: [READ] },
        }),
      ),
      "scope-upgrade",
      { roles: ["operator"], scopes: [ADMIN, READ] },
    );
    assert.equal(d.credential, "device-token");
  });

  test("gateway.pairing.autoApproveLocal false → pend for every reason, even with the owner key", () => {
    const config = { autoApproveLocal: false };
    pended(run(facts({ config })), "not-paired");
    pended(run(facts({ config, stored: record(), requestedScopes: [ADMIN] })), "scope-upgrade");
    pended(run(facts({ config, stored: record(), role: "node", requestedScopes: [] })), "role-upgrade");
    pended(run(facts({ config, stored: record({ platform: OLD_PLATFORM }) })), "metadata-upgrade");
    pended(run(facts({ config, device: OWNER_DEVICE, requestedScopes: [ADMIN] })), "not-paired");
  });

  test("auth.mode none: local → silent approval allowed; remote → AUTH_UNAUTHORIZED", () => {
    const d = approved(run(facts({ sharedAuth: NONE_OK, requestedScopes: [WRITE] })), {
      roles: ["operator"],
      scopes: [WRITE],
    });
    assert.equal(d.credential, "none");
    for (const locality of [REMOTE, REMOTE_ORIGIN, TS_NET_HOST, FORGED_XFF_LAN]) {
      rejected(run(facts({ sharedAuth: NONE_OK, locality })), "AUTH_UNAUTHORIZED");
      rejected(run(facts({ sharedAuth: NONE_OK, locality, stored: record() })), "AUTH_UNAUTHORIZED");
    }
  });

  test("node role asking operator scopes → AUTH_SCOPE_MISMATCH (node scopes are node.* only)", () => {
    for (const requestedScopes of [[READ], [ADMIN], [NODE_X, READ], ["custom.scope"]]) {
      for (const dev of [device(), OWNER_DEVICE, null]) {
        rejected(
          run(
            facts({
              role: "node",
              client: LANES.nodeHost,
              requestedScopes,
              device: dev,
              stored: OWNER_RECORD,
            }),
          ),
          "AUTH_SCOPE_MISMATCH",
        );
      }
    }
  });
});

describe("device tokens", () => {
  const bothRoles = {
    roles: ["node", "operator"],
    scopes: [ADMIN, READ],
  } satisfies Partial<StoredDeviceFacts>;

  test("S05: stored roles with an EMPTY tokens map stay effective → admit both roles", () => {
    const stored = record({ ...bothRoles, tokens: {} });
    for (const locality of [LOCAL, REMOTE]) {
      admitted(run(facts({ locality, stored, requestedScopes: [ADMIN] })), [ADMIN]);
      admitted(
        run(facts({ locality, stored, role: "node", client: LANES.nodeHost, requestedScopes: [] })),
        [],
      );
    }
  });

  test("S05: a revoked role token makes the role ineffective → role-upgrade (local silent, remote pend)", () => {
    const stored = record({ ...bothRoles, tokens: { operator: { revoked: true, scopes: [ADMIN] } } });
    const local = approved(run(facts({ stored, deviceToken: { kind: "revoked" } })), {
      roles: ["node", "operator"],
      scopes: [ADMIN, READ],
    });
    assert.equal(local.credential, "token");
    assert.ok(local.trace.includes("uncovered-role-upgrade"), local.trace.join(","));
    pended(run(facts({ locality: REMOTE, stored, deviceToken: { kind: "revoked" } })), "role-upgrade");
    // The other role's token is untouched.
    admitted(run(facts({ locality: REMOTE, stored, role: "node", requestedScopes: [] })), []);
  });

  test("C08: a revoked device token presented without the shared secret → AUTH_DEVICE_TOKEN_MISMATCH", () => {
    const stored = record({ ...bothRoles, tokens: { operator: { revoked: true, scopes: [ADMIN] } } });
    for (const sharedAuth of [TOKEN_MISSING, TOKEN_MISMATCH]) {
      for (const locality of [LOCAL, REMOTE]) {
        rejected(
          run(facts({ locality, sharedAuth, stored, deviceToken: { kind: "revoked" } })),
          "AUTH_DEVICE_TOKEN_MISMATCH",
        );
      }
    }
  });

  test("S13: a mismatched device token with a valid shared secret proceeds on the shared secret (pairing kept)", () => {
    const stored = record({ ...bothRoles, tokens: { operator: { revoked: false, scopes: [ADMIN] } } });
    for (const locality of [LOCAL, REMOTE]) {
      const d = admitted(
        run(facts({ locality, stored, deviceToken: { kind: "mismatch" }, requestedScopes: [ADMIN] })),
        [ADMIN],
      );
      assert.equal(d.credential, "token");
      assert.equal(d.token.action, "issue");
    }
    rejected(
      run(facts({ sharedAuth: TOKEN_MISSING, stored, deviceToken: { kind: "mismatch" } })),
      "AUTH_DEVICE_TOKEN_MISMATCH",
    );
  });
});

describe("C15: a different key for a known deviceId", () => {
  const stored = record({
    roles: ["node", "operator"],
    scopes: FULL_BASELINE,
    tokens: { operator: { revoked: false, scopes: [ADMIN] } },
  });
  const newKey = device({ publicKey: NEW_KEY });

  test("pend key-changed even locally with the shared token; the ask carries nothing of the old record", () => {
    for (const sharedAuth of [TOKEN_OK, PASSWORD_OK, NONE_OK]) {
      const d = pended(
        run(facts({ device: newKey, stored, sharedAuth, requestedScopes: [READ] })),
        "key-changed",
        {
          roles: ["operator"],
          scopes: [READ],
        },
      );
      assert.notEqual(d.kind, "approve-then-admit");
    }
  });

  test("a valid device token of the old identity does not rebind the key", () => {
    pended(
      run(
        facts({
          device: newKey,
          stored,
          sharedAuth: TOKEN_MISSING,
          deviceToken: { kind: "valid", scopes: [ADMIN] },
          requestedScopes: [ADMIN],
        }),
      ),
      "key-changed",
      { roles: ["operator"], scopes: [ADMIN] },
    );
  });

  test("the owner key with a different stored key still needs approval", () => {
    pended(run(facts({ device: { ...OWNER_DEVICE, publicKey: NEW_KEY }, stored })), "key-changed");
  });

  test("a pending request of the new key is folded in; one of the old key is not", () => {
    const mine: PendingFacts = { requestId: "r1", publicKey: NEW_KEY, roles: ["node"], scopes: [NODE_X] };
    pended(run(facts({ device: newKey, stored, pending: mine })), "key-changed", {
      roles: ["node", "operator"],
      scopes: [NODE_X, READ],
    });
    const theirs: PendingFacts = { requestId: "r2", publicKey: KEY, roles: ["node"], scopes: [ADMIN] };
    pended(run(facts({ device: newKey, stored, pending: theirs })), "key-changed", {
      roles: ["operator"],
      scopes: [READ],
    });
  });
});

describe("one pending request for the union of everything asked", () => {
  const stored = record();

  test("pending A + new request B → ask = union(baseline, A, B), for remote pend and local approval", () => {
    const pending: PendingFacts = {
      requestId: "req-a",
      publicKey: KEY,
      roles: ["operator"],
      scopes: [APPROVALS],
    };
    const ask = { roles: ["operator"], scopes: [APPROVALS, PAIRING, READ] } satisfies Ask;
    pended(
      run(facts({ locality: REMOTE, stored, pending, requestedScopes: [PAIRING] })),
      "scope-upgrade",
      ask,
    );
    approved(run(facts({ stored, pending, requestedScopes: [PAIRING] })), ask);
    const nodePending: PendingFacts = { ...pending, roles: ["node"] };
    pended(
      run(facts({ locality: REMOTE, stored, pending: nodePending, requestedScopes: [PAIRING] })),
      "scope-upgrade",
      {
        roles: ["node", "operator"],
        scopes: [APPROVALS, PAIRING, READ],
      },
    );
  });

  test("a pending request from another key is ignored (it will be superseded)", () => {
    const pending: PendingFacts = {
      requestId: "req-x",
      publicKey: OTHER_PENDING_KEY,
      roles: ["node"],
      scopes: [ADMIN],
    };
    pended(run(facts({ locality: REMOTE, stored, pending, requestedScopes: [PAIRING] })), "scope-upgrade", {
      roles: ["operator"],
      scopes: [PAIRING, READ],
    });
  });

  test("a repeat of the same request yields the same ask (the store refreshes the same requestId)", () => {
    const first = pended(
      run(facts({ locality: REMOTE, stored, requestedScopes: [WRITE, PAIRING] })),
      "scope-upgrade",
    );
    assert.deepEqual(first.ask, { roles: ["operator"], scopes: [PAIRING, READ, WRITE] });
    const pending: PendingFacts = { requestId: "req-1", publicKey: KEY, ...first.ask };
    const again = pended(
      run(facts({ locality: REMOTE, stored, pending, requestedScopes: [WRITE, PAIRING] })),
      "scope-upgrade",
    );
    assert.deepEqual(again.ask, first.ask);
    // A narrower retry (S09 #22193) asks for nothing new either: same snapshot, same requestId.
    const narrower = pended(
      run(facts({ locality: REMOTE, stored, pending, requestedScopes: [WRITE] })),
      "scope-upgrade",
    );
    assert.deepEqual(narrower.ask, first.ask);
  });

  test("one approval of the ask admits the request; no second request follows", () => {
    const first = pended(
      run(
        facts({ locality: REMOTE, stored, role: "node", client: LANES.nodeHost, requestedScopes: [NODE_X] }),
      ),
      "role-upgrade",
    );
    const after = record({ roles: first.ask.roles, scopes: first.ask.scopes, tokens: {} });
    admitted(
      run(
        facts({
          locality: REMOTE,
          stored: after,
          role: "node",
          client: LANES.nodeHost,
          requestedScopes: [NODE_X],
        }),
      ),
      [NODE_X],
    );
    admitted(run(facts({ locality: REMOTE, stored: after, requestedScopes: [READ] })), [READ]);
  });
});

const LIMITED_CODE: SetupCodeCheck = { kind: "valid", roles: ["operator"], scopes: [APPROVALS, READ, WRITE] };
const FULL_CODE: SetupCodeCheck = {
  kind: "valid",
  roles: ["operator"],
  scopes: [ADMIN, APPROVALS, PAIRING, READ, "operator.talk.secrets", WRITE],
};
const NODE_CODE: SetupCodeCheck = { kind: "valid", roles: ["node"], scopes: [] };

describe("setup codes (C23, S43)", () => {
  test("a remote device with only a valid code is approved with exactly the profile, from anywhere", () => {
    for (const locality of [REMOTE, REMOTE_ORIGIN, LOCAL]) {
      for (const autoApproveLocal of [true, false]) {
        const d = approved(
          run(
            facts({
              locality,
              client: LANES.ios,
              sharedAuth: TOKEN_MISSING,
              setupCode: LIMITED_CODE,
              requestedScopes: [READ],
              config: { autoApproveLocal },
            }),
          ),
          { roles: ["operator"], scopes: [APPROVALS, READ, WRITE] },
        );
        assert.equal(d.credential, "setup-code");
        assert.equal(d.token.action, "issue");
        assert.deepEqual(d.scopes, [READ], "the session gets what it asked; the device the whole profile");
        assert.ok(d.trace.includes("setup-code-approves-profile"));
      }
    }
  });

  test("a node code approves the node role only; an operator asking with it is refused, not pended", () => {
    const node = approved(
      run(
        facts({
          locality: REMOTE,
          client: LANES.nodeHost,
          role: "node",
          requestedScopes: [],
          sharedAuth: TOKEN_MISSING,
          setupCode: NODE_CODE,
        }),
      ),
      { roles: ["node"], scopes: [] },
    );
    assert.equal(node.credential, "setup-code");
    rejected(
      run(facts({ locality: REMOTE, requestedScopes: [], sharedAuth: TOKEN_MISSING, setupCode: NODE_CODE })),
      "AUTH_SCOPE_MISMATCH",
    );
  });

  test("asking beyond the profile is refused (never a pending request for more), even with the shared token", () => {
    for (const sharedAuth of [TOKEN_OK, TOKEN_MISSING]) {
      const d = rejected(
        run(facts({ locality: REMOTE, sharedAuth, setupCode: LIMITED_CODE, requestedScopes: [READ, ADMIN] })),
        "AUTH_SCOPE_MISMATCH",
      );
      assert.equal(d.trace.at(-1), "request-exceeds-setup-code");
      rejected(
        run(facts({ locality: REMOTE, sharedAuth, setupCode: LIMITED_CODE, requestedScopes: [PAIRING] })),
        "AUTH_SCOPE_MISMATCH",
      );
    }
    // A full code covers admin and pairing.
    approved(
      run(
        facts({
          locality: REMOTE,
          sharedAuth: TOKEN_MISSING,
          setupCode: FULL_CODE,
          requestedScopes: [ADMIN],
        }),
      ),
      { roles: ["operator"], scopes: [ADMIN, APPROVALS, PAIRING, READ, "operator.talk.secrets", WRITE] },
    );
  });

  test("a used, expired or wrong code admits nothing, whatever else is presented", () => {
    for (const sharedAuth of [TOKEN_OK, TOKEN_MISSING]) {
      for (const deviceToken of [{ kind: "none" }, { kind: "valid", scopes: [READ] }] as DeviceTokenCheck[]) {
        for (const locality of [LOCAL, REMOTE]) {
          const d = rejected(
            run(
              facts({ locality, sharedAuth, deviceToken, stored: record(), setupCode: { kind: "invalid" } }),
            ),
            "AUTH_BOOTSTRAP_TOKEN_INVALID",
          );
          assert.equal(d.trace.at(-1), "setup-code-invalid");
        }
      }
    }
  });

  test("a code needs a signed device identity to bind to", () => {
    for (const setupCode of [LIMITED_CODE, { kind: "invalid" } as SetupCodeCheck]) {
      rejected(run(facts({ device: null, setupCode })), "AUTH_BOOTSTRAP_TOKEN_INVALID");
    }
  });

  test("an already paired device redeeming a code keeps its baseline and gains the profile", () => {
    const d = approved(
      run(
        facts({
          locality: REMOTE,
          sharedAuth: TOKEN_MISSING,
          stored: record({
            roles: ["node"],
            scopes: [NODE_X],
            tokens: { node: { revoked: false, scopes: [NODE_X] } },
          }),
          setupCode: LIMITED_CODE,
        }),
      ),
      { roles: ["node", "operator"], scopes: [NODE_X, APPROVALS, READ, WRITE] },
    );
    assert.equal(d.credential, "setup-code");
  });

  test("the owner key is not a code's business: a valid code beside it is ignored (not spent)", () => {
    const d = admitted(
      run(
        facts({
          device: OWNER_DEVICE,
          stored: OWNER_RECORD,
          setupCode: LIMITED_CODE,
          requestedScopes: [ADMIN],
        }),
      ),
      [ADMIN],
    );
    assert.equal(d.credential, "owner-key");
  });
});

describe("decision properties", () => {
  test("the trace starts with the locality trace and names the credential", () => {
    const d = run(facts({ locality: REMOTE, stored: record() }));
    assert.deepEqual(d.trace.slice(0, REMOTE.trace.length), REMOTE.trace);
    assert.ok(d.trace.includes("credential-token"), d.trace.join(","));
  });

  test("pure: same facts, same decision; facts are not mutated; admitted scopes are a copy", () => {
    const f = facts({ locality: REMOTE, stored: record(), pending: null, requestedScopes: [READ] });
    const snapshot = structuredClone(f);
    const d = decide(f);
    assert.deepEqual(decide(f), d);
    assert.deepEqual(f, snapshot);
    if (d.kind !== "admit") assert.fail(JSON.stringify(d));
    assert.notEqual(d.scopes, f.requestedScopes);
  });

  test("every reject code is mapped on the wire", () => {
    const codes = [
      rejected(run(facts({ device: null, role: "node", requestedScopes: [] })), "DEVICE_IDENTITY_REQUIRED")
        .code,
      rejected(run(facts({ role: "node", requestedScopes: [READ] })), "AUTH_SCOPE_MISMATCH").code,
      rejected(
        run(facts({ sharedAuth: TOKEN_MISSING, deviceToken: { kind: "mismatch" } })),
        "AUTH_DEVICE_TOKEN_MISMATCH",
      ).code,
      rejected(run(facts({ device: null, client: LANES.controlUi })), "CONTROL_UI_DEVICE_IDENTITY_REQUIRED")
        .code,
      rejected(run(facts({ sharedAuth: NONE_OK, locality: REMOTE })), "AUTH_UNAUTHORIZED").code,
      rejected(run(facts({ setupCode: { kind: "invalid" } })), "AUTH_BOOTSTRAP_TOKEN_INVALID").code,
    ];
    for (const c of codes) assert.ok(c in ERROR_TABLE, c);
  });
});

// ---------------------------------------------------------------------------------------------
// Exhaustive sweep
// ---------------------------------------------------------------------------------------------

type Labeled<T> = readonly [label: string, value: T];

/** Plain values as their own labels, or labels with `prefix` in front (read in a failure message). */
function labeled<T extends string | boolean>(values: readonly T[], prefix = ""): Labeled<T>[] {
  return values.map((v) => [`${prefix}${String(v)}`, v] as const);
}
function prefixed<T>(prefix: string, axis: readonly Labeled<T>[]): Labeled<T>[] {
  return axis.map(([label, v]) => [`${prefix} ${label}`, v] as const);
}

/**
 * Calls `visit` with every combination of the labeled `axes` and a label of it for failure
 * messages: the nested loops of both sweeps, written once.
 */
function forEachCombination<const A extends readonly (readonly Labeled<unknown>[])[]>(
  axes: A,
  visit: (values: { -readonly [K in keyof A]: A[K][number][1] }, label: () => string) => void,
): void {
  const values: unknown[] = [];
  const labels: string[] = [];
  const label = () => labels.join(" | ");
  const step = (i: number): void => {
    if (i === axes.length) return visit([...values] as never, label);
    for (const [l, v] of axes[i]!) {
      values[i] = v;
      labels[i] = l;
      step(i + 1);
    }
  };
  step(0);
}

const SWEEP_LOCALITIES: Labeled<Locality>[] = [
  ["direct-local", LOCAL],
  ["local+browser-origin", LOCAL_ORIGIN],
  ["local+own-origin", OWN_ORIGIN],
  ["remote", REMOTE],
  ["remote+browser-origin", REMOTE_ORIGIN],
];
const SWEEP_CLIENTS: Labeled<Client>[] = [
  ["cli/cli", LANES.cli],
  ["gateway-client/backend", LANES.backend],
  ["openclaw-control-ui/webchat", LANES.controlUi],
  // Every other client (a native app, node-host as operator) decides alike: one stands for all.
  ["node-host/node", LANES.nodeHost],
];
const SWEEP_ROLES: readonly Role[] = ["operator", "node"];
// [node.x] is only meaningful for the node role, but an operator client can send it too: kept.
const SWEEP_REQUESTS: Labeled<readonly string[]>[] = [
  ["[]", []],
  ["[read]", [READ]],
  ["[read,write]", [READ, WRITE]],
  ["[admin]", [ADMIN]],
  ["[pairing]", [PAIRING]],
  ["[node.x]", [NODE_X]],
];
const SWEEP_SHARED: Labeled<SharedAuthResult>[] = [
  ["token ok", TOKEN_OK],
  ["password ok", PASSWORD_OK],
  ["none-mode ok", NONE_OK],
  ["token missing", TOKEN_MISSING],
  ["token mismatch", TOKEN_MISMATCH],
];
const SWEEP_DEVICES: Labeled<Device | null>[] = [
  ["absent", null],
  ["non-owner", device()],
  ["owner key", device({ ownerKey: true })],
];

const opTokens = (scopes: readonly string[]) => scopes.filter((s) => s.startsWith("operator."));
const bothRolesFull = (key: string): StoredDeviceFacts => ({
  publicKey: key,
  roles: ["node", "operator"],
  scopes: FULL_BASELINE,
  platform: PLATFORM,
  deviceFamily: FAMILY,
  tokens: {
    operator: { revoked: false, scopes: opTokens(FULL_BASELINE) },
    node: { revoked: false, scopes: [NODE_X] },
  },
});
/** Stored records, built for the connecting device's key (so "same key" means same as proven). */
const SWEEP_STORED: Labeled<(key: string) => StoredDeviceFacts | null>[] = [
  ["none", () => null],
  ["same key, admin, both roles", bothRolesFull],
  [
    "same key, read-only operator",
    (key) => ({
      publicKey: key,
      roles: ["operator"],
      scopes: [READ],
      platform: PLATFORM,
      deviceFamily: FAMILY,
      tokens: { operator: { revoked: false, scopes: [READ] } },
    }),
  ],
  [
    "same key, operator token revoked",
    (key) => {
      const r = bothRolesFull(key);
      return { ...r, tokens: { ...r.tokens, operator: { revoked: true, scopes: opTokens(FULL_BASELINE) } } };
    },
  ],
  ["same key, empty tokens map", (key) => ({ ...bothRolesFull(key), tokens: {} })],
  ["same key, other platform pinned", (key) => ({ ...bothRolesFull(key), platform: OLD_PLATFORM })],
  ["different key", () => bothRolesFull(NEW_KEY)],
];
type TokenKind = "none" | "valid(full)" | "valid(read only)" | "revoked" | "mismatch";
const SWEEP_TOKEN_KINDS: readonly TokenKind[] = [
  "none",
  "valid(full)",
  "valid(read only)",
  "revoked",
  "mismatch",
];
const SWEEP_SETUP_CODES: Labeled<SetupCodeCheck>[] = [
  ["none", { kind: "none" }],
  ["invalid", { kind: "invalid" }],
  ["valid operator-limited", { kind: "valid", roles: ["operator"], scopes: [APPROVALS, READ, WRITE] }],
  ["valid node", { kind: "valid", roles: ["node"], scopes: [] }],
];
const SWEEP_PENDING: Labeled<(key: string) => PendingFacts | null>[] = [
  ["none", () => null],
  [
    "same key [approvals]",
    (key) => ({ requestId: "req-1", publicKey: key, roles: ["operator"], scopes: [APPROVALS] }),
  ],
  [
    "different key",
    () => ({ requestId: "req-2", publicKey: OTHER_PENDING_KEY, roles: ["node"], scopes: [ADMIN, NODE_X] }),
  ],
];

/** Freezes `value` and everything it holds. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const built = new Map<(key: string) => unknown, Map<string, unknown>>();
/**
 * `make(key)` built once per (axis entry, key) and shared by every combination that uses it,
 * frozen: decide() is pure, and one that wrote to a record it was given would now throw here
 * instead of passing unseen (a fresh record per combination hid such a write, and building one
 * per combination was work for nothing).
 */
function once<T>(make: (key: string) => T, key: string): T {
  let byKey = built.get(make);
  if (!byKey) built.set(make, (byKey = new Map()));
  if (!byKey.has(key)) byKey.set(key, deepFreeze(make(key)));
  return byKey.get(key) as T;
}

/** The "none" entries of the stored and pending axes: all a device-less connect can have. */
const NO_RECORD = SWEEP_STORED[0]![1];
const NO_PENDING = SWEEP_PENDING[0]![1];

/**
 * The device-token check for (device, role), made consistent with the stored record, or null when
 * the combination cannot occur:
 * - no device identity: the gateway cannot look a token up, so a presented one is a "mismatch";
 * - no record, or no token row for the role (empty map, role never minted): only none/mismatch;
 * - a revoked row: none/revoked/mismatch ("valid" is impossible);
 * - a live row: none/valid/mismatch ("revoked" is impossible). A valid check reports the row's
 *   scopes, so the stored row is rewritten to match (full = the baseline's scopes for the role).
 */
function tokenFacts(
  kind: TokenKind,
  dev: Device | null,
  stored: StoredDeviceFacts | null,
  role: Role,
): { deviceToken: DeviceTokenCheck; stored: StoredDeviceFacts | null } | null {
  if (kind === "none" || kind === "mismatch") return { deviceToken: { kind }, stored };
  if (!dev || !stored) return null;
  const row = stored.tokens[role];
  if (!row) return null;
  if (kind === "revoked") return row.revoked ? { deviceToken: { kind: "revoked" }, stored } : null;
  if (row.revoked) return null;
  const scopes =
    kind === "valid(read only)"
      ? [READ]
      : stored.scopes.filter((s) => s.startsWith(role === "operator" ? "operator." : "node."));
  return {
    deviceToken: { kind: "valid", scopes },
    stored: { ...stored, tokens: { ...stored.tokens, [role]: { revoked: false, scopes } } },
  };
}

function effective(stored: StoredDeviceFacts): string[] {
  return stored.roles.filter((r) => stored.tokens[r]?.revoked !== true);
}

const subset = (xs: readonly string[], of: readonly string[]) => xs.every((x) => of.includes(x));
const isLane = (c: Client) =>
  (c.id === "cli" && c.mode === "cli") || (c.id === "gateway-client" && c.mode === "backend");

/**
 * One approval of `ask`, as the store applies it: the record for this key gets the ask's roles and
 * scopes with the current metadata pinned, the pending request is gone, live tokens of the approved
 * roles carry the approved set, and revoked slots are cleared (a client presenting the revoked
 * token then presents an unknown one: "mismatch").
 */
function afterApproval(f: AdmissionFacts, dev: Device, ask: Ask): AdmissionFacts {
  const stored: StoredDeviceFacts = {
    publicKey: dev.publicKey,
    roles: ask.roles,
    scopes: ask.scopes,
    platform: dev.platform,
    deviceFamily: dev.deviceFamily,
    tokens: Object.fromEntries(ask.roles.map((r) => [r, { revoked: false, scopes: ask.scopes }])),
  };
  const t = f.deviceToken;
  const deviceToken: DeviceTokenCheck =
    t.kind === "valid"
      ? { kind: "valid", scopes: ask.scopes }
      : t.kind === "revoked"
        ? { kind: "mismatch" }
        : t;
  return { ...f, stored, deviceToken, pending: null };
}

/** Checks every invariant on one combination; throws with the combination's description. */
function checkInvariants(f: AdmissionFacts, label: () => string): void {
  const d = decide(f);
  // `what` as a function: a message that shows a later decision is built only when it fails.
  const check = (cond: boolean, what: string | (() => string)) => {
    if (!cond)
      assert.fail(
        `${typeof what === "string" ? what : what()}\n  facts: ${label()}\n  decision: ${JSON.stringify(d)}`,
      );
  };

  check(d.trace.length > 0, "empty trace");
  if (d.kind === "reject") check(d.code in ERROR_TABLE, "reject code not mapped");

  // The one browser exception: the gateway's own Control UI on loopback proving the shared secret.
  const ownUi =
    f.locality.ownOrigin === true &&
    (f.client.id === "openclaw-control-ui" ||
      f.client.id === "webchat-ui" ||
      f.client.id === "webchat" ||
      f.client.mode === "webchat") &&
    f.sharedAuth.ok &&
    f.sharedAuth.method !== "none" &&
    !f.device?.ownerKey;
  const silentPlace = f.locality.directLocal && (!f.locality.browserOrigin || ownUi);
  const code = f.setupCode ?? { kind: "none" };
  const viaCode = d.kind !== "reject" && d.credential === "setup-code";
  check(
    !(d.kind === "approve-then-admit" && !silentPlace && !viaCode),
    "remote or browser-origin approved silently",
  );
  check(
    !(d.kind === "approve-then-admit" && !f.config.autoApproveLocal && !viaCode),
    "approved with autoApproveLocal=false",
  );

  const dev = f.device;
  // Setup codes (C23): a bad one admits nothing; a good one needs a device, and only it approves.
  if (code.kind === "invalid") {
    // Refused as such, unless the request was malformed to begin with (refused before any credential).
    const malformed = f.role === "node" && f.requestedScopes.some((x) => !x.startsWith("node."));
    check(
      d.kind === "reject" && (malformed || d.code === "AUTH_BOOTSTRAP_TOKEN_INVALID"),
      "an invalid setup code was not refused",
    );
  }
  if (code.kind === "valid" && !dev) check(d.kind === "reject", "a setup code admitted a device-less client");
  if (viaCode)
    check(code.kind === "valid" && dev !== null && !dev.ownerKey, "setup-code credential without a code");
  if (code.kind === "valid" && dev && !dev.ownerKey) {
    const within =
      code.roles.includes(f.role) && f.requestedScopes.every((s) => scopeSatisfied(code.scopes, s));
    // A revoked (device, role) is never revived by a code: the code approves nothing then.
    const revived =
      f.stored !== null && f.stored.publicKey === dev.publicKey && f.stored.tokens[f.role]?.revoked === true;
    if (!within)
      check(d.kind === "reject" && d.code === "AUTH_SCOPE_MISMATCH", "a code's profile was exceeded");
    else if (revived) check(!viaCode || d.kind === "pend", "a setup code revived a revoked role");
    else check(d.kind === "approve-then-admit" && viaCode, "a live code within its profile did not approve");
    if (d.kind === "approve-then-admit" && viaCode) {
      check(
        subset(code.roles, d.ask.roles) && subset(code.scopes, d.ask.scopes),
        "ask is not the whole profile",
      );
      check(
        d.token.action === "issue" && subset(d.token.scopes, code.scopes),
        "the token a code issues carries more than the profile",
      );
    }
  }
  // A provided wrong shared secret is charged whatever admits the connect (C17).
  if (!f.sharedAuth.ok && f.sharedAuth.provided)
    check(d.charge.includes("shared-secret"), "wrong secret not charged");
  if (f.deviceToken.kind === "mismatch" || f.deviceToken.kind === "revoked") {
    check(d.charge.includes("device-token"), "wrong device token not charged");
  }
  check(!d.charge.some((k) => d.clear.includes(k)), "a credential both charged and cleared");
  if (d.kind === "reject") check(d.clear.length === 0, "a refusal forgave a credential");
  if ((d.kind === "admit" || d.kind === "approve-then-admit") && d.token.action === "issue") {
    const prefix = f.role === "operator" ? "operator." : "node.";
    const granted = d.kind === "approve-then-admit" ? d.ask.scopes : (f.stored?.scopes ?? []);
    check(
      d.token.scopes.every((s) => s.startsWith(prefix) && granted.includes(s)),
      "an issued token carries scopes beyond the role's approved ones",
    );
  }

  const sharedProof = f.sharedAuth.ok && (f.sharedAuth.method !== "none" || f.locality.directLocal);
  if (!sharedProof && !dev?.ownerKey && f.deviceToken.kind !== "valid" && code.kind !== "valid") {
    check(d.kind === "reject", "admitted, approved or pended without any valid proof");
  }

  if (d.kind !== "reject") {
    check(
      d.credential !== "device-token" || f.deviceToken.kind === "valid",
      "non-valid device token as credential",
    );
    check(
      d.credential !== "owner-key" || dev?.ownerKey === true,
      "owner-key credential without the owner key",
    );
    if (!dev)
      check(d.credential !== "device-token" && d.credential !== "owner-key", "device-less device credential");
  }
  if (d.kind === "approve-then-admit") {
    check(
      sharedProof || dev?.ownerKey === true || viaCode,
      "silent approval without shared secret or owner key",
    );
    check(d.credential !== "device-token", "silent approval on a device token");
  }

  if (d.kind === "admit" || d.kind === "approve-then-admit") {
    check(subset(d.scopes, f.requestedScopes), "admitted scopes not requested");
  }

  if (!dev) {
    check(d.kind !== "pend" && d.kind !== "approve-then-admit", "device-less pend/approval");
    if (d.kind === "admit") {
      const keeps = isLane(f.client) && silentPlace && f.role === "operator";
      check(
        JSON.stringify(d.scopes) === JSON.stringify(keeps ? f.requestedScopes : []),
        keeps ? "local lane lost its scopes" : "device-less non-lane/non-local client kept scopes",
      );
    }
    return;
  }

  // The host's own backend proving the shared secret is admitted as without its device: neither
  // paired nor given a token, whatever its record says (issue 13; OpenClaw skips its pairing too).
  const backendLane =
    !dev.ownerKey &&
    f.client.id === "gateway-client" &&
    f.client.mode === "backend" &&
    f.role === "operator" &&
    f.locality.directLocal &&
    !f.locality.browserOrigin &&
    f.sharedAuth.ok &&
    (f.sharedAuth.method === "token" || f.sharedAuth.method === "password");
  if (d.trace.includes("local-backend-device-not-paired")) {
    check(
      backendLane && !viaCode,
      "local-backend lane outside a direct-local backend with the shared secret",
    );
    check(
      d.kind === "admit" &&
        d.token.action === "none" &&
        JSON.stringify(d.scopes) === JSON.stringify(f.requestedScopes),
      "local-backend lane did not admit exactly the request without a token",
    );
    return;
  }
  check(
    !(backendLane && !viaCode && d.kind !== "reject"),
    "a direct-local backend with the shared secret paired",
  );

  const stored = f.stored;
  const sameKey = stored !== null && stored.publicKey === dev.publicKey;
  const metaEqual =
    stored !== null &&
    (stored.platform === null || stored.platform === dev.platform) &&
    (stored.deviceFamily === null || stored.deviceFamily === dev.deviceFamily);
  const roleEffective = stored !== null && effective(stored).includes(f.role);
  const scopesCovered = stored !== null && f.requestedScopes.every((s) => scopeSatisfied(stored.scopes, s));
  const covered = sameKey && metaEqual && roleEffective && scopesCovered;
  const pendingSame = f.pending !== null && f.pending.publicKey === dev.publicKey ? f.pending : null;

  if (covered && !viaCode)
    check(d.kind !== "pend" && d.kind !== "approve-then-admit", "covered request pended or re-approved");
  else check(d.kind !== "admit", "uncovered request admitted");

  if (d.kind === "admit" || d.kind === "approve-then-admit") {
    const granted = [
      ...(sameKey ? stored.scopes : []),
      ...(d.kind === "approve-then-admit" ? d.ask.scopes : []),
    ];
    check(
      d.scopes.every((s) => scopeSatisfied(granted, s)),
      "admitted scopes not covered by stored baseline ∪ ask",
    );
  }

  if (d.kind === "pend") {
    if (d.reason === "not-paired") check(stored === null, "not-paired with a stored record");
    if (d.reason === "key-changed") check(stored !== null && !sameKey, "key-changed with the same key");
    if (d.reason === "metadata-upgrade") check(!metaEqual, "metadata-upgrade with equal metadata");
    if (d.reason === "role-upgrade") check(!roleEffective, "role-upgrade for an effective role");
    if (d.reason === "scope-upgrade") check(!scopesCovered, "scope-upgrade for covered scopes");
  }
  if (stored !== null && !sameKey && !viaCode)
    check(d.kind !== "admit" && d.kind !== "approve-then-admit", "key change admitted");

  if (d.kind === "pend" || d.kind === "approve-then-admit") {
    const { ask } = d;
    check(subset(f.requestedScopes, ask.scopes), "ask misses requested scopes");
    check(ask.roles.includes(f.role), "ask misses the role");
    if (sameKey) {
      check(subset(stored.scopes, ask.scopes), "ask drops the stored baseline");
      check(subset(effective(stored), ask.roles), "ask drops effective roles");
    }
    const fromCode = viaCode && code.kind === "valid" ? code : { roles: [], scopes: [] };
    const allowedScopes = [
      ...f.requestedScopes,
      ...(sameKey ? stored.scopes : []),
      ...(pendingSame?.scopes ?? []),
      ...fromCode.scopes,
    ];
    const allowedRoles = [
      f.role,
      ...(sameKey ? effective(stored) : []),
      ...(pendingSame?.roles ?? []),
      ...fromCode.roles,
    ];
    check(subset(ask.scopes, allowedScopes), "ask has scopes nobody asked for (old key or foreign pending)");
    check(subset(ask.roles, allowedRoles), "ask has roles nobody asked for (old key or foreign pending)");
    check(JSON.stringify(ask.scopes) === JSON.stringify(sorted(ask.scopes)), "ask scopes not a sorted set");

    // One approval admits it; no second request follows. After a setup-code approval the device
    // comes back with the token it was issued, and its spent code is no longer presented.
    const approvedFacts = afterApproval(f, dev, ask);
    const after = decide(
      viaCode
        ? {
            ...approvedFacts,
            setupCode: { kind: "none" },
            deviceToken: { kind: "valid", scopes: ask.scopes },
          }
        : approvedFacts,
    );
    // A live code still presented (one that could not serve the first connect) now approves its
    // profile instead: admitted either way, no second request.
    const byCodeNow = code.kind === "valid" && !viaCode && after.kind === "approve-then-admit";
    check(
      (after.kind === "admit" || byCodeNow) &&
        JSON.stringify(after.scopes) === JSON.stringify(f.requestedScopes),
      () => `after approving the ask, the same request is not admitted: ${JSON.stringify(after)}`,
    );
  }

  if (d.kind === "pend") {
    // The same request again, with its own pending request stored: same reason, same ask.
    const again = decide({
      ...f,
      pending: { requestId: "req-same", publicKey: dev.publicKey, roles: d.ask.roles, scopes: d.ask.scopes },
    });
    check(
      again.kind === "pend" &&
        again.reason === d.reason &&
        JSON.stringify(again.ask) === JSON.stringify(d.ask),
      () => `a repeat changed the pending ask: ${JSON.stringify(again)}`,
    );
  }
}

describe("exhaustive invariants over the fact space", () => {
  test("no combination breaks an admission invariant", (t) => {
    let checked = 0;
    let skipped = 0;
    forEachCombination(
      [
        SWEEP_LOCALITIES,
        SWEEP_CLIENTS,
        labeled(SWEEP_ROLES),
        SWEEP_REQUESTS,
        prefixed("shared", SWEEP_SHARED),
        prefixed("device", SWEEP_DEVICES),
        prefixed("stored", SWEEP_STORED),
        labeled(SWEEP_TOKEN_KINDS, "device token "),
        prefixed("pending", SWEEP_PENDING),
        prefixed("setup code", SWEEP_SETUP_CODES),
        labeled([true, false], "autoApproveLocal "),
      ],
      (
        [
          locality,
          client,
          role,
          requestedScopes,
          sharedAuth,
          dev,
          makeStored,
          tokenKind,
          makePending,
          setupCode,
          autoApproveLocal,
        ],
        label,
      ) => {
        // Without a device identity there is no record and no pending request to read.
        if (!dev && (makeStored !== NO_RECORD || makePending !== NO_PENDING)) return;
        const baseStored = dev ? once(makeStored, dev.publicKey) : null;
        const tf = tokenFacts(tokenKind, dev, baseStored, role);
        if (!tf) {
          skipped++;
          return;
        }
        const f: AdmissionFacts = {
          locality,
          client,
          role,
          requestedScopes,
          sharedAuth,
          device: dev,
          stored: tf.stored,
          deviceToken: tf.deviceToken,
          pending: dev ? once(makePending, dev.publicKey) : null,
          setupCode,
          config: { autoApproveLocal },
        };
        checkInvariants(f, label);
        checked++;
      },
    );
    t.diagnostic(
      `admission invariants checked on ${checked} combinations (${skipped} impossible ones skipped)`,
    );
    console.log(
      `admission: ${checked} fact combinations checked, ${skipped} impossible combinations skipped`,
    );
    // Device present: 5 localities × 4 clients × 6 requests × 5 shared × 2 devices × 3 pending × 4 setup
    // codes × 2 config × (23 possible stored×token pairs for operator + 22 for node) = 1296000.
    // Device absent: 5 × 4 × 2 roles × 6 × 5 × 2 tokens (none, mismatch) × 4 setup codes × 2 config = 19200.
    // Lockouts, the token slot and spent codes are swept in admission-credentials.test.ts.
    assert.equal(checked, 1296000 + 19200);
  });
});

// ---------------------------------------------------------------------------------------------
// Trusted-proxy mode (issue 16): the same fact space with the proxy's facts swept in
// ---------------------------------------------------------------------------------------------

const TP_POLICIES: Labeled<TrustedProxyPolicy>[] = [
  [
    "auto-approve off",
    {
      allowLoopback: false,
      allowUsers: [],
      identityScopes: { "alice@example.com": [READ, WRITE] },
      deviceAutoApprove: { enabled: false, scopes: [] },
    },
  ],
  [
    "auto-approve read+write, allowUsers alice, allowLoopback",
    {
      allowLoopback: true,
      allowUsers: ["ALICE@example.com"],
      identityScopes: { "Alice@Example.com": [ADMIN] },
      deviceAutoApprove: { enabled: true, scopes: [READ, WRITE] },
    },
  ],
  [
    "auto-approve admin",
    {
      allowLoopback: false,
      allowUsers: [],
      identityScopes: {},
      deviceAutoApprove: { enabled: true, scopes: [ADMIN] },
    },
  ],
];

/** Proxy facts: a good request, each way one can go wrong, and direct connections. */
const TP_FACTS: Labeled<Omit<ProxyFacts, "config">>[] = [
  ["verified alice", PROXY_ALICE],
  [
    "verified bob (header only)",
    { ...PROXY_ALICE, userHeader: "bob", assertion: { kind: "not-configured" } },
  ],
  ["untrusted peer", { ...PROXY_ALICE, peerTrusted: false }],
  ["loopback peer", { ...PROXY_ALICE, peerLoopback: true }],
  ["own-address peer", { ...PROXY_ALICE, peerOwnAddress: true }],
  ["forwarded loopback", { ...PROXY_ALICE, forwarded: "loopback" }],
  ["unattributable", { ...PROXY_ALICE, forwarded: "unattributable" }],
  ["required header missing", { ...PROXY_ALICE, missingHeaders: ["x-forwarded-proto"] }],
  ["user header missing", { ...PROXY_ALICE, userHeader: null }],
  ["assertion missing", { ...PROXY_ALICE, assertion: { kind: "missing" } }],
  ["assertion expired", { ...PROXY_ALICE, assertion: { kind: "invalid", why: "expired" } }],
  ["header disagrees", { ...PROXY_ALICE, userHeader: "mallory@example.com" }],
  ["direct", NO_PROXY],
  [
    "direct via trusted peer",
    { ...PROXY_ALICE, forwarded: "none", identityHeaders: false, userHeader: null },
  ],
];
const TP_LOCALITIES: Labeled<Locality>[] = [
  ["direct-local", LOCAL],
  ["via proxy", VIA_PROXY],
  ["remote", REMOTE],
  ["remote+browser-origin", REMOTE_ORIGIN],
];
const TP_SHARED: Labeled<SharedAuthResult>[] = [
  ["password ok", PASSWORD_OK],
  ["password missing", PASSWORD_MISSING],
  ["password wrong", PASSWORD_MISMATCH],
];

/**
 * The identity the proxy facts resolve to, once per (facts, policy) pair of the sweep instead of
 * once per combination: resolveProxyIdentity is pure and reads nothing else.
 */
const proxyIdentities = new Map<object, Map<object, ReturnType<typeof resolveProxyIdentity>>>();
function proxyIdentity(proxyFacts: Omit<ProxyFacts, "config">, config: TrustedProxyPolicy) {
  let byPolicy = proxyIdentities.get(proxyFacts);
  if (!byPolicy) proxyIdentities.set(proxyFacts, (byPolicy = new Map()));
  let id = byPolicy.get(config);
  if (!id) byPolicy.set(config, (id = resolveProxyIdentity({ ...proxyFacts, config })));
  return id;
}

function checkProxyInvariants(
  f: AdmissionFacts & { proxy: ProxyFacts },
  id: ReturnType<typeof resolveProxyIdentity>,
  label: () => string,
): void {
  const d = decide(f);
  const check = (cond: boolean, what: string) => {
    if (!cond) assert.fail(`${what}\n  facts: ${label()}\n  decision: ${JSON.stringify(d)}`);
  };
  check(d.trace.length > 0, "empty trace");
  if (d.kind === "reject") check(d.code in ERROR_TABLE, "reject code not mapped");
  // A refused identity refuses the connect, whatever else came with it.
  if (id.kind === "refused") {
    check(
      d.kind === "reject" && d.code === id.code && d.clear.length === 0,
      "a refused proxy identity got in",
    );
    return;
  }
  const viaProxy = id.kind === "verified";
  // The password counts from this host directly only, and is never charged elsewhere.
  if (viaProxy || !f.locality.directLocal) {
    check(!d.charge.includes("shared-secret"), "an off-host password was charged");
    check(d.kind === "reject" || d.credential !== "password", "an off-host password proved a connect");
  }
  if (d.kind === "reject") return;
  check(d.credential !== "token" && d.credential !== "none", "a token or mode none in trusted-proxy mode");
  check(
    !viaProxy || d.credential === "trusted-proxy" || d.credential === "owner-key",
    "through the proxy something other than the verified identity (or the owner key) proved the connect",
  );
  if (d.credential === "trusted-proxy") {
    check(viaProxy, "trusted-proxy credential without a verified identity");
    check(
      d.proxyUser?.verified === true && d.proxyUser.user === (id.kind === "verified" ? id.user : ""),
      "user not recorded",
    );
    if (d.kind === "admit" || d.kind === "approve-then-admit")
      check(d.token.action === "none", "a device token issued to a proxy session");
  }
  if (!f.device && d.kind === "admit" && d.credential === "trusted-proxy" && id.kind === "verified") {
    const held = identityScopesFor(f.proxy.config, id.user);
    check(
      d.scopes.every((s) => scopeSatisfied(held, s) && f.requestedScopes.includes(s)),
      "device-less beyond identity scopes",
    );
  }
  if (d.kind === "approve-then-admit" && d.credential === "trusted-proxy") {
    const auto = f.proxy.config.deviceAutoApprove;
    const stored = f.stored !== null && f.stored.publicKey === f.device?.publicKey ? f.stored : null;
    check(auto.enabled, "auto-approved with deviceAutoApprove off");
    check(f.role === "operator", "auto-approved a node role");
    check(f.stored === null || stored !== null, "auto-approved a key change");
    const added = d.ask.scopes.filter((s) => !(stored?.scopes ?? []).includes(s));
    check(
      added.every((s) => scopeSatisfied(auto.scopes, s)),
      "auto-approved beyond deviceAutoApprove.scopes",
    );
    check(
      !added.includes(ADMIN) || auto.scopes.includes(ADMIN),
      "auto-approved operator.admin without it listed",
    );
  }
}

describe("exhaustive invariants in trusted-proxy mode", () => {
  test("no combination with proxy facts breaks a trusted-proxy invariant", () => {
    let checked = 0;
    forEachCombination(
      [
        TP_LOCALITIES,
        SWEEP_CLIENTS,
        labeled(SWEEP_ROLES),
        SWEEP_REQUESTS,
        TP_SHARED,
        SWEEP_DEVICES,
        SWEEP_STORED,
        SWEEP_PENDING,
        TP_FACTS,
        TP_POLICIES,
      ],
      (
        [
          locality,
          client,
          role,
          requestedScopes,
          sharedAuth,
          dev,
          makeStored,
          makePending,
          proxyFacts,
          config,
        ],
        label,
      ) => {
        if (!dev && (makeStored !== NO_RECORD || makePending !== NO_PENDING)) return;
        const f = {
          locality,
          client,
          role,
          requestedScopes,
          sharedAuth,
          device: dev,
          stored: dev ? once(makeStored, dev.publicKey) : null,
          deviceToken: { kind: "none" } as const,
          pending: dev ? once(makePending, dev.publicKey) : null,
          config: { autoApproveLocal: true },
          proxy: { ...proxyFacts, config },
        };
        checkProxyInvariants(f, proxyIdentity(proxyFacts, config), label);
        checked++;
      },
    );
    console.log(`admission (trusted-proxy): ${checked} fact combinations checked`);
    // Device present: 4 × 4 × 2 × 6 × 3 × 2 devices × 7 stored × 3 pending × 14 × 3; absent: 4 × 4 × 2 × 6 × 3 × 14 × 3.
    assert.equal(checked, 4 * 4 * 2 * 6 * 3 * 2 * 7 * 3 * 14 * 3 + 4 * 4 * 2 * 6 * 3 * 14 * 3);
  });
});
