import assert from "node:assert/strict";
import { unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { createAuthResolver, loadConfig, type ConfigError } from "../../src/config/index.js";
import { stateWithFile } from "./helpers.js";

let bump = 0;
/** Rewrites the file with a distinct mtime so same-millisecond writes are still seen as changes. */
function rewrite(path: string, content: unknown): void {
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  const when = new Date(Date.now() + ++bump * 1000);
  utimesSync(path, when, when);
}

test("a token rotated in the file is used by the next connection", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { auth: { token: "token-A" } } });
  const resolve = createAuthResolver({ config: loadConfig({ stateDir, env: {} }), env: {} });
  assert.deepEqual(resolve(), { mode: "token", token: "token-A" });
  assert.equal(resolve(), resolve(), "unchanged file: same settings, no re-read");

  rewrite(configPath, { gateway: { auth: { token: "token-B" } } });
  assert.deepEqual(resolve(), { mode: "token", token: "token-B" });

  rewrite(configPath, { gateway: { auth: { mode: "password", password: "pw-C" } } });
  assert.deepEqual(resolve(), { mode: "password", password: "pw-C" });
});

test("an invalid rewrite keeps the last good value and is reported once", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { auth: { token: "token-A" } } });
  const errors: ConfigError[] = [];
  const resolve = createAuthResolver({
    config: loadConfig({ stateDir, env: {} }),
    env: {},
    onError: (e) => errors.push(e),
  });
  rewrite(configPath, '{"gateway": {"auth": {"token": token-B}}}');
  assert.deepEqual(resolve(), { mode: "token", token: "token-A" });
  assert.deepEqual(resolve(), { mode: "token", token: "token-A" });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.path, configPath);
  assert.ok(!errors[0]?.message.includes("token-B"), "the broken file's secret is not echoed");

  rewrite(configPath, { gateway: { auth: { mode: "sometimes", token: "token-C" } } });
  assert.deepEqual(resolve(), { mode: "token", token: "token-A" });
  assert.equal(errors[1]?.key, "gateway.auth.mode");

  unlinkSync(configPath);
  assert.deepEqual(resolve(), { mode: "token", token: "token-A" }, "a deleted file does not drop auth");
  assert.equal(errors[2]?.key, "gateway.auth.token");

  rewrite(configPath, { gateway: { auth: { token: "token-D" } } });
  assert.deepEqual(resolve(), { mode: "token", token: "token-D" });
  assert.equal(errors.length, 3);
});

test("env and flag secrets stay on top of the file", (t) => {
  const { stateDir, configPath } = stateWithFile(t, { gateway: { auth: { token: "file-A" } } });
  const env = { GATEHOUSE_GATEWAY_TOKEN: "env-token" };
  const fromEnv = createAuthResolver({ config: loadConfig({ stateDir, env }), env });
  const overrides = { token: "flag-token" };
  const fromFlag = createAuthResolver({ config: loadConfig({ stateDir, env, overrides }), env, overrides });
  assert.equal(fromEnv().token, "env-token");
  assert.equal(fromFlag().token, "flag-token");
  rewrite(configPath, { gateway: { auth: { token: "file-B" } } });
  assert.equal(fromEnv().token, "env-token");
  assert.equal(fromFlag().token, "flag-token");
});
