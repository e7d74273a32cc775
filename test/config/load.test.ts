import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig, type GatewaySettings } from "../../src/config/index.js";
import { snapshot, stateWithFile, tempDir } from "./helpers.js";

const DEFAULTS: GatewaySettings = {
  port: 18789,
  bind: "loopback",
  auth: { mode: "token" },
  trustedProxies: [],
  controlUi: { allowedOrigins: [] },
  handshakeTimeoutMs: 10000,
  pairing: { autoApproveLocal: true, pendingTtlMs: 600000 },
  limits: { maxConnections: 4096, maxConnectionsPerIp: 256 },
  tls: { enabled: false, autoGenerate: true },
  sandbox: { mode: "bwrap", readOnlyPaths: [] },
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err;
  }
  assert.fail("expected a ConfigError");
}

test("no config file: defaults apply and nothing is created", (t) => {
  const home = tempDir(t);
  const config = loadConfig({ env: {}, homedir: home });
  assert.equal(config.stateDir, join(home, ".gatehouse"));
  assert.equal(config.configPath, join(home, ".gatehouse", "gatehouse.json"));
  assert.equal(config.fileExists, false);
  assert.deepEqual(config.gateway, DEFAULTS);
  assert.equal(config.sources["gateway.port"], "default");
  assert.deepEqual(readdirSync(home), []);
});

test("an empty state dir (exists, no file) also gives defaults", (t) => {
  const stateDir = tempDir(t);
  assert.deepEqual(loadConfig({ stateDir, env: {} }).gateway, DEFAULTS);
});

test("file values are used, origins normalized", (t) => {
  const { stateDir } = stateWithFile(t, {
    gateway: {
      port: 18800,
      bind: "custom",
      customBindHost: "192.168.1.20",
      auth: { mode: "password", password: "hunter2-long-password" },
      trustedProxies: ["10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1"],
      controlUi: { allowedOrigins: ["https://Gate.Example.com:443", "http://localhost:5173", "*"] },
      handshakeTimeoutMs: 5000,
      pairing: { autoApproveLocal: false, pendingTtlMs: 60000 },
    },
  });
  const config = loadConfig({ stateDir, env: {} });
  assert.equal(config.fileExists, true);
  assert.deepEqual(config.gateway, {
    port: 18800,
    bind: "custom",
    customBindHost: "192.168.1.20",
    auth: { mode: "password", password: "hunter2-long-password" },
    trustedProxies: ["10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1"],
    controlUi: { allowedOrigins: ["https://gate.example.com", "http://localhost:5173", "*"] },
    handshakeTimeoutMs: 5000,
    pairing: { autoApproveLocal: false, pendingTtlMs: 60000 },
    limits: { maxConnections: 4096, maxConnectionsPerIp: 256 },
    tls: { enabled: false, autoGenerate: true },
    sandbox: { mode: "bwrap", readOnlyPaths: [] },
  });
  assert.equal(config.sources["gateway.port"], "file");
  assert.equal(config.sources["gateway.auth.mode"], "file");
});

test("env overrides the file", (t) => {
  const { stateDir } = stateWithFile(t, {
    gateway: { port: 18800, handshakeTimeoutMs: 5000, auth: { mode: "token", token: "file-token" } },
  });
  const env = {
    GATEHOUSE_PORT: "18801",
    GATEHOUSE_GATEWAY_TOKEN: "env-token",
    GATEHOUSE_GATEWAY_PASSWORD: "env-password",
    GATEHOUSE_HANDSHAKE_TIMEOUT_MS: "2500",
  };
  const config = loadConfig({ stateDir, env });
  assert.equal(config.gateway.port, 18801);
  assert.equal(config.gateway.handshakeTimeoutMs, 2500);
  assert.deepEqual(config.gateway.auth, { mode: "token", token: "env-token", password: "env-password" });
  assert.equal(config.sources["gateway.auth.token"], "env");
});

test("flags override env", (t) => {
  const { stateDir } = stateWithFile(t, { gateway: { port: 18800, bind: "loopback" } });
  const env = { GATEHOUSE_PORT: "18801", GATEHOUSE_GATEWAY_TOKEN: "env-token" };
  const config = loadConfig({
    stateDir,
    env,
    overrides: { port: "18802", token: "flag-token", host: "10.1.2.3" },
  });
  assert.equal(config.gateway.port, 18802);
  assert.equal(config.gateway.auth.token, "flag-token");
  assert.equal(config.gateway.bind, "custom", "--host implies --bind custom");
  assert.equal(config.gateway.customBindHost, "10.1.2.3");
  assert.equal(config.sources["gateway.port"], "flag");
  assert.equal(loadConfig({ stateDir, env, overrides: { port: 0 } }).gateway.port, 0);
});

test("only a password configured: password mode is inferred", (t) => {
  const { stateDir } = stateWithFile(t, { gateway: { auth: { password: "pw-from-file" } } });
  assert.equal(loadConfig({ stateDir, env: {} }).gateway.auth.mode, "password");
});

test("token and password both set: auth.mode must be explicit", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { auth: { token: "tok", password: "pw" } } });
  const err = configError(() => loadConfig({ stateDir, env: {} }));
  assert.equal(err.key, "gateway.auth.mode");
  assert.match(err.message, /^gateway\.auth\.mode: must be set to "token" or "password" when both/);
  assert.ok(err.message.includes(configPath));
  assert.equal(
    loadConfig({ stateDir, env: {}, overrides: { authMode: "password" } }).gateway.auth.mode,
    "password",
  );

  const viaEnv = stateWithFile(t, { gateway: { auth: { token: "tok" } } });
  const envErr = configError(() =>
    loadConfig({ stateDir: viaEnv.stateDir, env: { GATEHOUSE_GATEWAY_PASSWORD: "pw" } }),
  );
  assert.equal(envErr.key, "gateway.auth.mode");
});

const INVALID: [string, unknown, string, RegExp][] = [
  [
    "port not a number",
    { gateway: { port: "abc" } },
    "gateway.port",
    /must be an integer between 1 and 65535 \(got "abc"\)/,
  ],
  ["port out of range", { gateway: { port: 70000 } }, "gateway.port", /between 1 and 65535 \(got 70000\)/],
  ["port zero", { gateway: { port: 0 } }, "gateway.port", /between 1 and 65535/],
  [
    "bind",
    { gateway: { bind: "wifi" } },
    "gateway.bind",
    /must be one of "loopback", "lan", "custom" \(got "wifi"\)/,
  ],
  [
    "custom without host",
    { gateway: { bind: "custom" } },
    "gateway.customBindHost",
    /required when gateway\.bind is "custom"/,
  ],
  [
    "host name",
    { gateway: { bind: "custom", customBindHost: "my.host" } },
    "gateway.customBindHost",
    /IPv4 or IPv6 address/,
  ],
  [
    "auth mode",
    { gateway: { auth: { mode: "oauth" } } },
    "gateway.auth.mode",
    /must be one of "token", "password", "none"/,
  ],
  [
    "empty token",
    { gateway: { auth: { token: "" } } },
    "gateway.auth.token",
    /non-empty string \(got an empty string\)/,
  ],
  [
    "password without secret",
    { gateway: { auth: { mode: "password" } } },
    "gateway.auth.password",
    /required when gateway\.auth\.mode is "password"/,
  ],
  [
    "trustedProxies not array",
    { gateway: { trustedProxies: "10.0.0.1" } },
    "gateway.trustedProxies",
    /array of strings/,
  ],
  [
    "trustedProxies host",
    { gateway: { trustedProxies: ["10.0.0.1", "proxy.local"] } },
    "gateway.trustedProxies[1]",
    /IP address or CIDR/,
  ],
  [
    "trustedProxies prefix",
    { gateway: { trustedProxies: ["10.0.0.0/33"] } },
    "gateway.trustedProxies[0]",
    /got "10\.0\.0\.0\/33"/,
  ],
  [
    "trustedProxies v6 prefix",
    { gateway: { trustedProxies: ["fd00::/129"] } },
    "gateway.trustedProxies[0]",
    /IP address or CIDR/,
  ],
  [
    "origin with path",
    { gateway: { controlUi: { allowedOrigins: ["https://ui.example.com/app"] } } },
    "gateway.controlUi.allowedOrigins[0]",
    /must be an origin like https:\/\/host:port/,
  ],
  [
    "origin scheme",
    { gateway: { controlUi: { allowedOrigins: ["ftp://ui.example.com"] } } },
    "gateway.controlUi.allowedOrigins[0]",
    /origin/,
  ],
  [
    "origin not url",
    { gateway: { controlUi: { allowedOrigins: ["example.com"] } } },
    "gateway.controlUi.allowedOrigins[0]",
    /origin/,
  ],
  [
    "handshake timeout",
    { gateway: { handshakeTimeoutMs: 0 } },
    "gateway.handshakeTimeoutMs",
    /between 1 and 2147483647 \(got 0\)/,
  ],
  [
    "handshake timeout fraction",
    { gateway: { handshakeTimeoutMs: 1.5 } },
    "gateway.handshakeTimeoutMs",
    /got 1\.5/,
  ],
  [
    "autoApproveLocal",
    { gateway: { pairing: { autoApproveLocal: "yes" } } },
    "gateway.pairing.autoApproveLocal",
    /true or false/,
  ],
  [
    "pendingTtlMs",
    { gateway: { pairing: { pendingTtlMs: -1 } } },
    "gateway.pairing.pendingTtlMs",
    /positive integer/,
  ],
  ["gateway not object", { gateway: [] }, "gateway", /must be a JSON object \(got an array\)/],
  ["unknown gateway key", { gateway: { prot: 18789 } }, "gateway.prot", /^gateway\.prot: unknown key/],
  [
    "unknown nested key",
    { gateway: { auth: { mode: "token", tokn: "x" } } },
    "gateway.auth.tokn",
    /unknown key.*known keys here: mode, token, password/,
  ],
  ["unknown top-level key", { gatway: { port: 1 } }, "gatway", /^gatway: unknown key/],
];

for (const [name, content, key, message] of INVALID) {
  test(`invalid config (${name}) names ${key}, exits 2 and writes nothing`, (t) => {
    const { stateDir, configPath } = stateWithFile(t, content);
    const before = snapshot(configPath, stateDir);
    const err = configError(() => loadConfig({ stateDir, env: {} }));
    assert.equal(err.code, "CONFIG_INVALID");
    assert.equal(err.key, key);
    assert.ok(err.message.startsWith(`${key}: `), err.message);
    assert.match(err.message, message);
    assert.ok(err.message.includes(configPath), "message names the file");
    assert.deepEqual(snapshot(configPath, stateDir), before);
  });
}

test("secrets of the wrong type are not echoed", (t) => {
  const { stateDir } = stateWithFile(t, { gateway: { auth: { token: 987654321987 } } });
  const err = configError(() => loadConfig({ stateDir, env: {} }));
  assert.equal(err.key, "gateway.auth.token");
  assert.match(err.message, /got number/);
  assert.ok(!err.message.includes("987654321987"));
});

test("invalid env values name the variable", (t) => {
  const stateDir = tempDir(t);
  const port = configError(() => loadConfig({ stateDir, env: { GATEHOUSE_PORT: "abc" } }));
  assert.equal(port.key, "GATEHOUSE_PORT");
  assert.equal(port.message, 'GATEHOUSE_PORT: must be an integer between 0 and 65535 (got "abc")');
  const timeout = configError(() => loadConfig({ stateDir, env: { GATEHOUSE_HANDSHAKE_TIMEOUT_MS: "10s" } }));
  assert.equal(timeout.key, "GATEHOUSE_HANDSHAKE_TIMEOUT_MS");
  assert.match(timeout.message, /got "10s"/);
});

test("invalid flags name the flag", (t) => {
  const stateDir = tempDir(t);
  const cases: [object, string, RegExp][] = [
    [{ port: "70000" }, "--port", /between 0 and 65535 \(got 70000\)/],
    [{ port: "12ab" }, "--port", /got "12ab"/],
    [{ bind: "wifi" }, "--bind", /must be one of/],
    [{ host: "gateway.local" }, "--host", /IPv4 or IPv6 address/],
    [{ host: "10.0.0.2", bind: "lan" }, "--host", /only applies with --bind custom/],
    [{ authMode: "open" }, "--auth", /must be one of "token", "password", "none"/],
    [{ token: "" }, "--token", /non-empty string/],
  ];
  for (const [overrides, key, message] of cases) {
    const err = configError(() => loadConfig({ stateDir, env: {}, overrides }));
    assert.equal(err.key, key);
    assert.match(err.message, message);
  }
});

test("invalid JSON: error names the file and the line/column, never the content", (t) => {
  const secret = "s3cr3t-token-value";
  const { stateDir, configPath } = stateWithFile(
    t,
    `{\n  "gateway": {\n    "auth": { "token": ${secret} }\n  }\n}\n`,
  );
  const before = snapshot(configPath, stateDir);
  const err = configError(() => loadConfig({ stateDir, env: {} }));
  assert.equal(err.code, "CONFIG_INVALID");
  assert.equal(err.path, configPath);
  assert.equal(
    err.message,
    `config file ${configPath} is not valid JSON: unexpected character at line 3, column 24`,
  );
  assert.ok(!err.message.includes(secret));
  assert.deepEqual(snapshot(configPath, stateDir), before);

  const trailingComma = stateWithFile(t, '{\n  "gateway": {\n    "port": 1,\n  }\n}');
  const err2 = configError(() => loadConfig({ stateDir: trailingComma.stateDir, env: {} }));
  assert.match(err2.message, /is not valid JSON: expected double-quoted property name at line 4, column 3$/);

  const truncated = stateWithFile(t, '{"gateway": ');
  assert.match(
    configError(() => loadConfig({ stateDir: truncated.stateDir, env: {} })).message,
    /unexpected end of input at line 1, column 13$/,
  );

  const notObject = stateWithFile(t, "[1, 2]");
  assert.match(
    configError(() => loadConfig({ stateDir: notObject.stateDir, env: {} })).message,
    /must hold a JSON object \(got an array\)/,
  );
});

test("unreadable config file: CONFIG_UNREADABLE with the path", (t) => {
  const stateDir = tempDir(t);
  const configPath = join(stateDir, "gatehouse.json");
  mkdirSync(configPath);
  const err = configError(() => loadConfig({ stateDir, env: {} }));
  assert.equal(err.code, "CONFIG_UNREADABLE");
  assert.equal(err.path, configPath);
  assert.match(err.message, new RegExp(`cannot read config file ${configPath}: EISDIR`));
  assert.ok(existsSync(configPath));
});

test("gateway.limits caps are read from the file and validated", (t) => {
  const ok = stateWithFile(t, { gateway: { limits: { maxConnections: 20000, maxConnectionsPerIp: 12000 } } });
  assert.deepEqual(loadConfig({ stateDir: ok.stateDir, env: {} }).gateway.limits, {
    maxConnections: 20000,
    maxConnectionsPerIp: 12000,
  });
  const bad = stateWithFile(t, { gateway: { limits: { maxConnections: 0 } } });
  assert.match(
    configError(() => loadConfig({ stateDir: bad.stateDir, env: {} })).message,
    /^gateway\.limits\.maxConnections: /,
  );
});

test("gateway.tls: enabled with its own certificate, or generated; half a pair or nothing to serve is refused", (t) => {
  const own = loadConfig({
    stateDir: stateWithFile(t, { gateway: { tls: { enabled: true, certPath: "c.pem", keyPath: "k.pem" } } })
      .stateDir,
    env: {},
  });
  assert.deepEqual(own.gateway.tls, {
    enabled: true,
    autoGenerate: true,
    certPath: "c.pem",
    keyPath: "k.pem",
  });
  assert.equal(own.sources["gateway.tls.enabled"], "file");
  const generated = loadConfig({
    stateDir: stateWithFile(t, { gateway: { tls: { enabled: true } } }).stateDir,
    env: {},
  });
  assert.deepEqual(generated.gateway.tls, { enabled: true, autoGenerate: true });

  const half = configError(() =>
    loadConfig({
      stateDir: stateWithFile(t, { gateway: { tls: { enabled: true, certPath: "c.pem" } } }).stateDir,
      env: {},
    }),
  );
  assert.equal(half.key, "gateway.tls.keyPath");
  const nothing = configError(() =>
    loadConfig({
      stateDir: stateWithFile(t, { gateway: { tls: { enabled: true, autoGenerate: false } } }).stateDir,
      env: {},
    }),
  );
  assert.equal(nothing.key, "gateway.tls.certPath");
  const notBool = configError(() =>
    loadConfig({ stateDir: stateWithFile(t, { gateway: { tls: { enabled: "yes" } } }).stateDir, env: {} }),
  );
  assert.match(notBool.message, /gateway\.tls\.enabled: must be true or false/);
  const unknown = configError(() =>
    loadConfig({ stateDir: stateWithFile(t, { gateway: { tls: { caPath: "x" } } }).stateDir, env: {} }),
  );
  assert.match(unknown.message, /gateway\.tls\.caPath: unknown key/);
});
