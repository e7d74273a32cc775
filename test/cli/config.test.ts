/**
 * Issue 14 item 5: `gatehouse config get|set|unset` as a user runs it — values read as their key's
 * type, refused values naming the key and the reason (exit 2) with the file left byte for byte as
 * it was, keys that need each other set together, secrets never printed, --json, and help with
 * examples.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

function gh(dir: string, args: string[]): Promise<CliResult> {
  return runCli([...args, "--state-dir", dir], sandbox.env);
}

const fileOf = (dir: string) => readFileSync(join(dir, "gatehouse.json"), "utf8");

describe("gatehouse config", () => {
  it("set writes typed values, get reads them back with their source, unset removes them", async () => {
    const dir = sandbox.stateDir({ gateway: { auth: { token: "t".repeat(32) } } });
    let r = await gh(dir, ["config", "set", "gateway.port", "18800"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^set gateway\.port = 18800\n {2}in .*gatehouse\.json$/m);
    r = await gh(dir, ["config", "set", "gateway.pairing.autoApproveLocal", "false"]);
    assert.equal(r.code, 0, r.stderr);
    r = await gh(dir, [
      "config",
      "set",
      "gateway.controlUi.allowedOrigins",
      "https://a.example,https://b.example:8443",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(fileOf(dir)), {
      gateway: {
        auth: { token: "t".repeat(32) },
        port: 18800,
        pairing: { autoApproveLocal: false },
        controlUi: { allowedOrigins: ["https://a.example", "https://b.example:8443"] },
      },
    });

    assert.equal((await gh(dir, ["config", "get", "gateway.port"])).stdout, "18800\n");
    assert.equal((await gh(dir, ["config", "get", "gateway.bind"])).stdout, "loopback (default)\n");
    const json = JSON.parse((await gh(dir, ["config", "get", "gateway.port", "--json"])).stdout) as unknown;
    assert.deepEqual(json, { key: "gateway.port", value: 18800, source: "file", secret: false });
    const env = await runCli(["config", "get", "gateway.port", "--state-dir", dir], {
      ...sandbox.env,
      GATEHOUSE_PORT: "19000",
    });
    assert.equal(env.stdout, "19000 (env)\n");

    r = await gh(dir, ["config", "unset", "gateway.controlUi.allowedOrigins"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^removed gateway\.controlUi\.allowedOrigins from /);
    assert.equal(JSON.parse(fileOf(dir)).gateway.controlUi, undefined, "the emptied parent goes too");
    r = await gh(dir, ["config", "unset", "gateway.controlUi.allowedOrigins"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /was not set/);
  });

  it("refuses invalid values naming the key and the reason, exit 2, file unchanged", async () => {
    const dir = sandbox.stateDir({ gateway: { port: 18801, auth: { mode: "none" } } });
    const before = fileOf(dir);
    const cases: Array<[string[], RegExp]> = [
      [
        ["gateway.port", "eighty"],
        /^error CONFIG_INVALID: gateway\.port: must be an integer between 1 and 65535 \(got "eighty"\)/,
      ],
      [
        ["gateway.port", "70000"],
        /^error CONFIG_INVALID: gateway\.port: must be an integer between 1 and 65535/,
      ],
      [["gateway.bind", "everywhere"], /^error CONFIG_INVALID: gateway\.bind: /],
      [["gateway.tls.enabled", "yes"], /^error CONFIG_INVALID: gateway\.tls\.enabled: must be true or false/],
      [["gateway.trustedProxies", "not-an-ip"], /^error CONFIG_INVALID: gateway\.trustedProxies\[0\]: /],
      [["gateway.prot", "1"], /^error CONFIG_INVALID: gateway\.prot: not a configuration key/],
      // Valid alone, refused with the rest of the file: the gateway would not start.
      [
        ["gateway.bind", "lan"],
        /^error CONFIG_INVALID: gateway\.bind: not changed, the gateway would refuse to start: .*auth\.mode is "none"/,
      ],
      [
        ["gateway.bind", "custom"],
        /^error CONFIG_INVALID: gateway\.bind: not changed, gateway\.customBindHost: required .*gatehouse config set gateway\.bind <value> gateway\.customBindHost <value>/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await gh(dir, ["config", "set", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.equal(fileOf(dir), before, `${args.join(" ")} left the file as it was`);
    }
    const json = await gh(dir, ["config", "set", "gateway.port", "eighty", "--json"]);
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stdout) as { error: { key: string } }).error.key, "gateway.port");
    assert.deepEqual(readdirSync(dir).sort(), ["gatehouse.json"], "no temp file left behind");
  });

  it("keys that need each other are set in one command", async () => {
    const dir = sandbox.stateDir();
    const r = await gh(dir, [
      "config",
      "set",
      "gateway.bind",
      "custom",
      "gateway.customBindHost",
      "192.0.2.7",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(fileOf(dir)), { gateway: { bind: "custom", customBindHost: "192.0.2.7" } });
    const odd = await gh(dir, ["config", "set", "gateway.bind", "lan", "gateway.port"]);
    assert.equal(odd.code, 2);
    assert.match(odd.stderr, /gateway\.port: a key without a value/);
  });

  it("never prints a secret: set, get and get-all", async () => {
    const dir = sandbox.stateDir();
    const secret = "s3cret-" + "x".repeat(30);
    const outputs = [
      await gh(dir, ["config", "set", "gateway.auth.token", secret]),
      await gh(dir, ["config", "set", "gateway.auth.token", secret, "--json"]),
      await gh(dir, ["config", "get", "gateway.auth.token"]),
      await gh(dir, ["config", "get"]),
      await gh(dir, ["config", "get", "--json"]),
    ];
    for (const r of outputs) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!(r.stdout + r.stderr).includes(secret), r.stdout);
    }
    assert.equal(outputs[2]!.stdout, "<redacted>\n");
    assert.equal(JSON.parse(fileOf(dir)).gateway.auth.token, secret);
  });

  it("help lists the keys and shows examples", async () => {
    const r = await runCli(["config", "--help"], sandbox.env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n {2}gatehouse config get/);
    assert.match(r.stdout, /gateway\.controlUi\.allowedOrigins +more browser origins/);
    const set = await runCli(["config", "set", "--help"], sandbox.env);
    assert.match(set.stdout, /gatehouse config set gateway\.port 18800/);
  });
});
