/**
 * Issue 16 end to end (S24–S27, C03, C06): a real nginx from Debian in front of the real gateway
 * (`gatehouse gateway run`, auth.mode "trusted-proxy"), injecting the identity header and the
 * signed assertion the way an identity-aware proxy does (it overwrites whatever the client sent);
 * the JWKS is served over HTTP by this test and the assertions are signed with `jose`.
 *
 * Topology, all on this host: the test client reaches nginx on this host's non-loopback address,
 * so the client nginx forwards (X-Forwarded-For) is not loopback, as for a user on another
 * machine. nginx "proxy" reaches the gateway from 127.0.0.1 (a trusted proxy, allowLoopback);
 * nginx "rogue" from 127.0.0.2 (not a trusted proxy). A second gateway without allowLoopback
 * shows the same-host proxy refused (S26).
 *
 * In production the proxy derives the user and the JWT from its own sign-in; here the test says
 * them in X-Test-User / X-Test-Jwt, which nginx turns into the identity headers.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { generateIdentity } from "../../src/identity/keys.js";
import {
  freePort,
  runCli,
  spawnGateway,
  tempStateDir,
  type GatewayProcess,
} from "../helpers/gateway-process.js";
import { openPeer, sendConnect, type ConnectOptions, type Frame } from "../helpers/raw-client.js";
import { CHILD } from "../runtime/helpers.js";

const NGINX = "/usr/sbin/nginx";
const ISSUER = "https://idp.gatehouse.test";
const AUDIENCE = "gatehouse-test-app";
const PASSWORD = "internal-callers-password-0123456789";
const ALICE = "alice@example.com";
const CAROL = "carol@example.com";
const ALL_OPERATOR = ["operator.admin", "operator.read", "operator.write", "operator.pairing"];

/** This host's first non-loopback IPv4 address: where a "remote" user reaches nginx. */
function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error(
    "this host has no non-loopback IPv4 address; the proxy tests need one to stand for a remote user",
  );
}

interface SigningKey {
  alg: "RS256" | "ES256" | "EdDSA";
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: SigningKey["alg"], kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/** A JWT as the proxy would mint it; `claims` and `opts` break it in one way or another. */
async function assertion(
  key: SigningKey,
  claims: Record<string, unknown> = { email: ALICE },
  opts: { iss?: string; aud?: string; exp?: number; kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(opts.exp ?? now + 300)
    .sign(key.privateKey);
}

/** nginx with one server block per entry: listen address → upstream, with an optional source address. */
function startNginx(
  dir: string,
  servers: Array<{ listen: string; upstream: string; bind?: string }>,
): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true });
  const blocks = servers.map(
    (s) => `
    server {
      listen ${s.listen};
      location / {
        proxy_pass http://${s.upstream};
        ${s.bind ? `proxy_bind ${s.bind};` : ""}
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-User $http_x_test_user;
        proxy_set_header X-Test-Jwt-Assertion $http_x_test_jwt;
        proxy_set_header X-Test-User "";
        proxy_set_header X-Test-Jwt "";
      }
    }`,
  );
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;
master_process off;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${blocks.join("\n")}
}
`,
  );
  const child = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    // nginx logs nothing on a good start; it is ready once every listen port accepts.
    const deadline = Date.now() + 15_000;
    const probe = async (): Promise<void> => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited: ${stderr}`));
      const ok = await Promise.all(
        servers.map((s) =>
          fetch(`http://${s.listen}/`).then(
            () => true,
            () => false,
          ),
        ),
      );
      if (ok.every(Boolean)) return resolve(child);
      if (Date.now() > deadline) return reject(new Error(`nginx did not listen within 15 s: ${stderr}`));
      setTimeout(() => void probe(), 100);
    };
    void probe();
  });
}

/** A gateway config in trusted-proxy mode; `edit` changes it per gateway. */
function proxyConfig(
  port: number,
  jwksUrl: string,
  edit: (tp: Record<string, unknown>, gw: Record<string, unknown>) => void = () => {},
) {
  const trustedProxy: Record<string, unknown> = {
    userHeader: "x-forwarded-user",
    requiredHeaders: ["x-forwarded-proto"],
    allowUsers: [ALICE, "Carol@Example.com"],
    allowLoopback: true,
    assertion: {
      header: "x-test-jwt-assertion",
      jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      userClaim: "email",
    },
    deviceAutoApprove: { enabled: true, scopes: ["operator.read", "operator.write"] },
  };
  const gateway: Record<string, unknown> = {
    port,
    bind: "loopback",
    trustedProxies: ["127.0.0.1"],
    auth: {
      mode: "trusted-proxy",
      password: PASSWORD,
      identityScopes: { "Alice@Example.com": ["operator.read", "operator.write"] },
      trustedProxy,
    },
  };
  edit(trustedProxy, gateway);
  return { gateway };
}

let jwksServer: Server;
let rsa: SigningKey;
let ec: SigningKey;
let ed: SigningKey;
let foreign: SigningKey;
let host: string;
let work: string;
let nginx: ChildProcess | null = null;
let gw: GatewayProcess;
let gw2: GatewayProcess;
let stateDir: string;
let stateDir2: string;
let viaProxy: string;
let viaRogue: string;
let viaProxy2: string;

/** Connects through `url` with the identity headers nginx turns into X-Forwarded-User / the JWT. */
async function connectAs(
  url: string,
  headers: Record<string, string>,
  o: ConnectOptions = {},
): Promise<Frame> {
  const peer = await openPeer(url, headers);
  try {
    return await sendConnect(peer, { scopes: ALL_OPERATOR, ...o });
  } finally {
    peer.ws.close();
  }
}

function admittedWith(res: Frame): { method: string; scopes: string[] } {
  if (!res.ok) assert.fail(`expected hello-ok, got ${JSON.stringify(res.error)}`);
  const auth = (res.payload as { auth: { method: string; scopes: string[] } }).auth;
  return auth;
}

function refusedWith(res: Frame, code: string): void {
  assert.equal(res.ok, false, `expected a refusal, got ${JSON.stringify(res.payload)}`);
  assert.equal(res.error?.details?.code, code, JSON.stringify(res.error));
}

/** The newest rows of a state dir's audit log, newest first. */
async function auditRows(
  dir: string,
): Promise<Array<{ decision: string; actor: string | null; trace: string[] | null; reason: string | null }>> {
  // Device-less rows are written in batches off the handshake's path.
  await new Promise((r) => setTimeout(r, 300));
  const r = await runCli(["audit", "--json", "--limit", "50"], { GATEHOUSE_STATE_DIR: dir });
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as {
    rows: Array<{ decision: string; actor: string | null; trace: string[] | null; reason: string | null }>;
  };
  return [...parsed.rows].reverse();
}

before(async () => {
  assert.ok(
    existsSync(NGINX),
    `${NGINX} is missing: run the tests with node scripts/dev.mjs test, which installs Debian's nginx`,
  );
  host = hostAddress();
  [rsa, ec, ed, foreign] = await Promise.all([
    signingKey("RS256", "rsa-1"),
    signingKey("ES256", "ec-1"),
    signingKey("EdDSA", "ed-1"),
    // Same kid as the real RSA key: only the signature tells them apart.
    signingKey("RS256", "rsa-1"),
  ]);
  const jwks = JSON.stringify({ keys: [rsa.jwk, ec.jwk, ed.jwk] });
  jwksServer = createServer((req, res) => {
    res.writeHead(req.url === "/jwks.json" ? 200 : 404, { "content-type": "application/json" });
    res.end(req.url === "/jwks.json" ? jwks : "{}");
  });
  await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
  const jwksPort = (jwksServer.address() as { port: number }).port;
  const jwksUrl = `http://127.0.0.1:${jwksPort}/jwks.json`;

  const [port, port2, proxyPort, roguePort, proxyPort2] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  stateDir = tempStateDir();
  writeFileSync(join(stateDir, "gatehouse.json"), JSON.stringify(proxyConfig(port, jwksUrl)));
  // The second gateway listens everywhere and trusts loopback, but has no allowLoopback.
  stateDir2 = tempStateDir();
  writeFileSync(
    join(stateDir2, "gatehouse.json"),
    JSON.stringify(
      proxyConfig(port2, jwksUrl, (tp, g) => {
        tp.allowLoopback = false;
        g.bind = "lan";
      }),
    ),
  );
  [gw, gw2] = await Promise.all([
    spawnGateway([], { GATEHOUSE_STATE_DIR: stateDir }),
    spawnGateway([], { GATEHOUSE_STATE_DIR: stateDir2 }),
  ]);
  work = tempStateDir();
  nginx = await startNginx(join(work, "nginx"), [
    { listen: `${host}:${proxyPort}`, upstream: `127.0.0.1:${port}` },
    { listen: `${host}:${roguePort}`, upstream: `127.0.0.1:${port}`, bind: "127.0.0.2" },
    { listen: `${host}:${proxyPort2}`, upstream: `127.0.0.1:${port2}` },
  ]);
  viaProxy = `ws://${host}:${proxyPort}`;
  viaRogue = `ws://${host}:${roguePort}`;
  viaProxy2 = `ws://${host}:${proxyPort2}`;
});

after(async () => {
  if (nginx && nginx.exitCode === null) nginx.kill("SIGTERM");
  await Promise.all([gw?.stop(), gw2?.stop()]);
  await new Promise<void>((r) => (jwksServer ? jwksServer.close(() => r()) : r()));
  for (const d of [stateDir, stateDir2, work]) if (d) rmSync(d, { recursive: true, force: true });
});

describe("issue 16: trusted-proxy auth through a real nginx", () => {
  test("S27: a verified user is admitted with exactly its identity scopes (RS256, ES256 and EdDSA keys, picked by kid)", async () => {
    for (const key of [rsa, ec, ed]) {
      const auth = admittedWith(
        await connectAs(viaProxy, {
          "x-test-user": ALICE,
          "x-test-jwt": await assertion(key),
          // nginx overwrites what a client says itself.
          "x-forwarded-user": "mallory@example.com",
        }),
      );
      assert.equal(auth.method, "trusted-proxy", key.alg);
      assert.deepEqual(auth.scopes, ["operator.read", "operator.write"], key.alg);
    }
  });

  test("the verified user is in the audit log", async () => {
    const rows = await auditRows(stateDir);
    const mine = rows.find((r) => r.actor === `proxy-user:${ALICE}` && r.decision === "admit");
    assert.ok(mine, JSON.stringify(rows.slice(0, 5)));
    assert.ok(mine.trace?.includes("proxy-assertion-verified"));
    assert.ok(mine.trace?.includes("trusted-proxy-identity-scopes"));
  });

  test("a user without identity scopes is admitted with none (allowUsers matched case-insensitively)", async () => {
    const auth = admittedWith(
      await connectAs(viaProxy, {
        "x-test-user": CAROL,
        "x-test-jwt": await assertion(rsa, { email: CAROL }),
      }),
    );
    assert.deepEqual(auth.scopes, []);
  });

  const refusals: Array<[string, () => Promise<Record<string, string>>, string, string]> = [
    [
      "an assertion signed with a foreign key",
      async () => ({ "x-test-user": ALICE, "x-test-jwt": await assertion(foreign) }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-signature-invalid",
    ],
    [
      "an assertion naming a key the JWKS does not hold",
      async () => ({
        "x-test-user": ALICE,
        "x-test-jwt": await assertion(foreign, { email: ALICE }, { kid: "unknown-kid" }),
      }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-unknown-key",
    ],
    [
      "an expired assertion",
      async () => ({
        "x-test-user": ALICE,
        "x-test-jwt": await assertion(rsa, { email: ALICE }, { exp: Math.floor(Date.now() / 1000) - 600 }),
      }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-expired",
    ],
    [
      "an assertion for another audience",
      async () => ({
        "x-test-user": ALICE,
        "x-test-jwt": await assertion(rsa, { email: ALICE }, { aud: "another-app" }),
      }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-wrong-audience",
    ],
    [
      "an assertion from another issuer",
      async () => ({
        "x-test-user": ALICE,
        "x-test-jwt": await assertion(rsa, { email: ALICE }, { iss: "https://evil.example" }),
      }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-assertion-wrong-issuer",
    ],
    [
      "a missing assertion",
      async () => ({ "x-test-user": ALICE }),
      "AUTH_IDENTITY_HEADER_REQUIRED",
      "proxy-assertion-missing",
    ],
    [
      "an assertion whose claim disagrees with the user header",
      async () => ({
        "x-test-user": "bob@example.com",
        "x-test-jwt": await assertion(rsa, { email: ALICE }),
      }),
      "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
      "proxy-user-header-disagrees",
    ],
    [
      "a user outside allowUsers",
      async () => ({
        "x-test-user": "bob@example.com",
        "x-test-jwt": await assertion(rsa, { email: "bob@example.com" }),
      }),
      "AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED",
      "proxy-user-not-allowed",
    ],
  ];
  for (const [name, headers, code, rule] of refusals) {
    test(`refused through the proxy: ${name}`, async () => {
      refusedWith(await connectAs(viaProxy, await headers()), code);
      const rows = await auditRows(stateDir);
      const row = rows.find((r) => r.decision === "reject" && r.reason === code);
      assert.ok(row?.trace?.includes(rule), JSON.stringify(rows.slice(0, 3)));
    });
  }

  test("S24/C03: the same headers through a proxy that is not trusted are refused", async () => {
    const headers = { "x-test-user": ALICE, "x-test-jwt": await assertion(rsa) };
    refusedWith(await connectAs(viaRogue, headers), "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE");
    const rows = await auditRows(stateDir);
    assert.ok(rows.find((r) => r.trace?.includes("proxy-identity-from-untrusted-peer")));
  });

  test("C06: the same headers sent straight to the gateway from this host are refused", async () => {
    const peer = await openPeer(`ws://127.0.0.1:${await gatewayPort(stateDir)}`, {
      "x-forwarded-user": ALICE,
      "x-test-jwt-assertion": await assertion(rsa),
      "x-forwarded-proto": "https",
    });
    try {
      refusedWith(await sendConnect(peer, { scopes: ALL_OPERATOR }), "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE");
    } finally {
      peer.ws.close();
    }
  });

  test("S26: a proxy on loopback is refused without allowLoopback", async () => {
    const headers = { "x-test-user": ALICE, "x-test-jwt": await assertion(rsa) };
    refusedWith(await connectAs(viaProxy2, headers), "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE");
    const rows = await auditRows(stateDir2);
    assert.ok(
      rows.find((r) => r.trace?.includes("proxy-loopback-source")),
      JSON.stringify(rows.slice(0, 3)),
    );
  });

  test("S27: a device is auto-approved within deviceAutoApprove.scopes, and explain names the user", async () => {
    const identity = generateIdentity();
    const headers = async () => ({ "x-test-user": ALICE, "x-test-jwt": await assertion(rsa) });
    const auth = admittedWith(
      await connectAs(viaProxy, await headers(), {
        identity,
        clientId: "openclaw-control-ui",
        mode: "webchat",
        scopes: ["operator.write"],
      }),
    );
    assert.equal(auth.method, "trusted-proxy");
    assert.deepEqual(auth.scopes, ["operator.write"]);
    // Beyond the auto-approval scopes it waits for a person.
    const more = await connectAs(viaProxy, await headers(), {
      identity,
      clientId: "openclaw-control-ui",
      mode: "webchat",
      scopes: ["operator.admin"],
    });
    assert.equal(more.error?.details?.code, "PAIRING_REQUIRED");
    const explained = await runCli(["explain", identity.deviceId, "--json"], {
      GATEHOUSE_STATE_DIR: stateDir,
    });
    assert.equal(explained.code, 0, explained.stderr);
    const report = JSON.parse(explained.stdout) as {
      connection: { proxyUser?: { user: string; verified: boolean } };
    };
    assert.deepEqual(report.connection.proxyUser, { user: ALICE, verified: true });
    const text = await runCli(["explain", identity.deviceId], { GATEHOUSE_STATE_DIR: stateDir });
    assert.match(
      text.stdout,
      new RegExp(`user +${ALICE.replace(".", "\\.")} \\(verified by the trusted proxy\\)`),
    );
  });

  test("internal callers keep working without the proxy: the local CLI with the owner key, a sub-agent with a runtime token", async () => {
    const r = await runCli(
      [
        "sessions",
        "spawn",
        "--scope",
        "operator.read",
        "--attach",
        "--",
        process.execPath,
        CHILD,
        "callback",
      ],
      { GATEHOUSE_STATE_DIR: stateDir },
      60_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^RESULT .*"method":"runtime-token"/m);
    const status = await runCli(["status", "--json"], { GATEHOUSE_STATE_DIR: stateDir });
    assert.equal(status.code, 0, status.stderr);
  });

  test("a direct-local caller proves gateway.auth.password; from the proxy the password counts for nothing", async () => {
    const port = await gatewayPort(stateDir);
    const local = await openPeer(`ws://127.0.0.1:${port}`);
    try {
      const auth = admittedWith(
        await sendConnect(local, { auth: { password: PASSWORD }, scopes: ["operator.read"] }),
      );
      assert.equal(auth.method, "password");
      assert.deepEqual(auth.scopes, ["operator.read"]);
    } finally {
      local.ws.close();
    }
    // Through nginx without an identity the password does not stand in for the proxy.
    refusedWith(
      await connectAs(viaProxy, {}, { auth: { password: PASSWORD } }),
      "AUTH_IDENTITY_HEADER_REQUIRED",
    );
  });
});

/** The port a gateway of `dir` listens on (from its config). */
async function gatewayPort(dir: string): Promise<number> {
  const { readFileSync } = await import("node:fs");
  return (JSON.parse(readFileSync(join(dir, "gatehouse.json"), "utf8")) as { gateway: { port: number } })
    .gateway.port;
}
