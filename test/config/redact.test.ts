import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig, redactConfig } from "../../src/config/index.js";
import { stateWithFile } from "./helpers.js";

test("redactConfig hides token and password, leaves the rest and the original intact", (t) => {
  const token = "tok-0123456789-abcdefghij";
  const password = "correct horse battery staple";
  const { stateDir } = stateWithFile(t, {
    gateway: { port: 18800, auth: { mode: "token", token, password } },
  });
  const config = loadConfig({ stateDir, env: {} });
  const shown = JSON.stringify(redactConfig(config));
  assert.ok(!shown.includes(token) && !shown.includes(password));
  const redacted = redactConfig(config);
  assert.deepEqual(redacted.gateway.auth, { mode: "token", token: "<redacted>", password: "<redacted>" });
  assert.equal(redacted.gateway.port, 18800);
  assert.equal(redacted.configPath, config.configPath);
  assert.equal(config.gateway.auth.token, token, "the live config keeps its secret");
});

test("absent secrets stay absent (no hint that one is set)", (t) => {
  const { stateDir } = stateWithFile(t, { gateway: { auth: { mode: "none" } } });
  assert.deepEqual(redactConfig(loadConfig({ stateDir, env: {} })).gateway.auth, { mode: "none" });
});
