/**
 * Issue item 5 "Containers" (catalogue section C: S17, S18; counter-scenario C02), with real Linux
 * network namespaces standing in for Docker's:
 *
 *   namespace A = the gateway container      namespace B = another container on the bridge
 *   ┌───────────────────────────────┐        ┌──────────────────────────────┐
 *   │ gatehouse gateway run  :18789 │  veth  │ gatehouse CLI / raw browser  │
 *   │ owner CLI (devices approve…)  ├────────┤ peer dialing ws://<A>:18789  │
 *   │ lo 127.0.0.1   <A> 10.231.x.1 │  /30   │ lo 127.0.0.1  <B> 10.231.x.2 │
 *   └───────────────────────────────┘        └──────────────────────────────┘
 *
 * The veth runs directly between A and B; the root namespace gets nothing (see helpers/netns.ts).
 * S18 runs the gateway in A bound to loopback and the CLI in A too (`network_mode:
 * service:gateway`). S17 and C02 bind the gateway to A's veth address only (S17 with the flags
 * `--bind custom --host <A>`, C02 with the same in gatehouse.json); the owner's CLI that lists and
 * approves runs in A with the gateway's state dir (`docker compose exec gateway gatehouse devices
 * …`) and dials <A> — given as `--url` in S17, since a CLI reads gatehouse.json, not the running
 * gateway's flags, and taken from the config in C02. Each gateway uses the default port 18789:
 * every namespace has its own ports. The gateway generates its token on first start and the tests
 * read it from its gatehouse.json, as a user would.
 *
 * Needs root (or CAP_SYS_ADMIN) and iproute2; without them every test here is skipped with the
 * reason. CI runs as root, where they run.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { PairList } from "../../src/cli/devices/types.js";
import { tempStateDir, type CliResult, type GatewayProcess } from "../helpers/gateway-process.js";
import {
  createNetnsPair,
  netnsUnavailableReason,
  runCliIn,
  runIn,
  spawnGatewayIn,
  type NetnsPair,
} from "../helpers/netns.js";
import type { PeerOutcome, PeerPlan } from "./netns-peer.js";

const unavailable = netnsUnavailableReason();
if (unavailable) process.stderr.write(`containers: network-namespace tests skipped: ${unavailable}\n`);
/**
 * Test options: skipped, with the reason, when namespaces cannot be made here. Given to every
 * test (not to the suites) so the run counts them as skipped; the suites' hooks then do nothing.
 */
const needsNetns = unavailable ? { skip: unavailable } : {};

const PORT = 18789;
const PEER_SCRIPT = fileURLToPath(new URL("./netns-peer.js", import.meta.url));

const dirs: string[] = [];
function newDir(): string {
  const dir = tempStateDir();
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Nothing from the user's environment leaks in, and nothing lands in the user's ~/.gatehouse.
const home = newDir();
const cleanEnv = {
  HOME: home,
  GATEHOUSE_GATEWAY_TOKEN: "",
  GATEHOUSE_GATEWAY_PASSWORD: "",
  GATEHOUSE_GATEWAY_URL: "",
  GATEHOUSE_PORT: "",
  GATEHOUSE_STATE_DIR: "",
};

/** A gateway process in a namespace, over one state dir, that can be restarted. */
interface NsGateway {
  ns: string;
  dir: string;
  gw: GatewayProcess | null;
  /** The token the first start generated into `<dir>/gatehouse.json`. */
  token(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The owner's CLI in the gateway's namespace: the gateway's state dir, URL and token from its config. */
  owner(args: string[]): Promise<CliResult>;
  /** `devices list --json` run by the owner. */
  list(): Promise<PairList>;
}

/**
 * `args` are extra `gateway run` flags. `ownerUrl` is passed to the owner's CLI when the bind
 * address is given as flags: a CLI reads only gatehouse.json, not the running gateway's flags.
 */
function nsGateway(ns: string, dir: string, args: string[], ownerUrl?: string): NsGateway {
  const g: NsGateway = {
    ns,
    dir,
    gw: null,
    token() {
      const file = JSON.parse(readFileSync(join(dir, "gatehouse.json"), "utf8")) as {
        gateway?: { auth?: { token?: string } };
      };
      const token = file.gateway?.auth?.token;
      assert.ok(token, "the first start wrote a gateway token into gatehouse.json");
      return token;
    },
    async start() {
      g.gw = await spawnGatewayIn(ns, ["--state-dir", dir, ...args], cleanEnv);
    },
    async stop() {
      const gw = g.gw;
      g.gw = null;
      if (gw) assert.equal(await gw.stop(), 0, "the gateway stops cleanly");
    },
    owner: (a) =>
      runCliIn(
        ns,
        [...a, "--state-dir", dir, "--allow-insecure", ...(ownerUrl ? ["--url", ownerUrl] : [])],
        cleanEnv,
      ),
    async list() {
      const r = await g.owner(["devices", "list", "--json"]);
      assert.equal(r.code, 0, `devices list failed: ${r.stderr}${r.stdout}`);
      return JSON.parse(r.stdout) as PairList;
    },
  };
  return g;
}

/** The deviceId stored in a state dir's identity file. */
function deviceIdOf(stateDir: string): string {
  const file = JSON.parse(readFileSync(join(stateDir, "identity", "device.json"), "utf8")) as {
    deviceId: string;
  };
  return file.deviceId;
}

const PAIRING_LINE =
  /^error PAIRING_REQUIRED: pairing required: [^\n]* \(requestId (\S+)\) — approve it on the gateway host: gatehouse devices approve (\S+)$/m;

/** Asserts the refusal a user sees (exit 1, one PAIRING_REQUIRED line) and returns its requestId. */
function refusedRequestId(r: CliResult): string {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}${r.stdout}`);
  const m = PAIRING_LINE.exec(r.stderr);
  assert.ok(m, `no PAIRING_REQUIRED line in: ${r.stderr}`);
  assert.equal(m[1], m[2], "the printed approve command names the same requestId");
  return m[1]!;
}

function assertOk(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: expected exit 0, got ${r.code}: ${r.stderr}${r.stdout}`);
}

describe("S18 — CLI sharing the gateway's network namespace (network_mode: service:gateway)", () => {
  let pair: NetnsPair;
  let gateway: NsGateway;
  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    gateway = nsGateway(pair.a, newDir(), []);
    await gateway.start();
  });
  after(async () => {
    await gateway?.stop().catch(() => undefined);
    await pair?.destroy();
  });

  it(
    "S18: a CLI with its own state dir and only the token is admitted on loopback without pairing",
    needsNetns,
    async () => {
      const url = `ws://127.0.0.1:${PORT}`;
      const token = gateway.token();
      const cliDir = newDir();
      const r = await runCliIn(
        pair.a,
        ["health", "--url", url, "--token", token, "--state-dir", cliDir],
        cleanEnv,
      );
      assertOk(r, "health in the gateway's namespace");
      assert.match(r.stdout, new RegExp(`^gateway ok at ${url} — version `, "m"));
      assert.doesNotMatch(r.stderr, /PAIRING_REQUIRED/);

      // The Docker way: URL and token from the environment, another command.
      const again = await runCliIn(pair.a, ["call", "status", "--state-dir", cliDir], {
        ...cleanEnv,
        GATEHOUSE_GATEWAY_URL: url,
        GATEHOUSE_GATEWAY_TOKEN: token,
      });
      assertOk(again, "call status with env URL and token");
      assert.ok(existsSync(join(cliDir, "identity", "device-auth.json")), "the CLI kept its device token");

      const list = await gateway.list();
      assert.equal(list.pending.length, 0, "no pending request was created");
      const device = list.paired.find((d) => d.deviceId === deviceIdOf(cliDir));
      assert.ok(device, "the CLI's device is paired");
      assert.equal(device.approvedVia, "silent");
      assert.equal(device.owner, false);
    },
  );
});

describe("S17 — CLI in its own network namespace (bridge) dialing the gateway container", () => {
  let pair: NetnsPair;
  let gateway: NsGateway;
  let url: string;
  /** The token-only CLI's state dir in B (its own identity). */
  let cliDir: string;
  let requestId: string;
  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    url = `ws://${pair.addrA}:${PORT}`;
    gateway = nsGateway(pair.a, newDir(), ["--bind", "custom", "--host", pair.addrA], url);
    await gateway.start();
    cliDir = newDir();
  });
  after(async () => {
    await gateway?.stop().catch(() => undefined);
    await pair?.destroy();
  });

  /** The CLI in B with its own state dir and the shared token. */
  const tokenCli = (args: string[]) =>
    runCliIn(
      pair.b,
      [...args, "--url", url, "--token", gateway.token(), "--state-dir", cliDir, "--allow-insecure"],
      cleanEnv,
    );

  it(
    "S17: the gateway listens only on A's veth address; plain ws:// to it needs --allow-insecure",
    needsNetns,
    async () => {
      assert.equal(gateway.gw?.url, url);
      const r = await runCliIn(
        pair.b,
        ["health", "--url", url, "--token", gateway.token(), "--state-dir", newDir()],
        cleanEnv,
      );
      assert.equal(r.code, 2, `expected exit 2: ${r.stderr}`);
      assert.match(r.stderr, /^error INSECURE_URL: .* — use wss:\/\/, or pass --allow-insecure/m);
    },
  );

  it(
    "S17: with the gateway's state dir mounted (owner key) the CLI in B works and nothing pends",
    needsNetns,
    async () => {
      // The bind address was given as gateway flags, so the mounted gatehouse.json does not name
      // it: the CLI in B gets --url, and the token read from the mounted file.
      const withToken = await runCliIn(
        pair.b,
        ["health", "--url", url, "--token", gateway.token(), "--state-dir", gateway.dir, "--allow-insecure"],
        cleanEnv,
      );
      assertOk(withToken, "health with the mounted state dir and its token");
      assert.match(withToken.stdout, new RegExp(`^gateway ok at ${url} — `, "m"));
      // The owner key alone, no shared secret: still admitted from another namespace.
      const keyOnly = await runCliIn(
        pair.b,
        ["health", "--url", url, "--state-dir", gateway.dir, "--allow-insecure"],
        cleanEnv,
      );
      assertOk(keyOnly, "health with the owner key and no token");
      const list = await runCliIn(
        pair.b,
        ["devices", "list", "--json", "--url", url, "--state-dir", gateway.dir, "--allow-insecure"],
        cleanEnv,
      );
      assertOk(list, "devices list from B with the owner key");
      const parsed = JSON.parse(list.stdout) as PairList;
      assert.equal(parsed.pending.length, 0, "no pending request was created");
      assert.deepEqual(
        parsed.paired.map((d) => [d.deviceId, d.owner]),
        [[deviceIdOf(gateway.dir), true]],
        "the only paired device is the owner",
      );
    },
  );

  it(
    "S17: with only the token the CLI in B gets one pending request, the same requestId on retry",
    needsNetns,
    async () => {
      const first = await tokenCli(["health"]);
      requestId = refusedRequestId(first);
      const second = await tokenCli(["health"]);
      assert.equal(refusedRequestId(second), requestId, "a retry keeps the same requestId");
      assert.equal(second.stdout, "", "nothing on stdout");

      const list = await gateway.list();
      assert.equal(list.pending.length, 1, "exactly one pending request");
      const pending = list.pending[0]!;
      assert.equal(pending.requestId, requestId);
      assert.equal(pending.deviceId, deviceIdOf(cliDir));
      assert.equal(pending.reason, "not-paired");
      assert.equal(pending.remoteIp, pair.addrB, "the gateway saw B's address");
      assert.ok(!list.paired.some((d) => d.deviceId === deviceIdOf(cliDir)), "not paired before approval");
    },
  );

  it(
    "S17: after `devices approve <id>` by the owner in A, the CLI in B works and keeps its device token",
    needsNetns,
    async () => {
      assert.ok(requestId, "the previous test produced a requestId");
      const approve = await gateway.owner(["devices", "approve", requestId]);
      assertOk(approve, "devices approve");
      assert.match(approve.stdout, new RegExp(`^approved request ${requestId}: device `, "m"));

      const r = await tokenCli(["health"]);
      assertOk(r, "health after approval");
      assert.match(r.stdout, new RegExp(`^gateway ok at ${url} — `, "m"));
      assert.ok(existsSync(join(cliDir, "identity", "device-auth.json")), "the CLI kept its device token");

      const list = await gateway.list();
      assert.equal(list.pending.length, 0, "the request is resolved");
      const device = list.paired.find((d) => d.deviceId === deviceIdOf(cliDir));
      assert.ok(device, "paired");
      assert.equal(device.approvedVia, "approved");
      assert.equal(device.lastSeenIp, pair.addrB);
    },
  );

  it("S17: after a gateway restart the CLI in B still works with no new approval", needsNetns, async () => {
    assert.ok(requestId, "the previous tests paired the CLI");
    await gateway.stop();
    await gateway.start();
    const withToken = await tokenCli(["health"]);
    assertOk(withToken, "health with the token after restart");
    // Its device token alone (no shared secret) also still works.
    const deviceTokenOnly = await runCliIn(
      pair.b,
      ["health", "--url", url, "--state-dir", cliDir, "--allow-insecure"],
      cleanEnv,
    );
    assertOk(deviceTokenOnly, "health with only the stored device token after restart");
    const list = await gateway.list();
    assert.equal(list.pending.length, 0, "no new pending request after the restart");
  });
});

describe("C02 — a browser Origin from another namespace never gets in silently", () => {
  const ALLOWED = "http://dashboard.example:8080";
  let pair: NetnsPair;
  let gateway: NsGateway;
  let url: string;
  before(async () => {
    if (unavailable) return;
    pair = createNetnsPair();
    url = `ws://${pair.addrA}:${PORT}`;
    const dir = newDir();
    writeFileSync(
      join(dir, "gatehouse.json"),
      JSON.stringify({
        gateway: { bind: "custom", customBindHost: pair.addrA, controlUi: { allowedOrigins: [ALLOWED] } },
      }),
    );
    gateway = nsGateway(pair.a, dir, []);
    await gateway.start();
  });
  after(async () => {
    await gateway?.stop().catch(() => undefined);
    await pair?.destroy();
  });

  /** Runs the raw WebSocket peer inside B. */
  async function peerInB(plan: PeerPlan): Promise<PeerOutcome[]> {
    const r = await runIn(pair.b, [process.execPath, PEER_SCRIPT, JSON.stringify(plan)], cleanEnv);
    assert.equal(r.code, 0, `peer failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PeerOutcome[];
  }

  /** Asserts a refused connect after a passed upgrade: NOT_PAIRED, close 1008; returns the requestId. */
  function pendedRequestId(out: PeerOutcome | undefined): string {
    assert.ok(out && out.upgrade === "ok", `the upgrade passed: ${JSON.stringify(out)}`);
    assert.equal(out.response?.ok, false, "not admitted");
    assert.equal(out.response?.error?.code, "NOT_PAIRED");
    assert.equal(out.response?.error?.details?.code, "PAIRING_REQUIRED");
    assert.equal(out.close?.code, 1008);
    const requestId = out.response?.error?.details?.requestId;
    assert.equal(typeof requestId, "string");
    return requestId as string;
  }

  const browserConnect = () => ({
    auth: { token: gateway.token() },
    clientId: "openclaw-control-ui",
    mode: "webchat",
    scopes: ["operator.admin"],
  });

  it(
    "S17: with the bind address in gatehouse.json, the mounted state dir alone serves the CLI in B",
    needsNetns,
    async () => {
      // URL and token both come from the mounted file; the owner key signs.
      const r = await runCliIn(pair.b, ["health", "--state-dir", gateway.dir, "--allow-insecure"], cleanEnv);
      assertOk(r, "health with only the mounted state dir");
      assert.match(r.stdout, new RegExp(`^gateway ok at ${url} — `, "m"));
      assert.equal((await gateway.list()).pending.length, 0, "nothing pends");
    },
  );

  it(
    "C02: a page's Origin (http://evil.example) from B is refused with HTTP 403 before any connect",
    needsNetns,
    async () => {
      const [out] = await peerInB({
        url,
        headers: { Origin: "http://evil.example" },
        connect: browserConnect(),
      });
      assert.ok(out && out.upgrade === "refused", JSON.stringify(out));
      assert.equal(out.status, 403);
      const list = await gateway.list();
      assert.equal(list.pending.length, 0, "a refused upgrade leaves no pending request");
    },
  );

  it(
    "C02/C05: a forged loopback Origin and Host from B are refused at the upgrade (the peer is not on loopback)",
    needsNetns,
    async () => {
      const [out] = await peerInB({
        url,
        headers: { Origin: `http://127.0.0.1:${PORT}`, Host: `127.0.0.1:${PORT}` },
        connect: browserConnect(),
      });
      assert.ok(out && out.upgrade === "refused", JSON.stringify(out));
      assert.equal(out.status, 403);
      assert.equal((await gateway.list()).pending.length, 0, "nothing pends");
    },
  );

  it(
    "C02: an allowed Origin from B with the right token pends, and stays pending on retry",
    needsNetns,
    async () => {
      const pendingBefore = (await gateway.list()).pending.length;
      const outs = await peerInB({
        url,
        headers: { Origin: ALLOWED },
        connect: browserConnect(),
        attempts: 2,
      });
      assert.equal(outs.length, 2);
      const requestId = pendedRequestId(outs[0]);
      assert.equal(pendedRequestId(outs[1]), requestId, "the retry keeps the same requestId");

      const list = await gateway.list();
      assert.equal(list.pending.length, pendingBefore + 1, "one new pending request");
      const pending = list.pending.find((p) => p.requestId === requestId);
      assert.ok(pending, "the pending request is listed");
      assert.equal(pending.remoteIp, pair.addrB);
      assert.ok(!list.paired.some((d) => d.deviceId === pending.deviceId), "never silently paired");
      assert.equal(list.paired.length, 1, "only the owner is paired");
    },
  );
});
