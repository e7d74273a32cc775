import { isLoopbackIp } from "../../src/policy/ip.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, assertSafeBind, bindHosts, loadConfig } from "../../src/config/index.js";
import { stateWithFile } from "./helpers.js";

test("bind modes map to listen addresses", () => {
  assert.deepEqual(bindHosts({ bind: "loopback" }), ["127.0.0.1", "::1"]);
  assert.deepEqual(bindHosts({ bind: "lan" }), ["0.0.0.0"]);
  assert.deepEqual(bindHosts({ bind: "custom", customBindHost: "192.168.1.5" }), ["192.168.1.5"]);
});

test("loopback addresses, IPv4 and IPv6", () => {
  for (const addr of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopbackIp(addr), true, addr);
  }
  for (const addr of ["10.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "localhost", "128.0.0.1", ""]) {
    assert.equal(isLoopbackIp(addr), false, addr);
  }
});

test("auth none beyond loopback is refused at start; loopback or auth is fine", () => {
  const refused = (settings: Parameters<typeof assertSafeBind>[0]) =>
    assert.throws(
      () => assertSafeBind(settings),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "CONFIG_UNSAFE_BIND" &&
        err.exitCode === 2 &&
        /gateway\.bind .* reachable from other machines, but gateway\.auth\.mode is "none"/.test(err.message),
    );
  refused({ bind: "lan", auth: { mode: "none" } });
  refused({ bind: "custom", customBindHost: "192.168.1.5", auth: { mode: "none" } });
  refused({ bind: "custom", customBindHost: "0.0.0.0", auth: { mode: "none" } });
  refused({ bind: "custom", customBindHost: "::", auth: { mode: "none" } });
  assertSafeBind({ bind: "loopback", auth: { mode: "none" } });
  assertSafeBind({ bind: "custom", customBindHost: "127.0.0.2", auth: { mode: "none" } });
  assertSafeBind({ bind: "lan", auth: { mode: "token", token: "t" } });
  assertSafeBind({ bind: "lan", auth: { mode: "password", password: "p" } });
});

test("a lan + none config file loads, then the start check refuses it", (t) => {
  const { stateDir } = stateWithFile(t, { gateway: { bind: "lan", auth: { mode: "none" } } });
  const config = loadConfig({ stateDir, env: {} });
  assert.throws(() => assertSafeBind(config.gateway), /gateway\.bind "lan" makes the gateway reachable/);
});
