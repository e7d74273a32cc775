import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, resolveClientTarget } from "../../src/config/index.js";
import { stateWithFile, tempDir } from "./helpers.js";

const ownerFile = { gateway: { port: 18800, auth: { token: "file-token" } } };

test("zero flags: the owner's CLI dials the local gateway with the file's token", (t) => {
  const { stateDir } = stateWithFile(t, ownerFile);
  assert.deepEqual(resolveClientTarget({ stateDir, env: {} }), {
    url: "ws://127.0.0.1:18800",
    urlSource: "config",
    token: "file-token",
  });
});

test("no config file: default port, no credentials", (t) => {
  const stateDir = tempDir(t);
  assert.deepEqual(resolveClientTarget({ stateDir, env: {} }), {
    url: "ws://127.0.0.1:18789",
    urlSource: "config",
  });
});

test("GATEHOUSE_PORT and a custom bind host shape the local URL; password mode sends the password", (t) => {
  const { stateDir } = stateWithFile(t, {
    gateway: { bind: "custom", customBindHost: "fd00::5", auth: { password: "file-pw" } },
  });
  assert.deepEqual(resolveClientTarget({ stateDir, env: { GATEHOUSE_PORT: "19000" } }), {
    url: "ws://[fd00::5]:19000",
    urlSource: "config",
    password: "file-pw",
  });
});

test("secrets: flag > env > file", (t) => {
  const { stateDir } = stateWithFile(t, ownerFile);
  const env = { GATEHOUSE_GATEWAY_TOKEN: "env-token" };
  assert.equal(resolveClientTarget({ stateDir, env }).token, "env-token");
  assert.equal(resolveClientTarget({ stateDir, env, token: "flag-token" }).token, "flag-token");
  const pwOnly = resolveClientTarget({ stateDir, env: {}, password: "flag-pw" });
  assert.deepEqual(pwOnly, { url: "ws://127.0.0.1:18800", urlSource: "config", password: "flag-pw" });
});

test("URL: --url > GATEHOUSE_GATEWAY_URL > local config", (t) => {
  const { stateDir } = stateWithFile(t, ownerFile);
  const env = { GATEHOUSE_GATEWAY_URL: "wss://gw.example.com" };
  assert.equal(resolveClientTarget({ stateDir, env }).url, "wss://gw.example.com");
  assert.equal(resolveClientTarget({ stateDir, env }).urlSource, "env");
  assert.equal(resolveClientTarget({ stateDir, env, url: "ws://10.0.0.9:18789" }).url, "ws://10.0.0.9:18789");
});

test("an overridden URL never receives the local file's secret", (t) => {
  const { stateDir } = stateWithFile(t, ownerFile);
  assert.deepEqual(resolveClientTarget({ stateDir, env: {}, url: "wss://elsewhere.example" }), {
    url: "wss://elsewhere.example",
    urlSource: "flag",
  });
  assert.deepEqual(
    resolveClientTarget({ stateDir, env: { GATEHOUSE_GATEWAY_URL: "wss://elsewhere.example" } }),
    {
      url: "wss://elsewhere.example",
      urlSource: "env",
    },
  );
  const explicit = resolveClientTarget({
    stateDir,
    env: { GATEHOUSE_GATEWAY_TOKEN: "env-token" },
    url: "wss://elsewhere.example",
  });
  assert.equal(explicit.token, "env-token");
  assert.equal(resolveClientTarget({ stateDir, env: {}, url: "wss://x.example", token: "t" }).token, "t");
});

test("an explicit URL does not need a readable local config", (t) => {
  const { stateDir } = stateWithFile(t, "{broken");
  assert.equal(resolveClientTarget({ stateDir, env: {}, url: "ws://127.0.0.1:1" }).url, "ws://127.0.0.1:1");
  assert.throws(() => resolveClientTarget({ stateDir, env: {} }), ConfigError);
});

test("a bad URL names its source and hides credentials in it", () => {
  const check = (fn: () => unknown, key: string) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, key);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /must be a ws:\/\/ or wss:\/\/ URL/);
      assert.ok(!err.message.includes("hunter2"));
      return true;
    });
  check(() => resolveClientTarget({ env: {}, url: "https://user:hunter2@gw.example.com/" }), "--url");
  check(
    () => resolveClientTarget({ env: { GATEHOUSE_GATEWAY_URL: "gw.example.com:18789" } }),
    "GATEHOUSE_GATEWAY_URL",
  );
});
