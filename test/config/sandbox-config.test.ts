/** `gateway.sandbox.*`: validated like every other key (the key and the reason in the error), and where secrets live. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig, secretPaths } from "../../src/config/index.js";
import { stateWithFile } from "./helpers.js";

function refusal(t: Parameters<typeof stateWithFile>[0], sandbox: unknown): ConfigError {
  const { stateDir } = stateWithFile(t, { gateway: { sandbox } });
  try {
    loadConfig({ stateDir, env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.exitCode, 2);
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(sandbox)}`);
}

test("gateway.sandbox: mode, user and read-only paths from the file, with their sources", (t) => {
  const { stateDir } = stateWithFile(t, {
    gateway: { sandbox: { mode: "none", user: "agents", readOnlyPaths: ["/opt/tools", "/srv/models"] } },
  });
  const config = loadConfig({ stateDir, env: {} });
  assert.deepEqual(config.gateway.sandbox, {
    mode: "none",
    user: "agents",
    readOnlyPaths: ["/opt/tools", "/srv/models"],
  });
  assert.equal(config.sources["gateway.sandbox.mode"], "file");
  assert.equal(config.sources["gateway.sandbox.user"], "file");
  const numeric = stateWithFile(t, { gateway: { sandbox: { user: "1500" } } });
  assert.equal(loadConfig({ stateDir: numeric.stateDir, env: {} }).gateway.sandbox.user, "1500");
});

test("gateway.sandbox: wrong values are refused naming the key and what is allowed", (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ mode: "docker" }, "gateway.sandbox.mode", /must be one of "bwrap", "none" \(got "docker"\)/],
    [{ mode: false }, "gateway.sandbox.mode", /must be one of/],
    [{ user: "root" }, "gateway.sandbox.user", /must not be root/],
    [{ user: "0" }, "gateway.sandbox.user", /must not be root/],
    [{ user: "bad user" }, "gateway.sandbox.user", /user name or a numeric uid/],
    [{ readOnlyPaths: ["relative/dir"] }, "gateway.sandbox.readOnlyPaths[0]", /must be an absolute path/],
    [{ readOnlyPaths: "/opt" }, "gateway.sandbox.readOnlyPaths", /array of strings/],
    [
      { writable: ["/srv"] },
      "gateway.sandbox.writable",
      /unknown key.*known keys here: mode, user, readOnlyPaths/,
    ],
    ["bwrap", "gateway.sandbox", /must be a JSON object/],
  ];
  for (const [sandbox, key, message] of cases) {
    const err = refusal(t, sandbox);
    assert.equal(err.key, key, JSON.stringify(sandbox));
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(key), err.message);
  }
});

test("secretPaths: the state dir, the config file, TLS paths wherever configured, and the user's default state dirs", (t) => {
  const { stateDir, configPath } = stateWithFile(t, {
    gateway: { tls: { enabled: true, certPath: "tls/cert.pem", keyPath: "/etc/gatehouse/key.pem" } },
  });
  const paths = secretPaths(loadConfig({ stateDir, env: {} }), "/home/owner");
  assert.deepEqual(paths, [
    stateDir,
    configPath,
    join(stateDir, "tls", "cert.pem"),
    "/etc/gatehouse/key.pem",
    "/home/owner/.gatehouse",
    "/home/owner/.openclaw",
  ]);
});
