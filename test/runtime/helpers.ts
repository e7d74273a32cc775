/**
 * An in-process gateway with the runtime wired in (what `gateway run` will do), on 127.0.0.1, a free
 * port and a state dir that survives a restart. Children are `node dist/test/runtime/fixtures/child.js`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayClient, GatewayClientError } from "../../src/client/index.js";
import type { GatewayServer } from "../../src/gateway/server.js";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { DeviceIdentity } from "../../src/identity/keys.js";
import type { SessionView } from "../../src/methods/sessions.js";
import { createGatewayApp } from "../../src/runtime/gateway-app.js";
import type { Runtime, RuntimeOptions } from "../../src/runtime/index.js";
import { ensureOwner } from "../../src/store/approve.js";
import { openStore, type Store } from "../../src/store/db.js";

export const RUNTIME_TEST_TOKEN = "runtime-test-token-0123456789abcdefghijklmnop";

/** The compiled child fixture. */
export const CHILD = fileURLToPath(new URL("./fixtures/child.js", import.meta.url));

/** The compiled `gatehouse` program with only the sessions and cron commands. */
export const RUNTIME_CLI = fileURLToPath(new URL("./fixtures/runtime-cli.js", import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse sessions|cron …` as a process, pointed at the gateway as its owner (its state dir). */
export function runtimeCli(gw: RuntimeGateway, args: string[]): Promise<CliRun> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
  const dashes = args.indexOf("--");
  const flags = ["--url", gw.url, "--state-dir", gw.stateDir];
  const full =
    dashes === -1 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
  return new Promise((resolve) => {
    execFile(process.execPath, [RUNTIME_CLI, ...full], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RuntimeGateway {
  server: GatewayServer;
  runtime: Runtime;
  url: string;
  auth: GatewayAuth;
  store: Store;
  owner: DeviceIdentity;
  stateDir: string;
  /** Stops runtime and server and closes the store; the state dir stays for a restart. */
  stop(): Promise<void>;
  /** stop() and delete the state dir. */
  dispose(): Promise<void>;
}

export interface RuntimeGatewayOptions {
  /** Reuse a state dir (a restart). */
  stateDir?: string;
  auth?: GatewayAuth;
  runtime?: Partial<Omit<RuntimeOptions, "store" | "gatewayUrl">>;
  /** `gateway.pairing.autoApproveLocal` (default true). */
  autoApproveLocal?: boolean;
}

/** Starts a gateway with the runtime; its owner is paired. */
export async function startRuntimeGateway(options: RuntimeGatewayOptions = {}): Promise<RuntimeGateway> {
  const auth: GatewayAuth = options.auth ?? { mode: "token", token: RUNTIME_TEST_TOKEN };
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "gatehouse-rt-"));
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    auth: () => auth,
    // Children never see the state dir (the owner key, the store), as under `gateway run`.
    runtime: { ...options.runtime, sandbox: { secretPaths: [stateDir], ...options.runtime?.sandbox } },
    ...(options.autoApproveLocal !== undefined ? { autoApproveLocal: options.autoApproveLocal } : {}),
  });
  await app.start();
  const { server, runtime } = app;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop({ graceMs: 200 });
    store.close();
  };
  return {
    server,
    runtime,
    url: server.localUrl(),
    auth,
    store,
    owner,
    stateDir,
    stop,
    dispose: async () => {
      await stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A connected client: the owner key (any scope) unless told to connect device-less with the token. */
export async function connectClient(
  gw: RuntimeGateway,
  scopes: readonly string[],
  as: "owner" | "token" = "owner",
): Promise<GatewayClient> {
  const client = new GatewayClient({
    url: gw.url,
    ...(as === "owner"
      ? { identity: gw.owner }
      : { auth: { token: gw.auth.token }, client: { id: "cli", mode: "cli" } }),
    scopes,
  });
  await client.connect();
  return client;
}

/** Spawns the child fixture in `mode` with `args`. */
export function spawnChild(
  client: GatewayClient,
  mode: string,
  args: readonly string[] = [],
  extra: Record<string, unknown> = {},
): Promise<SessionView> {
  return client.request<SessionView>("sessions.spawn", {
    command: process.execPath,
    args: [CHILD, mode, ...args],
    ...extra,
  });
}

/** Polls the runtime until the session is no longer running. */
export async function waitEnded(gw: RuntimeGateway, id: string, timeoutMs = 15_000): Promise<SessionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = gw.runtime.sessions.get(id);
    if (s && s.status !== "running") return s;
    if (Date.now() > deadline)
      throw new Error(`session ${id} still ${s?.status ?? "unknown"} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** The fixture's `RESULT {json}` line, parsed. */
export function resultOf<T = Record<string, unknown>>(session: SessionView): T {
  const line = (session.stdoutTail ?? "")
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("RESULT "));
  if (!line) {
    throw new Error(
      `no RESULT line from ${session.id} (${session.status}, exit ${session.exitCode}); stderr: ${session.stderrTail ?? ""}`,
    );
  }
  return JSON.parse(line.slice("RESULT ".length)) as T;
}

/** The namespaces the child fixture reports it ran in (`namespaces` in its RESULT). */
export interface ChildNamespaces {
  pid: string | null;
  mnt: string | null;
  uid: number | undefined;
}

/**
 * Asserts the child ran sandboxed (issue 12): in PID and mount namespaces of its own, not the
 * gateway's — this test process, whose in-process gateway started it — and, when the gateway runs
 * as root, as an unprivileged user.
 */
export function assertSandboxed(seen: { namespaces?: ChildNamespaces }): void {
  const ns = seen.namespaces;
  assert.ok(ns, "the child reported its namespaces");
  assert.ok(ns.pid !== null && ns.mnt !== null, `the child could read its namespaces: ${JSON.stringify(ns)}`);
  assert.notEqual(ns.pid, readlinkSync("/proc/self/ns/pid"), "the child has a PID namespace of its own");
  assert.notEqual(ns.mnt, readlinkSync("/proc/self/ns/mnt"), "the child has a mount namespace of its own");
  if (process.getuid?.() === 0) assert.notEqual(ns.uid, 0, "a root gateway's child is not root");
}

/** The gateway's refusal of a request that must be refused (fails the test if it succeeds). */
export async function refusal(p: Promise<unknown>): Promise<GatewayClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayClientError, String(err));
    return err;
  }
  assert.fail("expected the request to be refused");
}

/** Polls `check` until it returns a value (not undefined). */
export async function eventually<T>(
  check: () => T | undefined,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
