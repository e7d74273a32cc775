/**
 * Issue "Remote devices: TLS, setup codes, and clients on other machines", across real network
 * namespaces (layout as in containers.test.ts): the gateway runs in namespace A bound to A's veth
 * address with `gateway.tls.enabled` (a self-signed certificate generated on first start); the
 * remote CLI and node host run in namespace B with their own state dirs; the owner's CLI runs in A
 * with the gateway's state dir. Skipped with the reason where namespaces cannot be made.
 *
 * - a remote CLI over wss:// pairs once with a setup code (pinning the certificate from the link)
 *   and keeps working across restarts of both sides;
 * - a wrong fingerprint is refused before anything is sent (the gateway logs no connect at all);
 * - plain ws:// to the namespace address is refused by the client unless --allow-insecure;
 * - a node host in B pairs with a `node` code and runs system.which for an operator;
 * - a used, expired or wrong code — or a code pasted as the token — admits nothing (C23);
 * - a remote client waiting for approval keeps its requestId over wss:// and is told how to approve.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { watchLines } from "../helpers/watch-lines.js";
import { after, before, describe, it } from "node:test";
import type { PairList } from "../../src/cli/devices/types.js";
import { openStore } from "../../src/store/index.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { CLI_MAIN, type CliResult, type GatewayProcess } from "../helpers/gateway-process.js";
import {
  createNetnsPair,
  netnsUnavailableReason,
  runCliIn,
  spawnGatewayIn,
  spawnIn,
  type NetnsPair,
} from "../helpers/netns.js";

const unavailable = netnsUnavailableReason();
if (unavailable) process.stderr.write(`remote devices: network-namespace tests skipped: ${unavailable}\n`);
const needsNetns = unavailable ? { skip: unavailable } : {};
const PORT = 18789;
const PLAIN_PORT = 18790;
const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

interface Minted {
  code: string;
  link: string;
  url: string;
  fingerprint: string | null;
  profile: string;
}

function assertOk(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: expected exit 0, got ${r.code}:\n${r.stderr}${r.stdout}`);
}

describe("remote devices over wss:// between network namespaces", () => {
  let pair: NetnsPair;
  let gw: GatewayProcess | null = null;
  let url: string;
  const gwDir = sandbox.stateDir();
  const nodes: ChildProcess[] = [];

  const startGateway = async () => {
    gw = await spawnGatewayIn(pair.a, ["--state-dir", gwDir], sandbox.env);
  };
  const stopGateway = async () => {
    const g = gw;
    gw = null;
    if (g) assert.equal(await g.stop(), 0, "the gateway stops cleanly");
  };
  /** The owner's CLI in A: the gateway's state dir (owner key, URL and pin from the running gateway). */
  const owner = (args: string[]) => runCliIn(pair.a, [...args, "--state-dir", gwDir], sandbox.env);
  /** A CLI in B with its own state dir. */
  const remote = (dir: string, args: string[]) =>
    runCliIn(pair.b, [...args, "--state-dir", dir], sandbox.env);
  const token = () =>
    (
      JSON.parse(readFileSync(join(gwDir, "gatehouse.json"), "utf8")) as {
        gateway: { auth: { token: string } };
      }
    ).gateway.auth.token;
  const deviceIdOf = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, "identity", "device.json"), "utf8")) as { deviceId: string }).deviceId;
  const mint = async (profile: string): Promise<Minted> => {
    const r = await owner(["pair", "code", "--profile", profile, "--json"]);
    assertOk(r, `pair code --profile ${profile}`);
    return JSON.parse(r.stdout) as Minted;
  };
  const devicesList = async (): Promise<PairList> => {
    const r = await owner(["devices", "list", "--json"]);
    assertOk(r, "devices list");
    return JSON.parse(r.stdout) as PairList;
  };
  const gatewayFingerprint = () => {
    const line = gw!.log.find(
      (l) => l.includes("TLS certificate") || l.includes("self-signed TLS certificate"),
    );
    assert.ok(line, `the gateway logged its certificate:\n${gw!.log.join("\n")}`);
    return (JSON.parse(line) as { fingerprint: string }).fingerprint;
  };

  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    url = `wss://${pair.addrA}:${PORT}`;
    writeFileSync(
      join(gwDir, "gatehouse.json"),
      JSON.stringify({
        gateway: { port: PORT, bind: "custom", customBindHost: pair.addrA, tls: { enabled: true } },
      }),
    );
    await startGateway();
  });
  after(async () => {
    for (const n of nodes) n.kill("SIGTERM");
    await stopGateway().catch(() => undefined);
    await pair?.destroy();
  });

  it(
    "the gateway serves wss:// on A's address, logs its fingerprint, and status shows it",
    needsNetns,
    async () => {
      assert.equal(gw!.url, url);
      const fp = gatewayFingerprint();
      assert.match(fp, /^[0-9a-f]{64}$/);
      assert.equal(
        gw!.log.some((l) => l.includes("without TLS")),
        false,
        "no plain-ws warning when TLS is on",
      );
      const status = await owner(["status", "--json"]);
      assertOk(status, "status");
      assert.equal(
        (JSON.parse(status.stdout) as { gateway: { tlsFingerprint: string } }).gateway.tlsFingerprint,
        fp,
      );
    },
  );

  it(
    "a remote CLI pairs once with an operator setup code over wss:// and keeps working across restarts of both sides",
    needsNetns,
    async () => {
      const m = await mint("operator-limited");
      assert.equal(m.url, url, "the code advertises the gateway's own address");
      assert.equal(m.fingerprint, gatewayFingerprint());
      const cliDir = sandbox.stateDir();

      const paired = await remote(cliDir, ["connect", "--pair", m.link]);
      assertOk(paired, "connect --pair");
      assert.match(paired.stdout, /^paired with the setup code: wss:\/\//m);
      assert.match(paired.stdout, /scopes\s+operator\.approvals, operator\.read, operator\.write/);
      assert.match(paired.stderr, /pinned the certificate of wss:\/\/.* from the setup link/);
      const known = JSON.parse(readFileSync(join(cliDir, "identity", "known-gateways.json"), "utf8")) as {
        gateways: Record<string, { fingerprint: string }>;
      };
      assert.equal(known.gateways[url]?.fingerprint, m.fingerprint);

      // Every later command: only --url; the pin and the device token come from the state dir.
      const health = await remote(cliDir, ["health", "--url", url]);
      assertOk(health, "health after pairing");
      assert.match(health.stdout, new RegExp(`^gateway ok at ${url} — `, "m"));

      const list = await devicesList();
      const dev = list.paired.find((d) => d.deviceId === deviceIdOf(cliDir));
      assert.equal(dev?.approvedVia, "setup-code");
      assert.deepEqual(dev?.scopes, ["operator.approvals", "operator.read", "operator.write"]);
      assert.equal(list.pending.length, 0, "nothing pends");

      // Both sides restart: the gateway keeps its certificate (the pin stays valid) and the pairing.
      await stopGateway();
      await startGateway();
      assert.equal(gatewayFingerprint(), m.fingerprint, "the same certificate after a restart");
      const again = await remote(cliDir, ["call", "status", "--url", url, "--json"]);
      assertOk(again, "call status after both restarted");
      assert.equal(
        (JSON.parse(again.stdout) as { self: { deviceId: string } }).self.deviceId,
        deviceIdOf(cliDir),
      );
    },
  );

  it(
    "a wrong fingerprint is refused before any secret is sent: the gateway sees no connect at all",
    needsNetns,
    async () => {
      const before = gw!.log.length;
      const auditRows = async () => {
        const a = await owner(["audit", "--json"]);
        assertOk(a, "audit");
        return a.stdout.split(pair.addrB).length;
      };
      const rowsBefore = await auditRows();
      const r = await remote(sandbox.stateDir(), [
        "health",
        "--url",
        url,
        "--token",
        token(),
        "--tls-fingerprint",
        "ab".repeat(32),
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error TLS_FINGERPRINT_MISMATCH: refusing .*nothing was sent/m);
      assert.equal(r.stderr.includes(token()), false, "the token is not echoed");
      await new Promise((resolve) => setTimeout(resolve, 300));
      const seen = gw!.log.slice(before).filter((l) => l.includes(pair.addrB) || /"connect /.test(l));
      assert.deepEqual(seen, [], "no connect (admitted or refused) was logged for the peer");
      assert.equal(await auditRows(), rowsBefore, "and no decision was recorded for it");

      // Without any pin, a self-signed certificate is refused too, with what to compare and how to pin.
      const unpinned = await remote(sandbox.stateDir(), ["health", "--url", url, "--token", token()]);
      assert.equal(unpinned.code, 1);
      assert.match(
        unpinned.stderr,
        /^error TLS_UNTRUSTED: .*it presented sha256 [0-9a-f]{64}\. Nothing was sent/m,
      );
      assert.match(unpinned.stderr, /--tls-fingerprint [0-9a-f]{64} --trust-fingerprint/);
    },
  );

  it(
    "a remote client waiting for approval over wss:// keeps its requestId and is told how to approve it",
    needsNetns,
    async () => {
      const cliDir = sandbox.stateDir();
      const fp = gatewayFingerprint();
      const ask = () =>
        remote(cliDir, [
          "health",
          "--url",
          url,
          "--token",
          token(),
          "--tls-fingerprint",
          fp,
          "--trust-fingerprint",
        ]);
      const first = await ask();
      assert.equal(first.code, 1, first.stderr);
      const m =
        /^error PAIRING_REQUIRED: .*\(requestId (\S+)\) — approve it on the gateway host: gatehouse devices approve (\S+)$/m.exec(
          first.stderr,
        );
      assert.ok(m, first.stderr);
      assert.equal(m[1], m[2]);
      assert.match(first.stderr, /requested: role operator, scopes operator\.read; approved: nothing yet/);
      const second = await ask();
      assert.match(second.stderr, new RegExp(`\\(requestId ${m[1]}\\)`), "a retry keeps the same requestId");
      const pending = (await devicesList()).pending.find((p) => p.requestId === m[1]);
      assert.ok(pending, "the request is listed on the gateway host");
      assert.ok(
        (pending.expiresAtMs ?? 0) - Date.now() > 9 * 60_000,
        "pending for 10 minutes: long enough for a person",
      );
      assertOk(await owner(["devices", "approve", m[1]!]), "approve");
      // The pin was remembered; the next connect with the token is issued a device token…
      assertOk(await remote(cliDir, ["health", "--url", url, "--token", token()]), "health after approval");
      // …which is all it needs from then on.
      assertOk(await remote(cliDir, ["health", "--url", url]), "health with the device token and the pin");
    },
  );

  it(
    "a node host in B pairs with a node setup code and runs system.which for an operator; restarts need nothing more",
    needsNetns,
    async () => {
      const m = await mint("node");
      const nodeDir = sandbox.stateDir();
      const spawnNode = () => {
        const child = spawnIn(
          pair.b,
          [process.execPath, CLI_MAIN, "node", "run", "--pair", m.link, "--state-dir", nodeDir],
          sandbox.env,
        );
        nodes.push(child);
        return child;
      };
      let node = spawnNode();
      let out = watchLines(node);
      await out.waitFor(/^connected to wss:\/\/.* \(auth: setup-code\)$/);
      assert.ok(out.lines.some((l) => /pinned the certificate .* from the setup link/.test(l)));
      const nodeId = deviceIdOf(nodeDir);
      const which = () =>
        owner(["nodes", "invoke", nodeId, "system.which", "--params", '{"bin":"node"}', "--json"]);
      const r = await which();
      assertOk(r, "system.which on the remote node");
      assert.match(r.stdout, /"path": "\/[^"]*node"/);
      const rec = (await devicesList()).paired.find((d) => d.deviceId === nodeId);
      assert.deepEqual(rec?.roles, ["node"]);
      assert.equal(rec?.approvedVia, "setup-code");

      // The node host restarts with the same (now spent) --pair: its device token carries it.
      node.kill("SIGTERM");
      await new Promise((resolve) => node.once("exit", resolve));
      node = spawnNode();
      out = watchLines(node);
      await out.waitFor(/^connected to wss:\/\/.* \(auth: device-token\)$/);
      assertOk(await which(), "system.which after the node host restarted");

      // The gateway restarts: the node reconnects by itself.
      const seen = out.lines.length;
      await stopGateway();
      await startGateway();
      await out.waitFor(/^connected to /, 30_000, seen);
      assertOk(await which(), "system.which after the gateway restarted");
      node.kill("SIGTERM");
    },
  );

  it(
    "C23: a used, expired or wrong code admits nothing; nor does a code pasted as the token",
    needsNetns,
    async () => {
      const fp = gatewayFingerprint();
      const used = await mint("operator-full");
      assertOk(await remote(sandbox.stateDir(), ["connect", "--pair", used.link]), "first use");

      // An expired one: written into the store as the gateway would have, with its time passed.
      const expiredCode = "EXPRD2345Z";
      const store = openStore(join(gwDir, "state", "gatehouse.sqlite"));
      try {
        store.setupCodes.create({
          code: expiredCode,
          profile: "operator-full",
          roles: ["operator"],
          scopes: ["operator.admin"],
          gatewayUrl: url,
          fingerprint: fp,
          createdBy: "test",
          createdAtMs: Date.now() - 700_000,
          expiresAtMs: Date.now() - 100_000,
        });
      } finally {
        store.close();
      }

      const before = (await devicesList()).paired.length;
      const attempts: Array<[string, string[]]> = [
        ["used", ["connect", "--pair", used.link]],
        ["expired", ["connect", "--pair", expiredCode, "--url", url, "--tls-fingerprint", fp]],
        ["wrong", ["connect", "--pair", "WRNG-CDEX-22", "--url", url, "--tls-fingerprint", fp]],
      ];
      for (const [what, args] of attempts) {
        const r = await remote(sandbox.stateDir(), args);
        assert.equal(r.code, 1, `${what}: ${r.stderr}`);
        assert.match(r.stderr, /^error AUTH_BOOTSTRAP_TOKEN_INVALID: /m, what);
      }
      const fresh = await mint("operator-full");
      const asToken = await remote(sandbox.stateDir(), [
        "health",
        "--url",
        url,
        "--tls-fingerprint",
        fp,
        "--token",
        fresh.code,
      ]);
      assert.equal(asToken.code, 1, asToken.stderr);
      assert.match(asToken.stderr, /^error AUTH_TOKEN_MISMATCH: /m);
      const after = await devicesList();
      assert.equal(after.paired.length, before, "no device was paired");
      assert.equal(after.pending.length, 0, "and none is pending");
    },
  );
});

describe("plain ws:// to another namespace", () => {
  let pair: NetnsPair;
  let gw: GatewayProcess | null = null;
  const gwDir = sandbox.stateDir();
  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    writeFileSync(
      join(gwDir, "gatehouse.json"),
      JSON.stringify({ gateway: { port: PLAIN_PORT, bind: "custom", customBindHost: pair.addrA } }),
    );
    gw = await spawnGatewayIn(pair.a, ["--state-dir", gwDir], sandbox.env);
  });
  after(async () => {
    await gw?.stop();
    await pair?.destroy();
  });

  it(
    "the gateway warns at start; the client refuses ws:// to the address, saying why, unless --allow-insecure",
    needsNetns,
    async () => {
      assert.ok(
        gw!.log.some((l) => l.includes("listening beyond loopback without TLS")),
        `no warning in:\n${gw!.log.join("\n")}`,
      );
      const token = (
        JSON.parse(readFileSync(join(gwDir, "gatehouse.json"), "utf8")) as {
          gateway: { auth: { token: string } };
        }
      ).gateway.auth.token;
      const url = `ws://${pair.addrA}:${PLAIN_PORT}`;
      const dir = sandbox.stateDir();
      const refused = await runCliIn(
        pair.b,
        ["health", "--url", url, "--token", token, "--state-dir", dir],
        sandbox.env,
      );
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(
        refused.stderr,
        /^error INSECURE_URL: refusing plaintext ws:\/\/ to non-loopback host .*credentials would be sent unencrypted/m,
      );
      assert.equal(
        gw!.log.some((l) => l.includes(pair.addrB)),
        false,
        "nothing reached the gateway",
      );
      const allowed = await runCliIn(
        pair.b,
        ["health", "--url", url, "--token", token, "--state-dir", dir, "--allow-insecure"],
        sandbox.env,
      );
      // It got through: the gateway answered (a new remote device needs approval).
      assert.match(allowed.stderr, /^error PAIRING_REQUIRED: /m);
    },
  );
});
