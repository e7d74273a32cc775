import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, ensureGatewayToken, loadConfig } from "../../src/config/index.js";
import { snapshot, stateWithFile, tempDir } from "./helpers.js";

const mode = (path: string) => statSync(path).mode & 0o777;
const fileToken = (path: string) =>
  (JSON.parse(readFileSync(path, "utf8")) as { gateway: { auth: { token: string } } }).gateway.auth.token;

test("first start: a strong token is generated into a new 0600 file in a new 0700 state dir", (t) => {
  const stateDir = join(tempDir(t), "state");
  const first = ensureGatewayToken(loadConfig({ stateDir, env: {} }));
  assert.equal(first.generated, true);
  assert.equal(first.savedTo, join(stateDir, "gatehouse.json"));
  const token = first.config.gateway.auth.token ?? "";
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
  assert.equal(mode(stateDir), 0o700);
  assert.equal(mode(first.config.configPath), 0o600);
  assert.deepEqual(JSON.parse(readFileSync(first.config.configPath, "utf8")), {
    gateway: { auth: { token } },
  });
  assert.deepEqual(readdirSync(stateDir), ["gatehouse.json"], "no temp file left behind");

  // Restart: the saved token is reused and the file is not touched.
  const before = snapshot(first.config.configPath, stateDir);
  const second = ensureGatewayToken(loadConfig({ stateDir, env: {} }));
  assert.equal(second.generated, false);
  assert.equal(second.savedTo, undefined);
  assert.equal(second.config.gateway.auth.token, token);
  assert.deepEqual(snapshot(first.config.configPath, stateDir), before);
});

test("an existing file keeps every other key", (t) => {
  const original = {
    gateway: {
      port: 18800,
      trustedProxies: ["10.0.0.0/8"],
      auth: { mode: "token" },
      controlUi: { allowedOrigins: ["https://ui.example.com"] },
      pairing: { autoApproveLocal: false },
    },
  };
  const { stateDir, configPath } = stateWithFile(t, original);
  const result = ensureGatewayToken(loadConfig({ stateDir, env: {} }));
  assert.equal(result.generated, true);
  const written = JSON.parse(readFileSync(configPath, "utf8")) as typeof original;
  assert.deepEqual(written, {
    gateway: { ...original.gateway, auth: { mode: "token", token: result.config.gateway.auth.token } },
  });
  assert.equal(mode(configPath), 0o600);
  assert.equal(loadConfig({ stateDir, env: {} }).gateway.auth.token, fileToken(configPath));
});

test("a token from env or a flag writes nothing", (t) => {
  const stateDir = join(tempDir(t), "state");
  const fromEnv = ensureGatewayToken(loadConfig({ stateDir, env: { GATEHOUSE_GATEWAY_TOKEN: "env-token" } }));
  assert.equal(fromEnv.generated, false);
  assert.equal(fromEnv.config.gateway.auth.token, "env-token");
  const fromFlag = ensureGatewayToken(loadConfig({ stateDir, env: {}, overrides: { token: "flag-token" } }));
  assert.equal(fromFlag.config.gateway.auth.token, "flag-token");
  assert.equal(existsSync(stateDir), false, "state dir not even created");
});

test("password and none modes get no token", (t) => {
  const stateDir = join(tempDir(t), "state");
  const none = ensureGatewayToken(loadConfig({ stateDir, env: {}, overrides: { authMode: "none" } }));
  assert.equal(none.generated, false);
  assert.equal(none.config.gateway.auth.token, undefined);
  const pw = ensureGatewayToken(loadConfig({ stateDir, env: { GATEHOUSE_GATEWAY_PASSWORD: "pw" } }));
  assert.equal(pw.generated, false);
  assert.equal(existsSync(stateDir), false);
});

test("a file made invalid after loading is never overwritten", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { port: 18800 } });
  const config = loadConfig({ stateDir, env: {} });
  writeFileSync(configPath, '{"gateway": {"port": "oops"}}');
  const before = snapshot(configPath, stateDir);
  assert.throws(
    () => ensureGatewayToken(config),
    (err: unknown) =>
      err instanceof ConfigError && err.code === "CONFIG_INVALID" && err.key === "gateway.port",
  );
  assert.deepEqual(snapshot(configPath, stateDir), before);
});

test("a token written by someone else meanwhile is adopted, not replaced", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { port: 18800 } });
  const config = loadConfig({ stateDir, env: {} });
  writeFileSync(configPath, JSON.stringify({ gateway: { port: 18800, auth: { token: "theirs" } } }));
  const before = snapshot(configPath, stateDir);
  const result = ensureGatewayToken(config);
  assert.equal(result.generated, false);
  assert.equal(result.config.gateway.auth.token, "theirs");
  assert.deepEqual(snapshot(configPath, stateDir), before);
});

test("a symlinked config file stays a symlink; its target gets the token", (t) => {
  const dir = tempDir(t);
  const target = join(dir, "dotfiles-gatehouse.json");
  writeFileSync(target, JSON.stringify({ gateway: { port: 18800 } }));
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  symlinkSync(target, join(stateDir, "gatehouse.json"));
  const result = ensureGatewayToken(loadConfig({ stateDir, env: {} }));
  assert.equal(result.generated, true);
  assert.ok(lstatSync(join(stateDir, "gatehouse.json")).isSymbolicLink());
  assert.equal(fileToken(target), result.config.gateway.auth.token);
});
