/**
 * `gateway.auth.mode: "trusted-proxy"` (issue 16, S26/S27): OpenClaw's key names, validated like
 * every other key; whatever the gateway could not enforce stops it, naming the key and the reason.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { runCli } from "../helpers/gateway-process.js";
import { stateWithFile } from "./helpers.js";

/** The file's gateway section as these tests edit it (loosely typed: they write wrong values too). */
interface Gw {
  bind?: string;
  trustedProxies?: string[];
  auth: {
    mode: string;
    token?: string;
    password?: string;
    identityScopes?: Record<string, string[]>;
    trustedProxy: {
      userHeader?: string;
      requiredHeaders?: string[];
      allowUsers?: string[];
      allowLoopback?: boolean;
      loopbackUser?: string;
      assertion: {
        header?: string;
        jwksUrl?: string;
        jwksFile?: string;
        issuer?: string;
        audience?: string;
        userClaim?: string;
      };
      deviceAutoApprove?: { enabled?: boolean; scopes?: string[] };
    };
  };
}

/** A complete, enforceable trusted-proxy config; cases below break one thing each. */
function goodConfig(): { gateway: Gw } {
  return {
    gateway: {
      bind: "lan",
      trustedProxies: ["10.0.0.1", "172.16.0.0/12"],
      auth: {
        mode: "trusted-proxy",
        password: "internal-callers-secret",
        identityScopes: { "Admin@Example.com": ["operator.admin"], bob: ["operator.read"] },
        trustedProxy: {
          userHeader: "X-Forwarded-User",
          requiredHeaders: ["x-forwarded-proto"],
          allowUsers: ["alice@example.com"],
          assertion: {
            header: "Cf-Access-Jwt-Assertion",
            jwksUrl: "https://team.example.com/cdn-cgi/access/certs",
            issuer: "https://team.example.com",
            audience: "aud-tag-0123",
            userClaim: "email",
          },
          deviceAutoApprove: { enabled: true, scopes: ["operator.read", "operator.write"] },
        },
      },
    },
  };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

/** `goodConfig()` with `edit` applied to its gateway section. */
function variant(edit: (gw: Gw) => void): { gateway: unknown } {
  const c = goodConfig();
  edit(c.gateway);
  return c;
}

test("a complete trusted-proxy config resolves with its defaults and lower-cased header names", (t) => {
  const { stateDir } = stateWithFile(t, goodConfig());
  const { gateway, sources } = loadConfig({ stateDir, env: {} });
  assert.equal(gateway.auth.mode, "trusted-proxy");
  assert.deepEqual(gateway.trustedProxies, ["10.0.0.1", "172.16.0.0/12"]);
  assert.deepEqual(gateway.auth.trustedProxy, {
    userHeader: "x-forwarded-user",
    requiredHeaders: ["x-forwarded-proto"],
    allowUsers: ["alice@example.com"],
    allowLoopback: false,
    assertion: {
      header: "cf-access-jwt-assertion",
      jwksUrl: "https://team.example.com/cdn-cgi/access/certs",
      issuer: "https://team.example.com",
      audience: ["aud-tag-0123"],
      userClaim: "email",
    },
    deviceAutoApprove: { enabled: true, scopes: ["operator.read", "operator.write"] },
  });
  assert.deepEqual(gateway.auth.identityScopes, {
    "Admin@Example.com": ["operator.admin"],
    bob: ["operator.read"],
  });
  assert.equal(sources["gateway.auth.trustedProxy"], "file");
});

test("the minimal trusted-proxy config: a proxy address and a user header", (t) => {
  const { stateDir } = stateWithFile(t, {
    gateway: {
      bind: "lan",
      trustedProxies: ["10.0.0.1"],
      auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-forwarded-user" } },
    },
  });
  const { gateway } = loadConfig({ stateDir, env: {} });
  assert.deepEqual(gateway.auth, {
    mode: "trusted-proxy",
    identityScopes: {},
    trustedProxy: {
      userHeader: "x-forwarded-user",
      requiredHeaders: [],
      allowUsers: [],
      allowLoopback: false,
      deviceAutoApprove: { enabled: false, scopes: [] },
    },
  });
});

test("assertion.userClaim alone is a user source; a same-host proxy is allowed with allowLoopback and loopback listed", (t) => {
  const { stateDir } = stateWithFile(
    t,
    variant((gw) => {
      gw.bind = "loopback";
      gw.trustedProxies = ["127.0.0.1"];
      delete gw.auth.trustedProxy.userHeader;
      gw.auth.trustedProxy.allowLoopback = true;
      gw.auth.trustedProxy.assertion.jwksUrl = "http://127.0.0.1:9999/jwks.json";
    }),
  );
  const { gateway } = loadConfig({ stateDir, env: {} });
  assert.equal(gateway.auth.trustedProxy?.userHeader, undefined);
  assert.equal(gateway.auth.trustedProxy?.assertion?.userClaim, "email");
  assert.equal(gateway.auth.trustedProxy?.allowLoopback, true);
});

const REFUSED: Array<[string, (gw: Gw) => void, string, RegExp]> = [
  [
    "no trustedProxies",
    (gw) => delete gw.trustedProxies,
    "gateway.trustedProxies",
    /required when gateway\.auth\.mode is "trusted-proxy"/,
  ],
  ["empty trustedProxies", (gw) => (gw.trustedProxies = []), "gateway.trustedProxies", /required/],
  [
    "no user source",
    (gw) => {
      delete gw.auth.trustedProxy.userHeader;
      delete gw.auth.trustedProxy.assertion.userClaim;
    },
    "gateway.auth.trustedProxy.userHeader",
    /required unless .*assertion\.userClaim/,
  ],
  [
    "no trustedProxy block",
    (gw) => delete (gw.auth as Partial<Gw["auth"]>).trustedProxy,
    "gateway.auth.trustedProxy",
    /required when gateway\.auth\.mode is "trusted-proxy"/,
  ],
  [
    "assertion without audience",
    (gw) => delete gw.auth.trustedProxy.assertion.audience,
    "gateway.auth.trustedProxy.assertion.audience",
    /required when an assertion is configured/,
  ],
  [
    "assertion without issuer",
    (gw) => delete gw.auth.trustedProxy.assertion.issuer,
    "gateway.auth.trustedProxy.assertion.issuer",
    /required/,
  ],
  [
    "assertion without a key source",
    (gw) => delete gw.auth.trustedProxy.assertion.jwksUrl,
    "gateway.auth.trustedProxy.assertion.jwksUrl",
    /exactly one of jwksUrl and jwksFile/,
  ],
  [
    "assertion with both key sources",
    (gw) => (gw.auth.trustedProxy.assertion.jwksFile = "/etc/jwks.json"),
    "gateway.auth.trustedProxy.assertion.jwksUrl",
    /exactly one/,
  ],
  [
    "a JWKS over plain http across the network",
    (gw) => (gw.auth.trustedProxy.assertion.jwksUrl = "http://idp.example.com/certs"),
    "gateway.auth.trustedProxy.assertion.jwksUrl",
    /https:\/\//,
  ],
  [
    "a relative jwksFile",
    (gw) => {
      delete gw.auth.trustedProxy.assertion.jwksUrl;
      gw.auth.trustedProxy.assertion.jwksFile = "jwks.json";
    },
    "gateway.auth.trustedProxy.assertion.jwksFile",
    /absolute path/,
  ],
  [
    "allowLoopback without loopback in trustedProxies",
    (gw) => (gw.auth.trustedProxy.allowLoopback = true),
    "gateway.auth.trustedProxy.allowLoopback",
    /no loopback address .* could never apply/,
  ],
  [
    "a loopback-only gateway without allowLoopback",
    (gw) => {
      gw.bind = "loopback";
      gw.trustedProxies = ["127.0.0.1"];
    },
    "gateway.auth.trustedProxy.allowLoopback",
    /must be true when the gateway listens on loopback only/,
  ],
  [
    "a token in trusted-proxy mode",
    (gw) => (gw.auth.token = "some-token-value"),
    "gateway.auth.token",
    /not used when gateway\.auth\.mode is "trusted-proxy"/,
  ],
  [
    "auto-approval without scopes",
    (gw) => (gw.auth.trustedProxy.deviceAutoApprove = { enabled: true }),
    "gateway.auth.trustedProxy.deviceAutoApprove.scopes",
    /required when deviceAutoApprove\.enabled is true/,
  ],
  [
    "a node scope for auto-approval",
    (gw) => (gw.auth.trustedProxy.deviceAutoApprove = { enabled: true, scopes: ["node.exec"] }),
    "gateway.auth.trustedProxy.deviceAutoApprove.scopes[0]",
    /must be an operator scope/,
  ],
  [
    "an unknown identity scope",
    (gw) => (gw.auth.identityScopes = { bob: ["operator.everything"] }),
    "gateway.auth.identityScopes.bob[0]",
    /must be an operator scope/,
  ],
  [
    "a header name with a space",
    (gw) => (gw.auth.trustedProxy.userHeader = "x forwarded user"),
    "gateway.auth.trustedProxy.userHeader",
    /HTTP header name/,
  ],
  [
    "an unknown trustedProxy key",
    (gw) => (gw.auth.trustedProxy.loopbackUser = "admin"),
    "gateway.auth.trustedProxy.loopbackUser",
    /unknown key/,
  ],
  [
    "trustedProxy settings in token mode",
    (gw) => {
      gw.auth.mode = "token";
      delete gw.auth.password;
    },
    "gateway.auth.trustedProxy",
    /only applies when gateway\.auth\.mode is "trusted-proxy"/,
  ],
];

for (const [name, edit, key, message] of REFUSED) {
  test(`trusted-proxy config refused: ${name} (names ${key})`, (t) => {
    const { stateDir, configPath } = stateWithFile(t, variant(edit));
    const err = configError(() => loadConfig({ stateDir, env: {} }));
    assert.equal(err.code, "CONFIG_INVALID");
    assert.equal(err.key, key);
    assert.ok(err.message.startsWith(`${key}: `), err.message);
    assert.match(err.message, message);
    assert.ok(err.message.includes(configPath), "message names the file");
  });
}

test("the password of internal callers is never echoed in a refusal", (t) => {
  const { stateDir } = stateWithFile(
    t,
    variant((gw) => delete gw.trustedProxies),
  );
  const err = configError(() => loadConfig({ stateDir, env: {} }));
  assert.ok(!err.message.includes("internal-callers-secret"));
});

for (const [name, edit, key] of [
  ["no trustedProxies", (gw: Gw) => delete gw.trustedProxies, "gateway.trustedProxies"],
  [
    "no user source",
    (gw: Gw) => {
      delete gw.auth.trustedProxy.userHeader;
      delete gw.auth.trustedProxy.assertion.userClaim;
    },
    "gateway.auth.trustedProxy.userHeader",
  ],
] as const) {
  test(`gatehouse gateway run refuses to start with trusted-proxy and ${name}`, async (t) => {
    const { stateDir } = stateWithFile(t, variant(edit));
    const res = await runCli(["gateway", "run", "--port", "0"], { GATEHOUSE_STATE_DIR: stateDir });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`${key.replace(/\./g, "\\.")}: `));
    assert.ok(!res.stderr.includes("    at "), "no stack trace");
  });
}
