/**
 * Issue 14 items 3 and 4 with two "machines" (network namespaces, test/helpers/netns.ts): A runs the
 * gateway on its LAN address and the owner's CLI; B is a laptop with a fresh HOME.
 *   - 14.4: `pair code` on A prints a command that works on B exactly as printed — with plain ws://
 *     it carries --allow-insecure (and the owner is warned), with TLS it pins the certificate;
 *   - 14.3: after that one command, B's CLI needs no --url or --allow-insecure; `status` speaks
 *     about the remote gateway (never "start a gateway"); `devices list --token T` and `health`
 *     agree that the gateway runs; a CLI in B that shares A's state dir (a container on the same
 *     volume) trusts the gateway's certificate from it and dials wss:// with no pin flags.
 * Needs root (or CAP_SYS_ADMIN) and iproute2; skipped with the reason otherwise.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import type { CliResult, GatewayProcess } from "../helpers/gateway-process.js";
import {
  createNetnsPair,
  netnsUnavailableReason,
  runCliIn,
  spawnGatewayIn,
  type NetnsPair,
} from "../helpers/netns.js";

const unavailable = netnsUnavailableReason();
if (unavailable) process.stderr.write(`second machine: network-namespace tests skipped: ${unavailable}\n`);
const needsNetns = unavailable ? { skip: unavailable } : {};
const PORT = 18789;
const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
}

/** The command `pair code` printed under "on the other machine:", split as a shell would. */
function printedCommand(stdout: string): string[] {
  const lines = stdout.split("\n");
  const at = lines.indexOf("on the other machine:");
  assert.ok(at >= 0, stdout);
  const line = lines[at + 1]!.trim();
  const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  assert.equal(words[0], "gatehouse", line);
  return words.slice(1);
}

/** A gateway in A on its LAN address, the owner's CLI there, and a laptop CLI in B. */
async function lanGateway(tls: boolean): Promise<{
  pair: NetnsPair;
  gw: GatewayProcess;
  gwDir: string;
  owner: (args: string[]) => Promise<CliResult>;
  laptop: (args: string[]) => Promise<CliResult>;
  laptopHome: string;
  token: string;
  stop: () => Promise<void>;
}> {
  const pair = createNetnsPair();
  const gwDir = sandbox.stateDir();
  writeFileSync(
    join(gwDir, "gatehouse.json"),
    JSON.stringify({ gateway: { port: PORT, bind: "lan", ...(tls ? { tls: { enabled: true } } : {}) } }),
  );
  const gw = await spawnGatewayIn(pair.a, ["--state-dir", gwDir], sandbox.env);
  const laptopHome = sandbox.stateDir();
  const token = (
    JSON.parse(readFileSync(join(gwDir, "gatehouse.json"), "utf8")) as {
      gateway: { auth: { token: string } };
    }
  ).gateway.auth.token;
  return {
    pair,
    gw,
    gwDir,
    token,
    laptopHome,
    owner: (args) => runCliIn(pair.a, [...args, "--state-dir", gwDir], sandbox.env),
    // The laptop's CLI uses its default state dir, ~/.gatehouse in its own HOME.
    laptop: (args) => runCliIn(pair.b, args, { ...sandbox.env, HOME: laptopHome }, 30_000),
    stop: async () => {
      await gw.stop();
      await pair.destroy();
    },
  };
}

describe("14.3/14.4 — a laptop pairs with a LAN gateway over plain ws://", () => {
  it("the printed command works as printed, and later commands need no flags", needsNetns, async () => {
    const g = await lanGateway(false);
    try {
      const minted = await g.owner(["pair", "code", "--no-qr"]);
      ok(minted, "pair code");
      assert.match(
        minted.stderr,
        /^WARNING: the gateway serves plain ws:\/\/ at ws:\/\/10\.231\.[\d.]+:18789/m,
      );
      const command = printedCommand(minted.stdout);
      assert.equal(
        command.at(-1),
        "--allow-insecure",
        "plain ws:// must be accepted explicitly, in the command",
      );
      assert.ok(command[2]!.includes(encodeURIComponent(`ws://${g.pair.addrA}:${PORT}`)), command[2]);

      const paired = await g.laptop(command);
      ok(paired, "the printed command");
      assert.match(
        paired.stdout,
        new RegExp(`^paired with the setup code: ws://${g.pair.addrA.replace(/\./g, "\\.")}:${PORT}$`, "m"),
      );
      assert.match(paired.stdout, /^next: gatehouse status$/m);
      assert.ok(existsSync(join(g.laptopHome, ".gatehouse", "identity", "remote-gateway.json")));

      // Later commands: no --url, no --allow-insecure.
      ok(await g.laptop(["health"]), "health");
      const status = await g.laptop(["status"]);
      ok(status, "status");
      assert.match(
        status.stdout,
        new RegExp(`^Gateway: running, up .* — ws://${g.pair.addrA.replace(/\./g, "\\.")}:${PORT}$`, "m"),
      );
      assert.doesNotMatch(status.stdout, /start it with|gateway start/);
      // devices list and health agree that the gateway runs (same flags): this device lacks
      // operator.pairing, which devices list says — it never claims the gateway is down.
      const health = await g.laptop(["health", "--token", g.token]);
      ok(health, "health --token");
      const devices = await g.laptop(["devices", "list", "--token", g.token]);
      assert.equal(devices.code, 1, devices.stderr);
      assert.match(devices.stderr, /^error MISSING_SCOPE: listing devices needs operator\.pairing/m);
      assert.doesNotMatch(devices.stderr, /not running|STORE_MISSING|gateway start/);
      assert.ok(!existsSync(join(g.laptopHome, ".gatehouse", "state")), "the laptop holds no gateway store");
    } finally {
      await g.stop();
    }
  });

  it(
    "a laptop that paired with nothing: status never tells it to start a gateway first",
    needsNetns,
    async () => {
      const pair = createNetnsPair();
      try {
        const home = sandbox.stateDir();
        const r = await runCliIn(pair.b, ["status"], { ...sandbox.env, HOME: home });
        ok(r, "status");
        assert.match(r.stdout, /^Gateway: none on this machine .* and none paired with yet$/m);
        assert.match(r.stdout, /pair this CLI with a gateway once: gatehouse connect --pair '<link>'/);
      } finally {
        await pair.destroy();
      }
    },
  );
});

describe("14.3/14.4 — with TLS", () => {
  it(
    "the printed command pins the certificate; later commands dial wss:// with no flags",
    needsNetns,
    async () => {
      const g = await lanGateway(true);
      try {
        const minted = await g.owner(["pair", "code", "--no-qr", "--profile", "operator-full"]);
        ok(minted, "pair code");
        assert.equal(minted.stderr, "", "nothing to warn about");
        const command = printedCommand(minted.stdout);
        assert.ok(!command.includes("--allow-insecure"));
        ok(await g.laptop(command), "the printed command");
        ok(await g.laptop(["health"]), "health");
        const list = await g.laptop(["devices", "list"]);
        ok(list, "devices list (operator-full holds operator.pairing)");
        const status = await g.laptop(["status", "--json"]);
        ok(status, "status");
        const report = JSON.parse(status.stdout) as {
          gateway: { source: string; url: string; running: boolean };
        };
        assert.deepEqual(
          [report.gateway.source, report.gateway.url, report.gateway.running],
          ["remote", `wss://${g.pair.addrA}:${PORT}`, true],
        );

        // A CLI in B on the gateway's own state dir (a container sharing the volume): the gateway
        // listens on all addresses, so it is told where, and trusts the certificate from the dir.
        const shared = await runCliIn(
          g.pair.b,
          ["health", "--url", `wss://${g.pair.addrA}:${PORT}`, "--state-dir", g.gwDir],
          sandbox.env,
        );
        ok(shared, "health from the shared state dir");
        assert.doesNotMatch(shared.stderr, /TLS_UNTRUSTED|fingerprint/);
      } finally {
        await g.stop();
      }
    },
  );
});
