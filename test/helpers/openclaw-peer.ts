/**
 * The real OpenClaw as a test peer (reference/openclaw-peer.md): its gateway and its CLI on Node 24,
 * each run in a throw-away home, offline, in its own process group. Everything started here is
 * stopped by `stop()`/`cleanupOpenClawLocks()`, including the zero-byte lock files OpenClaw leaves
 * under /tmp/openclaw-state-locks-<uid>/ whatever TMPDIR says.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayClient } from "../../src/client/index.js";
import { freePort } from "./gateway-process.js";

/** Where the installed peer lives (scripts/openclaw-peer.mjs). */
export interface OpenClawPeer {
  dir: string;
  /** Node 24's binary. */
  node: string;
  /** `openclaw.mjs`, the CLI entry point. */
  openclaw: string;
  version: string;
}

interface PeerInstaller {
  installPeer(): Promise<OpenClawPeer>;
  OPENCLAW_VERSION: string;
}

/** The peer: from the cache, installed first when missing (the test command normally did that). */
export async function openClawPeer(): Promise<OpenClawPeer> {
  // dist/test/helpers → the checkout's scripts/: one installer for `npm test` and for direct runs.
  const url = new URL("../../../scripts/openclaw-peer.mjs", import.meta.url);
  const installer = (await import(url.href)) as PeerInstaller;
  return installer.installPeer();
}

/** Loopback names and IP literals only: the gateway looks up a hosted catalogue a few seconds after start. */
const OFFLINE_PRELOAD = `"use strict";
// Loaded with --require into every OpenClaw process of the tests: no name but loopback resolves.
const dns = require("node:dns");
// Loopback names and IP literals (a LAN bind looks up 0.0.0.0); nothing else.
const local = (h) => h === "localhost" || require("node:net").isIP(String(h)) !== 0;
const refuse = (h) => Object.assign(new Error("getaddrinfo ENOTFOUND " + h), { code: "ENOTFOUND", hostname: h });
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  const cb = typeof options === "function" ? options : callback;
  if (!local(host)) return process.nextTick(() => cb(refuse(host)));
  return lookup.apply(this, arguments);
};
const plookup = dns.promises.lookup;
dns.promises.lookup = (host, options) => (local(host) ? plookup(host, options) : Promise.reject(refuse(host)));
`;

/** One isolated OpenClaw home: state dir, config file, temp dir and the offline preload. */
export class OpenClawHome {
  readonly dir: string;

  constructor(readonly peer: OpenClawPeer) {
    this.dir = mkdtempSync(join(tmpdir(), "gatehouse-openclaw-"));
    mkdirSync(join(this.dir, ".openclaw"), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, "tmp"), { recursive: true });
    writeFileSync(join(this.dir, "offline.cjs"), OFFLINE_PRELOAD);
    // OpenClaw keeps Node's compile cache (V8 code for its thousands of modules) where a user's
    // does, under os.tmpdir()/node-compile-cache; with a TMPDIR per home every CLI command, node host
    // and gateway compiled everything afresh. The homes share one cache beside the peer (about a
    // quarter of a CLI command's CPU); Node checks each entry against the source it was made from.
    const compileCache = join(peer.dir, "compile-cache");
    mkdirSync(compileCache, { recursive: true });
    symlinkSync(compileCache, join(this.dir, "tmp", "node-compile-cache"));
  }

  get stateDir(): string {
    return join(this.dir, ".openclaw");
  }

  /**
   * Writes openclaw.json: a local gateway on `port` with token auth, nothing that phones home;
   * with `tls`, it serves wss:// with that certificate.
   */
  writeConfig(
    port: number,
    token: string,
    trustedProxies: readonly string[] = [],
    tls?: { certPath: string; keyPath: string },
  ): void {
    // A trusted proxy only matters on a LAN bind (OpenClaw refuses forwarded headers otherwise).
    const bind = trustedProxies.length > 0 ? { bind: "lan", trustedProxies } : { bind: "loopback" };
    const config = {
      gateway: {
        mode: "local",
        port,
        ...bind,
        auth: { mode: "token", token },
        ...(tls ? { tls: { enabled: true, autoGenerate: false, ...tls } } : {}),
      },
      update: { checkOnStart: false },
      discovery: { mdns: { mode: "off" } },
      models: { catalogRefresh: { enabled: false } },
    };
    writeFileSync(join(this.stateDir, "openclaw.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  /** The environment every OpenClaw process of this home runs with. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const keep = ["PATH", "LANG", "TERM"];
    const base: NodeJS.ProcessEnv = {};
    for (const k of keep) if (process.env[k] !== undefined) base[k] = process.env[k];
    return {
      ...base,
      HOME: this.dir,
      OPENCLAW_HOME: this.dir,
      OPENCLAW_STATE_DIR: this.stateDir,
      OPENCLAW_CONFIG_PATH: join(this.stateDir, "openclaw.json"),
      OPENCLAW_NO_AUTO_UPDATE: "1",
      OPENCLAW_DISABLE_BONJOUR: "1",
      OPENCLAW_SKIP_CHANNELS: "1",
      OPENCLAW_OFFLINE: "1",
      OPENCLAW_NO_RESPAWN: "1",
      OPENCLAW_CLAWHUB_URL: "http://127.0.0.1:9",
      DO_NOT_TRACK: "1",
      NO_COLOR: "1",
      TMPDIR: join(this.dir, "tmp"),
      NODE_OPTIONS: `--require ${join(this.dir, "offline.cjs")}`,
      ...extra,
    };
  }

  /** Starts `openclaw ARGS` in its own process group. */
  spawn(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
    return spawn(this.peer.node, [this.peer.openclaw, ...args], {
      env: this.env(env),
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
  }

  /** Runs one CLI command to its end (killed, with its children, after `timeoutMs`). */
  run(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}) {
    return runToEnd(this.spawn(args, opts.env), opts.timeoutMs ?? 90_000);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What a finished command did. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Waits for `child` to exit, collecting its output; kills its whole group after `timeoutMs`. */
export function runToEnd(child: ChildProcess, timeoutMs: number): Promise<CommandResult> {
  const started = Date.now();
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      // Whatever it left running in its group (workers, brokers) goes with it.
      killGroup(child, "SIGKILL");
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Collects a child's stdout and stderr as lines, in arrival order. */
function keepLines(child: ChildProcess, into: string[]): void {
  const keep = (c: Buffer) =>
    into.push(
      ...c
        .toString()
        .split("\n")
        .filter((l) => l !== ""),
    );
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
}

/** A running `openclaw node run`. */
export interface OpenClawNodeHost {
  /** Every line it printed so far. */
  output: string[];
  /** Its exit code once it has exited (null: killed by a signal); undefined while it runs. */
  exitCode(): number | null | undefined;
  /** Its last `n` lines, for a failure message. */
  tail(n?: number): string;
  /** SIGTERM to its group (SIGKILL after 10 s); the home is the caller's. */
  stop(): Promise<void>;
}

/**
 * Starts `openclaw node run` in `home` against a gateway on 127.0.0.1:`port` with the shared token.
 * Its cold start is CPU-bound (about 12 s of CPU loading its modules and plugin registry), so a
 * suite starts it early and lets the start overlap other work.
 */
export function startOpenClawNodeHost(home: OpenClawHome, port: number, token: string): OpenClawNodeHost {
  const child = home.spawn(["node", "run", "--host", "127.0.0.1", "--port", String(port)], {
    OPENCLAW_GATEWAY_TOKEN: token,
  });
  const output: string[] = [];
  keepLines(child, output);
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (c) => {
      code = c;
      resolve();
    }),
  );
  return {
    output,
    exitCode: () => code,
    tail: (n = 20) => output.slice(-n).join("\n") || "(no output yet)",
    stop: async () => {
      if (code === undefined) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      killGroup(child, "SIGKILL");
    },
  };
}

/** A running OpenClaw gateway. */
export interface OpenClawGateway {
  url: string;
  port: number;
  token: string;
  home: OpenClawHome;
  /** Every line it logged so far. */
  log: string[];
  /** SIGTERM to its group (SIGKILL after 10 s), then removes its home. */
  stop(): Promise<void>;
}

/**
 * Starts `openclaw gateway run` on a free port with token auth (bound to loopback, or to the LAN
 * when `trustedProxies` are given, which is how OpenClaw takes forwarded headers; over wss:// with
 * `tls`) and resolves once a
 * device-less `health` call succeeds (the port opens after a few seconds, and connects are
 * answered UNAVAILABLE/1013 for a few more while its sidecars start).
 */
export async function startOpenClawGateway(
  peer: OpenClawPeer,
  token: string,
  options: {
    trustedProxies?: readonly string[];
    readyWithinMs?: number;
    /** Serve wss:// with this certificate; the readiness check pins its fingerprint. */
    tls?: { certPath: string; keyPath: string; fingerprint: string };
  } = {},
): Promise<OpenClawGateway> {
  const readyWithinMs = options.readyWithinMs ?? 180_000;
  const trusted = options.trustedProxies ?? [];
  const tls = options.tls;
  const home = new OpenClawHome(peer);
  const port = await freePort();
  home.writeConfig(port, token, trusted, tls && { certPath: tls.certPath, keyPath: tls.keyPath });
  const bind = trusted.length > 0 ? "lan" : "loopback";
  const child = home.spawn(["gateway", "run", "--port", String(port), "--bind", bind, "--auth", "token"]);
  const log: string[] = [];
  keepLines(child, log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const url = `${tls ? "wss" : "ws"}://127.0.0.1:${port}`;
  const stop = async () => {
    if (exitCode === undefined) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    killGroup(child, "SIGKILL");
    home.remove();
  };
  const deadline = Date.now() + readyWithinMs;
  let last = "";
  for (;;) {
    if (exitCode !== undefined) {
      await stop();
      throw new Error(
        `openclaw gateway exited (${exitCode}) before it was ready:\n${log.slice(-20).join("\n")}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `openclaw gateway not ready within ${readyWithinMs} ms (${last}):\n${log.slice(-20).join("\n")}`,
      );
    }
    const client = new GatewayClient({
      url,
      auth: { token },
      client: { id: "cli", mode: "cli" },
      scopes: ["operator.read"],
      ...(tls ? { tlsFingerprint: tls.fingerprint } : {}),
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 5_000,
    });
    try {
      await client.connect();
      await client.request("health");
      return { url, port, token, home, log, stop };
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      // Not ready yet: a refused connect costs next to nothing, so look again soon.
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await client.close();
    }
  }
}

const LOCK_DIR = `/tmp/openclaw-state-locks-${process.getuid?.() ?? 0}`;

/** The lock files present now (take this before starting any OpenClaw process). */
export function openClawLocks(): { dirExisted: boolean; files: Set<string> } {
  if (!existsSync(LOCK_DIR)) return { dirExisted: false, files: new Set() };
  return { dirExisted: true, files: new Set(readdirSync(LOCK_DIR)) };
}

/** Files some live process holds open (so another test's OpenClaw keeps its locks). */
function openFiles(): Set<string> {
  const open = new Set<string>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        open.add(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  }
  return open;
}

/**
 * Removes the lock files that appeared since `before` and that no process holds open (ours are
 * stopped by then; a concurrent run's are left alone), and the directory if we created it and it
 * is empty. Returns the names removed.
 */
export function cleanupOpenClawLocks(before: { dirExisted: boolean; files: Set<string> }): string[] {
  if (!existsSync(LOCK_DIR)) return [];
  const open = openFiles();
  const removed: string[] = [];
  for (const name of readdirSync(LOCK_DIR)) {
    const path = join(LOCK_DIR, name);
    if (before.files.has(name) || open.has(path)) continue;
    rmSync(path, { force: true });
    removed.push(name);
  }
  if (!before.dirExisted) {
    try {
      rmdirSync(LOCK_DIR);
    } catch {
      // not empty: someone else's locks
    }
  }
  return removed;
}
