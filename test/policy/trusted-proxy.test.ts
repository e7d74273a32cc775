/**
 * Trusted-proxy mode in the admission policy (issue 16; S24–S27, C03, C04, C06, C07): whether the
 * proxy is believed, who the user is, what a device-less user gets, how devices pair, and that
 * internal callers on the host keep working without the proxy.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AdmissionFacts } from "../../src/policy/admission.js";
import {
  proxyPeerFacts,
  resolveProxyIdentity,
  sameUser,
  type ProxyFacts,
  type TrustedProxyPolicy,
} from "../../src/policy/trusted-proxy.js";
import {
  ADMIN,
  admitted,
  approved,
  device,
  facts,
  LANES,
  LOCAL,
  observed,
  OWNER_DEVICE,
  NO_PROXY,
  OWNER_RECORD,
  PASSWORD_MISMATCH,
  PASSWORD_MISSING,
  PASSWORD_OK,
  pended,
  PAIRING,
  PROXY_ALICE,
  PROXY_IP,
  READ,
  record,
  rejected,
  run,
  VIA_PROXY,
  WRITE,
} from "./admission-fixtures.js";

const TRUSTED = [PROXY_IP, "127.0.0.1"];

function policy(overrides: Partial<TrustedProxyPolicy> = {}): TrustedProxyPolicy {
  return {
    allowLoopback: false,
    allowUsers: [],
    identityScopes: { "Alice@Example.com": [READ, WRITE], root: [ADMIN] },
    deviceAutoApprove: { enabled: false, scopes: [] },
    ...overrides,
  };
}

/** A well-behaved proxy request from 10.0.0.5 for alice with a verified assertion. */
function proxied(overrides: Partial<ProxyFacts> = {}, config: Partial<TrustedProxyPolicy> = {}): ProxyFacts {
  return { ...PROXY_ALICE, config: policy(config), ...overrides };
}

/** No proxy, no identity headers: a caller on this host or a device connecting directly. */
function direct(overrides: Partial<ProxyFacts> = {}): ProxyFacts {
  return proxied({ ...NO_PROXY, ...overrides });
}

function proxyFacts(proxy: ProxyFacts, overrides: Partial<AdmissionFacts> = {}): AdmissionFacts {
  return facts({
    locality: VIA_PROXY,
    client: LANES.controlUi,
    sharedAuth: PASSWORD_MISSING,
    device: null,
    requestedScopes: [READ],
    proxy,
    ...overrides,
  });
}

describe("who the proxy says the user is (resolveProxyIdentity)", () => {
  test("S27: a verified assertion from a trusted proxy names the user", () => {
    const id = resolveProxyIdentity(proxied());
    assert.equal(id.kind, "verified");
    assert.equal(id.kind === "verified" && id.user, "alice@example.com");
  });

  const refusals: Array<[string, Partial<ProxyFacts>, Partial<TrustedProxyPolicy>, string, string]> = [
    [
      "S24/C03: identity headers from a peer that is not a trusted proxy",
      { peerTrusted: false },
      {},
      "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
      "proxy-identity-from-untrusted-peer",
    ],
    [
      "S26/C06: from loopback without allowLoopback",
      { peerLoopback: true },
      {},
      "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
      "proxy-loopback-source",
    ],
    [
      "C06: from one of this host's own addresses",
      { peerOwnAddress: true },
      {},
      "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
      "proxy-peer-is-own-address",
    ],
    [
      "C04: forwarded client is loopback",
      { forwarded: "loopback" },
      {},
      "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
      "proxy-forwarded-client-loopback",
    ],
    [
      "C07: no attributable forwarded client",
      { forwarded: "unattributable" },
      {},
      "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
      "proxy-forwarded-client-unattributable",
    ],
    [
      "a required header missing",
      { missingHeaders: ["x-forwarded-proto"] },
      {},
      "AUTH_IDENTITY_HEADER_REQUIRED",
      "proxy-required-header-missing",
    ],
    [
      "the user header missing",
      { userHeader: null },
      {},
      "AUTH_IDENTITY_HEADER_REQUIRED",
      "proxy-user-header-missing",
    ],
    [
      "the assertion missing",
      { assertion: { kind: "missing" } },
      {},
      "AUTH_IDENTITY_HEADER_REQUIRED",
      "proxy-assertion-missing",
    ],
    [
      "an assertion signed by a foreign key",
      { assertion: { kind: "invalid", why: "signature" } },
      {},
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-signature-invalid",
    ],
    [
      "an expired assertion",
      { assertion: { kind: "invalid", why: "expired" } },
      {},
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-expired",
    ],
    [
      "an assertion for another audience",
      { assertion: { kind: "invalid", why: "audience" } },
      {},
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-wrong-audience",
    ],
    [
      "an assertion from another issuer",
      { assertion: { kind: "invalid", why: "issuer" } },
      {},
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-wrong-issuer",
    ],
    [
      "a user header that disagrees with the assertion's claim",
      { userHeader: "mallory@example.com" },
      {},
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-user-header-disagrees",
    ],
    [
      "a user outside allowUsers",
      {},
      { allowUsers: ["bob@example.com"] },
      "AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED",
      "proxy-user-not-allowed",
    ],
  ];
  for (const [name, overrides, config, code, rule] of refusals) {
    test(`refused: ${name}`, () => {
      const id = resolveProxyIdentity(proxied(overrides, config));
      if (id.kind !== "refused") assert.fail(`expected refused, got ${JSON.stringify(id)}`);
      assert.equal(id.code, code);
      assert.equal(id.rule, rule);
      assert.equal(id.trace.at(-1), rule);
      // And the whole connect is refused with that code, whatever else it presented.
      for (const extra of [{}, { device: OWNER_DEVICE, stored: OWNER_RECORD }, { sharedAuth: PASSWORD_OK }]) {
        rejected(run(proxyFacts(proxied(overrides, config), extra)), code as never);
      }
    });
  }

  test("allowUsers and identityScopes match e-mail addresses case-insensitively, other names exactly", () => {
    assert.equal(sameUser("Alice@Example.COM", "alice@example.com"), true);
    assert.equal(sameUser("Alice", "alice"), false);
    const allowed = resolveProxyIdentity(proxied({}, { allowUsers: ["ALICE@example.com"] }));
    assert.equal(allowed.kind, "verified");
    const d = run(proxyFacts(proxied(), { requestedScopes: [READ, WRITE] }));
    admitted(d, [READ, WRITE]);
  });

  test("S26: a same-host proxy is believed with allowLoopback", () => {
    const id = resolveProxyIdentity(proxied({ peerLoopback: true }, { allowLoopback: true }));
    assert.equal(id.kind, "verified");
    assert.ok(id.kind === "verified" && id.trace.includes("proxy-peer-loopback-allowed"));
  });

  test("without an assertion the user header is the identity; with a claim-less assertion too", () => {
    for (const assertion of [{ kind: "not-configured" }, { kind: "valid", claim: null }] as const) {
      const id = resolveProxyIdentity(proxied({ assertion, userHeader: "bob" }));
      assert.equal(id.kind === "verified" && id.user, "bob");
    }
  });

  test("forwarding headers from an untrusted peer without identity headers are not a proxy attempt (C03)", () => {
    assert.equal(resolveProxyIdentity(direct({ forwarded: "unattributable" })).kind, "direct");
  });

  test("proxyPeerFacts: CIDR-aware trust, loopback, own addresses, the forwarded client", () => {
    const t = (peerAddress: string, forwardedFor: string | null) => ({
      peerAddress,
      host: "gw",
      origin: null,
      forwardedFor,
      hasProxyHeaders: forwardedFor !== null,
    });
    assert.deepEqual(proxyPeerFacts(t("172.18.0.3", "198.51.100.20"), ["172.16.0.0/12"], []), {
      peerTrusted: true,
      peerLoopback: false,
      peerOwnAddress: false,
      forwarded: "non-loopback",
    });
    assert.equal(proxyPeerFacts(t("172.32.0.3", "198.51.100.20"), ["172.16.0.0/12"], []).peerTrusted, false);
    assert.equal(proxyPeerFacts(t("::ffff:10.0.0.5", null), [PROXY_IP], []).peerTrusted, true);
    assert.equal(proxyPeerFacts(t("10.0.0.5", null), [PROXY_IP], ["10.0.0.5"]).peerOwnAddress, true);
    assert.equal(proxyPeerFacts(t("10.0.0.5", "127.0.0.1"), [PROXY_IP], []).forwarded, "loopback");
    assert.equal(proxyPeerFacts(t("10.0.0.5", "not-an-ip"), [PROXY_IP], []).forwarded, "unattributable");
    assert.equal(proxyPeerFacts(t("127.0.0.1", null), TRUSTED, []).peerLoopback, true);
  });
});

describe("what a proxy-verified user gets", () => {
  test("a device-less user gets exactly its identity scopes that it asked for, no token, recorded by name", () => {
    const d = admitted(run(proxyFacts(proxied(), { requestedScopes: [ADMIN, READ, WRITE, PAIRING] })), [
      READ,
      WRITE,
    ]);
    assert.equal(d.credential, "trusted-proxy");
    assert.deepEqual(d.token, { action: "none" });
    assert.deepEqual(d.proxyUser, { user: "alice@example.com", verified: true });
    assert.ok(d.trace.includes("trusted-proxy-identity-scopes"));
  });

  test("a user without identity scopes is admitted with none", () => {
    const proxy = proxied({
      userHeader: "carol@example.com",
      assertion: { kind: "valid", claim: "carol@example.com" },
    });
    admitted(run(proxyFacts(proxy, { requestedScopes: [READ] })), []);
  });

  test("a device-less node is refused: identity scopes are operator scopes", () => {
    rejected(run(proxyFacts(proxied(), { role: "node", requestedScopes: [] })), "DEVICE_IDENTITY_REQUIRED");
  });

  test("S27: a new device pends by default; its session gets no device token when covered", () => {
    const dev = device();
    pended(run(proxyFacts(proxied(), { device: dev })), "not-paired");
    const d = admitted(run(proxyFacts(proxied(), { device: dev, stored: record() })), [READ]);
    assert.equal(d.credential, "trusted-proxy");
    assert.deepEqual(d.token, { action: "none" });
  });

  test("S27: deviceAutoApprove approves silently within its scopes, never beyond", () => {
    const auto = { deviceAutoApprove: { enabled: true, scopes: [READ, WRITE] } };
    const dev = device();
    const d = approved(run(proxyFacts(proxied({}, auto), { device: dev, requestedScopes: [WRITE] })), {
      roles: ["operator"],
      scopes: [WRITE],
    });
    assert.ok(d.trace.includes("trusted-proxy-auto-approve"));
    assert.deepEqual(d.token, { action: "none" });
    const beyond = pended(
      run(proxyFacts(proxied({}, auto), { device: dev, requestedScopes: [ADMIN] })),
      "not-paired",
    );
    assert.ok(beyond.trace.includes("trusted-proxy-auto-approve-exceeds-scopes"));
  });

  test("deviceAutoApprove never approves a node role or a key change", () => {
    const auto = { deviceAutoApprove: { enabled: true, scopes: [ADMIN] } };
    const node = pended(
      run(proxyFacts(proxied({}, auto), { device: device(), role: "node", requestedScopes: [] })),
      "not-paired",
    );
    assert.ok(node.trace.includes("trusted-proxy-auto-approve-node-role"));
    const changed = pended(
      run(proxyFacts(proxied({}, auto), { device: device({ publicKey: "pk-new" }), stored: record() })),
      "key-changed",
    );
    assert.ok(changed.trace.includes("key-change-needs-approval"));
  });

  test("operator.admin is auto-approved only when listed", () => {
    const dev = device();
    pended(
      run(
        proxyFacts(proxied({}, { deviceAutoApprove: { enabled: true, scopes: [READ, WRITE] } }), {
          device: dev,
          requestedScopes: [ADMIN],
        }),
      ),
      "not-paired",
    );
    approved(
      run(
        proxyFacts(proxied({}, { deviceAutoApprove: { enabled: true, scopes: [ADMIN] } }), {
          device: dev,
          requestedScopes: [ADMIN],
        }),
      ),
      { roles: ["operator"], scopes: [ADMIN] },
    );
  });
});

describe("internal callers on the host without the proxy", () => {
  test("the owner key on loopback", () => {
    const d = run(
      facts({
        locality: LOCAL,
        device: OWNER_DEVICE,
        stored: OWNER_RECORD,
        sharedAuth: PASSWORD_MISSING,
        proxy: direct(),
      }),
    );
    assert.equal(d.kind, "admit");
  });

  test("a runtime token on loopback", () => {
    const d = run(
      facts({
        locality: LOCAL,
        device: null,
        sharedAuth: PASSWORD_MISSING,
        runtimeToken: { kind: "valid", scopes: [READ], jobId: "job-1" },
        proxy: direct(),
      }),
    );
    admitted(d, [READ]);
  });

  test("gateway.auth.password from a direct-local CLI keeps its scopes", () => {
    const d = admitted(
      run(
        facts({
          locality: LOCAL,
          device: null,
          sharedAuth: PASSWORD_OK,
          requestedScopes: [ADMIN],
          proxy: direct(),
        }),
      ),
      [ADMIN],
    );
    assert.equal(d.credential, "password");
  });

  test("the password from anywhere else does not count, right or wrong, and is not charged", () => {
    const remote = observed({ peerAddress: "203.0.113.9", host: "gw.example.com" });
    for (const sharedAuth of [PASSWORD_OK, PASSWORD_MISMATCH]) {
      const d = rejected(
        run(facts({ locality: remote, device: null, sharedAuth, proxy: direct() })),
        "AUTH_REQUIRED",
      );
      assert.deepEqual(d.charge, []);
      assert.ok(d.trace.includes("trusted-proxy-password-off-host"));
    }
    // Through the proxy, the password beside a verified identity adds nothing either.
    const d = run(proxyFacts(proxied(), { sharedAuth: PASSWORD_MISMATCH }));
    assert.equal(d.kind, "admit");
    assert.deepEqual(d.charge, []);
  });

  test("a wrong password on the host is refused and charged as usual", () => {
    const d = rejected(
      run(facts({ locality: LOCAL, device: null, sharedAuth: PASSWORD_MISMATCH, proxy: direct() })),
      "AUTH_PASSWORD_MISMATCH",
    );
    assert.deepEqual(d.charge, ["shared-secret"]);
  });
});
