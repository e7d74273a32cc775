/**
 * The interop suite (issue 13 item 4): the real OpenClaw 2026.9.6 (CLI, `openclaw node run`) and
 * `openclaw-node` against Gatehouse, and Gatehouse's CLI and `gatehouse/client` against the real
 * OpenClaw gateway. Each command runs against both kinds of gateway and must end the same way
 * (exit status and meaning) on the foreign one as on its own. One line per check is printed:
 * direction, command, ok/FAIL. Node 24 and openclaw come from the npm registry, cached
 * (scripts/openclaw-peer.mjs); every process and lock file started here is cleaned up.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OpenClawClient } from "openclaw-node";
import { WebSocket } from "ws";
import { GatewayClient, GatewayClientError, MemoryDeviceTokenStore } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { createGatewayApp, type GatewayApp } from "../../src/runtime/gateway-app.js";
import { ensureOwner } from "../../src/store/approve.js";
import type { NodePairList } from "../../src/protocol/node-pairing.js";
import { openStore, type Store } from "../../src/store/db.js";
import { GATEHOUSE_VERSION } from "../../src/version.js";
import { RELAY_ADDRESS, startForwardingRelay, type ForwardingRelay } from "../helpers/forwarding-relay.js";
import { CLI_MAIN } from "../helpers/gateway-process.js";
import {
  cleanupOpenClawLocks,
  OpenClawHome,
  openClawLocks,
  openClawPeer,
  runToEnd,
  startOpenClawGateway,
  startOpenClawNodeHost,
  type CommandResult,
  type OpenClawGateway,
  type OpenClawNodeHost,
  type OpenClawPeer,
} from "../helpers/openclaw-peer.js";

// On Node 20 openclaw-node's ESM build finds no WebSocket by itself.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const TOKEN = "interop-token-0123456789abcdefghijklmnopqrstuv";

/** One side of the suite: a gateway either kind of client can be pointed at. */
interface Side {
  kind: "gatehouse" | "openclaw";
  url: string;
  port: number;
  /** An OpenClaw CLI home whose config points at this gateway. */
  ocHome: OpenClawHome;
}

let peer: OpenClawPeer;
let locksBefore: ReturnType<typeof openClawLocks>;
let oc: OpenClawGateway;
let gh: { app: GatewayApp; store: Store; stateDir: string; url: string; port: number; log: string[] };
const sides: Partial<Record<Side["kind"], Side>> = {};
let scratch: string;
/** `openclaw node run` against one gateway, in a home of its own (a node is another machine). */
interface NodeHostRun {
  home: OpenClawHome;
  host: OpenClawNodeHost;
  startedAt: number;
}
const nodeHosts: Partial<Record<Side["kind"], NodeHostRun>> = {};

function startNodeHost(port: number): NodeHostRun {
  const home = new OpenClawHome(peer);
  home.writeConfig(port, TOKEN);
  return { home, host: startOpenClawNodeHost(home, port, TOKEN), startedAt: Date.now() };
}

before(async () => {
  peer = await openClawPeer();
  locksBefore = openClawLocks();
  scratch = mkdtempSync(join(tmpdir(), "gatehouse-interop-"));
  const stateDir = join(scratch, "gatehouse-state");
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const log: string[] = [];
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    auth: () => ({ mode: "token", token: TOKEN }),
    logger: { log: (level, event, fields) => log.push(JSON.stringify({ level, event, ...fields })) },
    runtime: { sandbox: { secretPaths: [stateDir] } },
  });
  await app.start();
  const port = app.server.port;
  gh = { app, store, stateDir, url: `ws://127.0.0.1:${port}`, port, log };
  // A node host's cold start costs about 12 s of CPU (a minute or more on a loaded CI machine):
  // started now, it overlaps OpenClaw's own start and the CLI checks instead of adding to them.
  nodeHosts.gatehouse = startNodeHost(port);
  // It trusts the forwarding relay (only), so a client behind it counts as remote there too.
  oc = await startOpenClawGateway(peer, TOKEN, { trustedProxies: [RELAY_ADDRESS] });
  nodeHosts.openclaw = startNodeHost(oc.port);
  for (const [kind, url, p] of [
    ["gatehouse", gh.url, port],
    ["openclaw", oc.url, oc.port],
  ] as const) {
    const ocHome = new OpenClawHome(peer);
    ocHome.writeConfig(p, TOKEN);
    sides[kind] = { kind, url, port: p, ocHome };
  }
});

after(async () => {
  for (const run of Object.values(nodeHosts)) {
    await run?.host.stop();
    run?.home.remove();
  }
  for (const side of Object.values(sides)) side?.ocHome.remove();
  await oc?.stop();
  await gh?.app.stop({ graceMs: 200 });
  gh?.store.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (locksBefore) cleanupOpenClawLocks(locksBefore);
});

function side(kind: Side["kind"]): Side {
  const s = sides[kind];
  assert.ok(s, `the ${kind} gateway did not start`);
  return s;
}

const ARROW = { gatehouse: "openclaw → gatehouse", openclaw: "gatehouse → openclaw" } as const;

/** Prints the check's line (direction, command, ok/FAIL) and rethrows its failure. */
async function check(direction: string, command: string, fn: () => Promise<void>): Promise<void> {
  const started = Date.now();
  const line = (verdict: string) =>
    console.log(
      `interop  ${direction.padEnd(24)} ${command.padEnd(58)} ${verdict} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  try {
    await fn();
    line("ok");
  } catch (err) {
    line("FAIL");
    throw err;
  }
}

/** `openclaw ARGS` from a home pointed at `s` (health takes the URL from the environment). */
function openclaw(s: Side, args: readonly string[]): Promise<CommandResult> {
  return s.ocHome.run(args, {
    env: { OPENCLAW_GATEWAY_URL: s.url, OPENCLAW_GATEWAY_TOKEN: TOKEN },
    timeoutMs: 150_000,
  });
}

function json<T>(r: CommandResult, what: string): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`${what}: stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

function explain(r: CommandResult): string {
  return `exit ${r.code}${r.timedOut ? " (timed out)" : ""}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
}

/**
 * Runs an OpenClaw CLI command against both gateways: the exit status on Gatehouse must be the one
 * on OpenClaw, and `meaning` must hold for both outputs.
 */
async function sameOnBoth(
  args: readonly string[],
  meaning: (r: CommandResult, s: Side) => void,
): Promise<void> {
  const [onOc, onGh] = await Promise.all([
    openclaw(side("openclaw"), args),
    openclaw(side("gatehouse"), args),
  ]);
  meaning(onOc, side("openclaw"));
  meaning(onGh, side("gatehouse"));
  assert.equal(onGh.code, onOc.code, `exit status differs: openclaw ${onOc.code}, gatehouse ${onGh.code}`);
}

describe(
  "openclaw CLI 2026.9.6 → Gatehouse (same exit status and meaning as against OpenClaw)",
  { concurrency: 3 },
  () => {
    it("openclaw health --json", () =>
      check(ARROW.gatehouse, "openclaw health --json", () =>
        sameOnBoth(["health", "--json"], (r) => {
          assert.equal(r.code, 0, explain(r));
          assert.equal(json<{ ok: boolean }>(r, "health").ok, true);
        }),
      ));

    it("openclaw status --json", () =>
      check(ARROW.gatehouse, "openclaw status --json", () =>
        sameOnBoth(["status", "--json"], (r, s) => {
          assert.equal(r.code, 0, explain(r));
          const status = json<{ runtimeVersion: string; sessions: { byAgent: unknown[] } }>(r, "status");
          assert.ok(Array.isArray(status.sessions.byAgent));
          if (s.kind === "gatehouse") assert.equal(status.runtimeVersion, GATEHOUSE_VERSION);
        }),
      ));

    it("openclaw status", () =>
      check(ARROW.gatehouse, "openclaw status", () =>
        sameOnBoth(["status"], (r, s) => {
          assert.equal(r.code, 0, explain(r));
          assert.match(r.stdout, new RegExp(`ws://127\\.0\\.0\\.1:${s.port}.*reachable`));
        }),
      ));

    it("openclaw gateway probe --json", () =>
      check(ARROW.gatehouse, "openclaw gateway probe --json --url --token", async () => {
        for (const s of [side("openclaw"), side("gatehouse")]) {
          const r = await openclaw(s, ["gateway", "probe", "--json", "--url", s.url, "--token", TOKEN]);
          assert.equal(r.code, 0, explain(r));
          const probe = json<{ ok: boolean; targets: Array<{ url: string; connect: { ok: boolean } }> }>(
            r,
            "probe",
          );
          assert.equal(probe.ok, true);
          assert.equal(probe.targets.find((t) => t.url === s.url)?.connect.ok, true, explain(r));
        }
      }));

    it("openclaw cron list --json", () =>
      check(ARROW.gatehouse, "openclaw cron list --json", () =>
        sameOnBoth(["cron", "list", "--json"], (r) => {
          assert.equal(r.code, 0, explain(r));
          assert.ok(Array.isArray(json<{ jobs: unknown[] }>(r, "cron list").jobs));
        }),
      ));

    it("openclaw devices list --json", () =>
      check(ARROW.gatehouse, "openclaw devices list --json --url --token", async () => {
        for (const s of [side("openclaw"), side("gatehouse")]) {
          const r = await openclaw(s, ["devices", "list", "--json", "--url", s.url, "--token", TOKEN]);
          assert.equal(r.code, 0, explain(r));
          const list = json<{ pending: unknown[]; paired: unknown[] }>(r, "devices list");
          assert.ok(Array.isArray(list.pending) && Array.isArray(list.paired));
        }
      }));
  },
);

describe("openclaw-node 0.14 → Gatehouse and OpenClaw", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-openclaw-node-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The helpers a backend built on openclaw-node calls, each resolving on both gateways. */
  const HELPERS = [
    "health",
    "status",
    "sessions.list",
    "agents.list",
    "config.get",
    "channels.status",
  ] as const;

  it("its helpers answer on both, and a wider second connect is not refused", () =>
    check("openclaw-node → both", `openclaw-node connect + ${HELPERS.join(", ")}`, async () => {
      for (const s of [side("openclaw"), side("gatehouse")]) {
        const identity = join(dir, `${s.kind}.json`);
        const make = (scopes: string[]) =>
          new OpenClawClient({
            url: s.url,
            token: TOKEN,
            deviceIdentityPath: identity,
            autoReconnect: false,
            scopes,
          });
        const first = make(["operator.read", "operator.write"]);
        await first.connect();
        try {
          for (const method of HELPERS) {
            const res = (await first.request(method, {})) as unknown as { ok: boolean; error?: unknown };
            assert.equal(res.ok, true, `${s.kind} ${method}: ${JSON.stringify(res.error)}`);
          }
        } finally {
          await first.disconnect();
        }
        // The same backend again, asking for more: admitted at once, as on OpenClaw.
        const second = make(["operator.read", "operator.write", "operator.pairing"]);
        second.on("error", () => {});
        await second.connect();
        try {
          const res = (await second.request("device.pair.list", {})) as unknown as {
            ok: boolean;
            error?: unknown;
          };
          assert.equal(res.ok, true, `${s.kind} device.pair.list: ${JSON.stringify(res.error)}`);
        } finally {
          await second.disconnect();
        }
      }
    }));
});

/** Gatehouse's log lines about the OpenClaw node host's connects. */
function nodeHostLog(): string[] {
  return gh.log.filter((l) => l.includes('"node-host/node"'));
}

type SurfaceRequest = NodePairList["pending"][number];

/** An admin session on `s` with the shared token (the owner's CLI on the gateway host). */
async function ownerOf(s: Side): Promise<GatewayClient> {
  const owner = new GatewayClient({
    url: s.url,
    auth: { token: TOKEN },
    client: { id: "cli", mode: "cli" },
    scopes: ["operator.admin"],
    requestTimeoutMs: 60_000,
  });
  await owner.connect();
  return owner;
}

/** How long a node host that reports itself connected may take to have its surface request listed. */
const NODE_REQUEST_WITHIN_MS = 30_000;
/** Only a bound on a hang: its cold start is CPU-bound and slow on a loaded machine. */
const NODE_TRIES_WITHIN_MS = 300_000;

/**
 * Waits for `s`'s node host to connect and returns the surface request it made (it declares
 * exec-capable commands, so it pends for an admin's approval on either gateway). Any sign that it
 * cannot get there (it exits, Gatehouse refuses it, it reports a failed connection, or it says it is
 * connected and no request shows 30 s later) fails at once with the node host's last output (and,
 * on Gatehouse, the log of its connects).
 */
async function nodeHostRequest(s: Side, owner: GatewayClient): Promise<SurfaceRequest> {
  const run = nodeHosts[s.kind];
  assert.ok(run, `no OpenClaw node host was started against ${s.kind}`);
  const fail = (why: string): never =>
    assert.fail(
      `${s.kind}: ${why}\n--- the node host's last output:\n${run.host.tail()}` +
        (s.kind === "gatehouse"
          ? `\n--- Gatehouse on its connects:\n${nodeHostLog().join("\n") || "(none)"}`
          : ""),
    );
  let connectedAt: number | undefined;
  for (;;) {
    const code = run.host.exitCode();
    if (code !== undefined) fail(`the OpenClaw node host exited (${code})`);
    if (s.kind === "gatehouse" && nodeHostLog().some((l) => l.includes('"event":"connect refused"'))) {
      fail("Gatehouse refused the node host");
    }
    const failed = run.host.output.find((l) => /gateway connect failed/.test(l));
    if (failed) fail(`the node host could not connect: ${failed}`);
    if (connectedAt === undefined && run.host.output.some((l) => /gateway connected/.test(l))) {
      connectedAt = Date.now();
    }
    if (connectedAt !== undefined) {
      const { pending } = await owner.request<NodePairList>("node.pair.list", {});
      const request = pending.find((p) => p.clientId === "node-host");
      if (request) return request;
      if (Date.now() - connectedAt > NODE_REQUEST_WITHIN_MS) {
        fail(
          `the node host says it is connected, and ${NODE_REQUEST_WITHIN_MS / 1000} s later no surface request ` +
            `of it is pending (node.pair.list pending: ${JSON.stringify(pending)})`,
        );
      }
    } else if (Date.now() - run.startedAt > NODE_TRIES_WITHIN_MS) {
      fail(`the node host made no connect within ${NODE_TRIES_WITHIN_MS / 1000} s of starting`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Each side's node host surface request, once the first node test saw it. */
const nodeRequests: Partial<Record<Side["kind"], SurfaceRequest>> = {};

describe("openclaw node run → Gatehouse (and OpenClaw)", () => {
  it("connects, its surface pends in OpenClaw's shape and exposes nothing meanwhile (C19)", () =>
    check(ARROW.gatehouse, "openclaw node run (surface request pends)", async () => {
      await Promise.all(
        (["gatehouse", "openclaw"] as const).map(async (kind) => {
          const s = side(kind);
          const owner = await ownerOf(s);
          try {
            const request = await nodeHostRequest(s, owner);
            assert.ok(request.commands.includes("system.which"), `${kind}: ${JSON.stringify(request)}`);
            // Exec-capable commands: only an admin approves them (C19).
            assert.deepEqual(
              [...request.requiredApproveScopes].sort(),
              ["operator.admin", "operator.pairing"],
              `${kind}: ${JSON.stringify(request)}`,
            );
            const { nodes } = await owner.request<{ nodes: Array<{ nodeId: string; commands?: string[] }> }>(
              "node.list",
              {},
            );
            const listed = nodes.find((n) => n.nodeId === request.nodeId);
            assert.ok(!listed?.commands?.includes("system.which"), `${kind}: exposed before approval`);
            nodeRequests[kind] = request;
          } finally {
            await owner.close();
          }
        }),
      );
    }));

  it("openclaw nodes pending, approve, list and invoke system.which {bins} work on Gatehouse as on OpenClaw", () =>
    check(
      ARROW.gatehouse,
      "openclaw nodes pending|approve|list; nodes invoke system.which {bins}",
      async () => {
        const codes: Record<string, Array<number | null>> = {};
        await Promise.all(
          (["gatehouse", "openclaw"] as const).map(async (kind) => {
            const s = side(kind);
            const request = nodeRequests[kind];
            assert.ok(request, `${kind}: no node host surface request (the previous check failed)`);
            const conn = ["--url", s.url, "--token", TOKEN];
            // The approval reaches the node host in the session it has: no reconnect before the invoke.
            const connects = () =>
              nodeHosts[kind]!.host.output.filter((l) => /gateway connected/.test(l)).length;
            const connectsBefore = connects();
            const pending = await openclaw(s, ["nodes", "pending", "--json", ...conn]);
            assert.equal(pending.code, 0, `${kind}: ${explain(pending)}`);
            assert.ok(pending.stdout.includes(request.requestId), `${kind}: ${explain(pending)}`);
            const approve = await openclaw(s, [
              "nodes",
              "approve",
              request.requestId,
              "--timeout",
              "60000",
              ...conn,
            ]);
            assert.equal(approve.code, 0, `${kind}: ${explain(approve)}`);
            const list = await openclaw(s, ["nodes", "list", "--json", "--timeout", "60000", ...conn]);
            assert.equal(list.code, 0, `${kind}: ${explain(list)}`);
            assert.ok(list.stdout.includes(request.nodeId), `${kind}: ${explain(list)}`);
            const invoke = await openclaw(s, [
              "nodes",
              "invoke",
              "--node",
              request.nodeId,
              "--command",
              "system.which",
              "--params",
              JSON.stringify({ bins: ["ls", "no-such-program-xyz"] }),
              "--json",
              "--timeout",
              "60000",
              ...conn,
            ]);
            assert.equal(invoke.code, 0, `${kind}: ${explain(invoke)}`);
            assert.match(invoke.stdout, /"ls":\s*"\/[^"]*\/ls"/, `${kind}: ${explain(invoke)}`);
            assert.doesNotMatch(invoke.stdout, /no-such-program-xyz"\s*:/, `${kind}: ${explain(invoke)}`);
            assert.equal(connects(), connectsBefore, `${kind}: the node host reconnected to be approved`);
            codes[kind] = [pending.code, approve.code, list.code, invoke.code];
          }),
        );
        assert.deepEqual(codes.gatehouse, codes.openclaw);
        const unknown = gh.log.filter((l) => l.includes('"unknown method"') && l.includes("node-host/node"));
        assert.deepEqual(unknown, [], "the node host called methods Gatehouse does not answer");
      },
    ));
});

/** `gatehouse ARGS --url <side> --token T` with `stateDir` as this client machine's state dir. */
function gatehouse(s: Side, args: readonly string[], stateDir: string, url = s.url): Promise<CommandResult> {
  const child = spawn(
    process.execPath,
    [CLI_MAIN, ...args, "--state-dir", stateDir, "--url", url, "--token", TOKEN],
    {
      env: { ...process.env, GATEHOUSE_NO_COMMAND_SHIM: "1", NO_COLOR: "1", GATEHOUSE_GATEWAY_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  return runToEnd(child, 90_000);
}

/** Nothing a user reads may show an unfilled value. */
function noHoles(r: CommandResult): void {
  assert.doesNotMatch(r.stdout + r.stderr, /undefined|NaN|\[object Object\]/, explain(r));
}

/**
 * A device elsewhere (seen through the forwarding relay) asking for `scopes`: it pends. Resolves
 * with its requestId and a client to connect again once approved.
 */
async function remoteDevice(
  s: Side,
  relay: ForwardingRelay,
  scopes: string[],
): Promise<{ requestId: string; client: GatewayClient; store: MemoryDeviceTokenStore }> {
  const store = new MemoryDeviceTokenStore();
  const client = new GatewayClient({
    url: relay.url,
    identity: generateIdentity(),
    deviceTokenStore: store,
    auth: { token: TOKEN },
    client: { id: "cli", mode: "cli" },
    scopes,
  });
  const err = await client.connect().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(
    err instanceof GatewayClientError && err.detailCode === "PAIRING_REQUIRED",
    `${s.kind}: ${String(err)}`,
  );
  assert.ok(err.requestId, `${s.kind}: no requestId`);
  return { requestId: err.requestId, client, store };
}

/**
 * A node built on gatehouse/client that declares `commands`. `request()` (re)connects it and
 * returns the surface request that connect made (its device is approved by `owner` first if the
 * gateway pends it); `close()` ends its session.
 */
function declaringNode(s: Side, owner: GatewayClient, commands: string[]) {
  const identity = generateIdentity();
  const store = new MemoryDeviceTokenStore();
  let client: GatewayClient | undefined;
  const make = () =>
    new GatewayClient({
      url: s.url,
      identity,
      deviceTokenStore: store,
      auth: { token: TOKEN },
      client: { id: "node-host", mode: "node" },
      role: "node",
      scopes: [],
      commands,
    });
  const close = async () => {
    await client?.close();
    client = undefined;
  };
  return {
    close,
    async request(): Promise<SurfaceRequest> {
      await close();
      client = make();
      const err = await client.connect().then(
        () => null,
        (e: unknown) => e,
      );
      if (err instanceof GatewayClientError && err.detailCode === "PAIRING_REQUIRED" && err.requestId) {
        await owner.request("device.pair.approve", { requestId: err.requestId });
        client = make();
        await client.connect();
      } else if (err) throw err;
      for (let i = 0; i < 40; i++) {
        const { pending } = await owner.request<NodePairList>("node.pair.list", {});
        const request = pending.find((p) => p.nodeId === identity.deviceId);
        if (request) return request;
        await new Promise((r) => setTimeout(r, 250));
      }
      return assert.fail(`${s.kind}: a node declaring ${commands.join(", ")} made no surface request`);
    },
  };
}

describe("gatehouse CLI and gatehouse/client → OpenClaw (same exit status and meaning as against Gatehouse)", () => {
  const relays: Partial<Record<Side["kind"], ForwardingRelay>> = {};
  const dirs: Partial<Record<Side["kind"], string>> = {};
  before(async () => {
    for (const kind of ["gatehouse", "openclaw"] as const) {
      relays[kind] = await startForwardingRelay(side(kind).port);
      dirs[kind] = mkdtempSync(join(scratch, `gatehouse-cli-${kind}-`));
    }
  });
  after(async () => {
    for (const r of Object.values(relays)) await r?.close();
  });
  const both = async (fn: (s: Side, dir: string, relay: ForwardingRelay) => Promise<void>) => {
    for (const kind of ["gatehouse", "openclaw"] as const) await fn(side(kind), dirs[kind]!, relays[kind]!);
  };
  /** Runs `args` on both; same exit status on OpenClaw as on Gatehouse, and `meaning` holds for each. */
  const gatehouseOnBoth = async (
    args: readonly string[],
    meaning: (r: CommandResult, s: Side) => void,
  ): Promise<void> => {
    const codes: Record<string, number | null> = {};
    await both(async (s, dir) => {
      const r = await gatehouse(s, args, dir);
      noHoles(r);
      meaning(r, s);
      codes[s.kind] = r.code;
    });
    assert.equal(codes.openclaw, codes.gatehouse, `exit status differs: ${JSON.stringify(codes)}`);
  };

  it("gatehouse devices list (pairs the CLI silently on loopback)", () =>
    check(ARROW.openclaw, "gatehouse devices list --json", () =>
      gatehouseOnBoth(["devices", "list", "--json"], (r) => {
        assert.equal(r.code, 0, explain(r));
        assert.ok(Array.isArray(json<{ paired: unknown[] }>(r, "devices list").paired));
      }),
    ));

  it("gatehouse health", () =>
    check(ARROW.openclaw, "gatehouse health", () =>
      gatehouseOnBoth(["health"], (r, s) => {
        assert.equal(r.code, 0, explain(r));
        const version = s.kind === "openclaw" ? peer.version : GATEHOUSE_VERSION;
        assert.match(
          r.stdout,
          new RegExp(`^gateway ok at ${s.url} — version ${version.replace(/\./g, "\\.")}`),
        );
      }),
    ));

  it("gatehouse devices list after a read command (the token's cached scopes are what it was approved for)", () =>
    check(ARROW.openclaw, "gatehouse health; gatehouse devices list", () =>
      gatehouseOnBoth(["devices", "list", "--json"], (r) => assert.equal(r.code, 0, explain(r))),
    ));

  it("gatehouse status", () =>
    check(ARROW.openclaw, "gatehouse status", () =>
      gatehouseOnBoth(["status"], (r, s) => {
        assert.equal(r.code, 0, explain(r));
        assert.match(r.stdout, new RegExp(`^Gateway: running.* — ${s.url}`, "m"));
      }),
    ));

  it("gatehouse status --json", () =>
    check(ARROW.openclaw, "gatehouse status --json", () =>
      gatehouseOnBoth(["status", "--json"], (r) => {
        assert.equal(r.code, 0, explain(r));
        assert.equal(json<{ gateway: { running: boolean } }>(r, "status").gateway.running, true);
      }),
    ));

  it("a refused device's hint names the approve command of the gateway that refused", () =>
    check(ARROW.openclaw, "gatehouse health (remote, not paired) → hint", async () => {
      await both(async (s, _dir, relay) => {
        const dir = mkdtempSync(join(scratch, `remote-cli-${s.kind}-`));
        const r = await gatehouse(s, ["health"], dir, relay.url);
        noHoles(r);
        assert.equal(r.code, 1, explain(r));
        assert.match(r.stderr, /^error PAIRING_REQUIRED: /m, explain(r));
        assert.match(
          r.stderr,
          new RegExp(`approve it on the gateway host: ${s.kind} devices approve \\S+`),
          explain(r),
        );
      });
    }));

  it("gatehouse devices approve, then gatehouse/client connects with the token it was issued", () =>
    check(ARROW.openclaw, "gatehouse devices approve <id>; gatehouse/client reconnects", async () => {
      const codes: Record<string, number | null> = {};
      await both(async (s, dir, relay) => {
        const asked = ["operator.read"];
        const dev = await remoteDevice(s, relay, asked);
        const r = await gatehouse(s, ["devices", "approve", dev.requestId], dir);
        noHoles(r);
        codes[s.kind] = r.code;
        assert.equal(r.code, 0, explain(r));
        await dev.client.connect();
        try {
          assert.deepEqual(dev.client.hello?.auth.scopes, asked);
          assert.equal(await dev.client.request<{ ok: boolean }>("health").then((h) => h.ok), true);
        } finally {
          await dev.client.close();
        }
      });
      assert.equal(codes.openclaw, codes.gatehouse);
    }));

  it("gatehouse nodes pending and reject, and openclaw nodes reject, work on both gateways", () =>
    check(ARROW.openclaw, "gatehouse nodes pending|reject; openclaw nodes reject", async () => {
      const codes: Record<string, Array<number | null>> = {};
      await Promise.all(
        (["gatehouse", "openclaw"] as const).map(async (kind) => {
          const s = side(kind);
          const dir = dirs[kind]!;
          const owner = await ownerOf(s);
          const node = declaringNode(s, owner, ["system.which"]);
          try {
            const first = await node.request();
            const pending = await gatehouse(s, ["nodes", "pending", "--json"], dir);
            noHoles(pending);
            assert.equal(pending.code, 0, `${kind}: ${explain(pending)}`);
            const listed = json<NodePairList>(pending, "nodes pending").pending.map((r) => r.requestId);
            assert.ok(listed.includes(first.requestId), `${kind}: ${explain(pending)}`);
            const reject = await gatehouse(s, ["nodes", "reject", first.requestId], dir);
            noHoles(reject);
            assert.equal(reject.code, 0, `${kind}: ${explain(reject)}`);
            const second = await node.request();
            assert.notEqual(second.requestId, first.requestId);
            const ocReject = await openclaw(s, [
              "nodes",
              "reject",
              second.requestId,
              "--url",
              s.url,
              "--token",
              TOKEN,
            ]);
            assert.equal(ocReject.code, 0, `${kind}: ${explain(ocReject)}`);
            // Nothing was approved: the node still exposes nothing.
            const { pending: left, paired } = await owner.request<NodePairList>("node.pair.list", {});
            assert.ok(
              !left.some((r) => r.requestId === second.requestId),
              `${kind}: ${JSON.stringify(left)}`,
            );
            assert.ok(!paired.some((n) => n.nodeId === second.nodeId), `${kind}: ${JSON.stringify(paired)}`);
            codes[kind] = [pending.code, reject.code, ocReject.code];
          } finally {
            await node.close();
            await owner.close();
          }
        }),
      );
      assert.deepEqual(codes.gatehouse, codes.openclaw);
    }));

  it("gatehouse nodes approve approves an exec-capable surface on both gateways (the CLI asks for operator.admin)", () =>
    check(ARROW.openclaw, "gatehouse nodes approve <id> (system.which: needs operator.admin)", async () => {
      const codes: Record<string, number | null> = {};
      await Promise.all(
        (["gatehouse", "openclaw"] as const).map(async (kind) => {
          const s = side(kind);
          const owner = await ownerOf(s);
          const node = declaringNode(s, owner, ["system.which"]);
          try {
            const request = await node.request();
            assert.deepEqual(
              [...request.requiredApproveScopes].sort(),
              ["operator.admin", "operator.pairing"],
              `${kind}: ${JSON.stringify(request)}`,
            );
            // The CLI's device here was paired silently on loopback for operator.pairing and
            // operator.read only: it must ask for operator.admin, and the gateway grants it silently.
            const approve = await gatehouse(s, ["nodes", "approve", request.requestId], dirs[kind]!);
            noHoles(approve);
            codes[kind] = approve.code;
            assert.equal(approve.code, 0, `${kind}: ${explain(approve)}`);
            assert.match(
              approve.stdout,
              new RegExp(`^approved node surface request ${request.requestId}: .*system\\.which`, "m"),
              `${kind}: ${explain(approve)}`,
            );
            const { pending, paired } = await owner.request<NodePairList>("node.pair.list", {});
            assert.ok(!pending.some((r) => r.requestId === request.requestId), `${kind}: still pending`);
            const approved = paired.find((n) => n.nodeId === request.nodeId);
            assert.ok(approved?.commands.includes("system.which"), `${kind}: ${JSON.stringify(paired)}`);
          } finally {
            await node.close();
            await owner.close();
          }
        }),
      );
      assert.equal(codes.openclaw, codes.gatehouse);
    }));

  it("openclaw devices approve and remove work on Gatehouse as on OpenClaw", () =>
    check(ARROW.gatehouse, "openclaw devices approve <id>; openclaw devices remove <id>", async () => {
      await both(async (s, _dir, relay) => {
        const dev = await remoteDevice(s, relay, ["operator.read"]);
        const approve = await openclaw(s, [
          "devices",
          "approve",
          dev.requestId,
          "--url",
          s.url,
          "--token",
          TOKEN,
        ]);
        assert.equal(approve.code, 0, `${s.kind}: ${explain(approve)}`);
        await dev.client.connect();
        await dev.client.close();
        const list = json<{ paired: Array<{ deviceId: string; displayName?: string }> }>(
          await openclaw(s, ["devices", "list", "--json", "--url", s.url, "--token", TOKEN]),
          "devices list",
        );
        const target = list.paired.find((d) => dev.store.get(d.deviceId, "operator") !== undefined);
        assert.ok(target, `${s.kind}: the approved device is not listed`);
        const remove = await openclaw(s, [
          "devices",
          "remove",
          target.deviceId,
          "--url",
          s.url,
          "--token",
          TOKEN,
        ]);
        assert.equal(remove.code, 0, `${s.kind}: ${explain(remove)}`);
      });
    }));
});
