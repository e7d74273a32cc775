/**
 * Linux network namespaces for container-topology tests (issue item 5, scenarios S17/S18/C02).
 *
 * Layout: a pair of namespaces `gh-<pid>-<n>-a` and `gh-<pid>-<n>-b`, each with `lo` up, joined by
 * ONE veth pair that runs directly between them (`gh<pid>n<n>a` in A, `gh<pid>n<n>b` in B; created
 * inside A with its peer placed straight into B, so it never exists in the root namespace). The
 * link carries a /30 out of 10.231.0.0/16 chosen per run from the pid and a counter: A is `.1`, B
 * is `.2`. Nothing is added to the root namespace — no route, no address, no interface — so these
 * addresses exist only inside our two namespaces and no packet can leave them. A is "the gateway
 * container", B is "another container on the same bridge".
 *
 * Commands run inside a namespace with `ip netns exec <ns> <cmd>`, which execs the command in
 * place (the child's pid is the command's own pid), so signals reach it directly.
 *
 * Cleanup: `destroy()` (call it in `after`) kills what this module started in the pair, then
 * anything else still inside the pair's namespaces (`ip netns pids`), deletes the veth and both
 * namespaces. Process `exit`, SIGINT, SIGTERM and SIGHUP hooks do the same synchronously for any
 * pair still alive, and `createNetnsPair` first removes stale `gh-<pid>-…` namespaces whose
 * creating test process no longer exists (one killed with SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CLI_MAIN, type CliResult, type GatewayProcess } from "./gateway-process.js";

/** The /16 our /30s come from. Only ever configured inside our own namespaces. */
export const NETNS_SUBNET = "10.231.0.0/16";

export interface NetnsPair {
  /** Namespace names. */
  a: string;
  b: string;
  /** veth interface names (in A and in B). */
  vethA: string;
  vethB: string;
  /** Addresses on the veth link (a /30). */
  addrA: string;
  addrB: string;
  /** Kills everything left in the pair and deletes the veth and both namespaces. Idempotent. */
  destroy(): Promise<void>;
}

interface IpResult {
  ok: boolean;
  status: number | null;
  out: string;
  err: string;
}

function ip(args: string[], timeoutMs = 10_000): IpResult {
  const res = spawnSync("ip", args, { encoding: "utf8", timeout: timeoutMs });
  if (res.error) {
    return { ok: false, status: null, out: "", err: res.error.message };
  }
  return { ok: res.status === 0, status: res.status, out: res.stdout, err: res.stderr.trim() };
}

function ipOrThrow(args: string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(" ")} failed (${r.status}): ${r.err}`);
  return r.out;
}

let probed: { reason: string | null } | undefined;

/**
 * Null when this process can create network namespaces, a veth pair and run a command inside
 * one; otherwise a reason a person understands (no `ip`, not privileged, ...). Probes once by
 * really doing it, with a throw-away namespace it deletes again.
 */
export function netnsUnavailableReason(): string | null {
  if (probed) return probed.reason;
  probed = { reason: probe() };
  return probed.reason;
}

function probe(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  const version = ip(["-V"]);
  if (version.status === null) {
    return `the \`ip\` command (iproute2) is not available: ${version.err} (install iproute2)`;
  }
  const ns = `gh-${process.pid}-probe`;
  const a = ip(["netns", "add", ns]);
  if (!a.ok) {
    const uid = typeof process.getuid === "function" ? process.getuid() : -1;
    return `cannot create a network namespace (\`ip netns add\` as uid ${uid}: ${a.err || `exit ${a.status}`}); these tests need root or CAP_SYS_ADMIN`;
  }
  try {
    const exec = ip(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    if (!exec.ok) return `cannot run a command inside a network namespace (\`ip netns exec\`: ${exec.err})`;
    const veth = ip(["-n", ns, "link", "add", "ghprobe0", "type", "veth", "peer", "name", "ghprobe1"]);
    if (!veth.ok) return `cannot create a veth pair (the veth kernel module may be missing): ${veth.err}`;
    return null;
  } finally {
    ip(["netns", "delete", ns]);
  }
}

const live = new Map<string, LivePair>();
let counter = 0;
let exitHookInstalled = false;

interface LivePair {
  pair: NetnsPair;
  children: Set<ChildProcess>;
  destroyed: boolean;
}

/** The /30 for the n-th pair of this process: 10.231.X.Y, Y a multiple of 4. */
function subnetFor(n: number): { addrA: string; addrB: string } {
  const index = ((process.pid % 4096) * 4 + n) % 16384;
  const third = index >> 6;
  const fourth = (index & 63) * 4;
  return { addrA: `10.231.${third}.${fourth + 1}`, addrB: `10.231.${third}.${fourth + 2}` };
}

/** True while `pid` is a running process (a zombie, killed but not yet reaped, counts as gone). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": the state follows the last ")", since comm may contain one.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Pids of processes inside a namespace (empty when it is gone). */
function pidsIn(ns: string): number[] {
  const r = ip(["netns", "pids", ns]);
  if (!r.ok) return [];
  return r.out
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

function killAllIn(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function deleteNamespace(ns: string): void {
  killAllIn(ns);
  // A namespace whose last process is still exiting deletes fine: the kernel frees it later.
  ip(["netns", "delete", ns]);
}

/** Removes namespaces left by an earlier test process of ours that died without cleaning up. */
function sweepStale(): void {
  const r = ip(["netns", "list"]);
  if (!r.ok) return;
  for (const line of r.out.split("\n")) {
    const m = /^(gh-(\d+)-(?:\d+-[ab]|probe))\b/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !pidAlive(pid)) deleteNamespace(m[1]!);
  }
}

function destroySync(entry: LivePair): void {
  if (entry.destroyed) return;
  entry.destroyed = true;
  for (const child of entry.children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  const { a, b, vethA } = entry.pair;
  ip(["-n", a, "link", "delete", vethA]);
  deleteNamespace(a);
  deleteNamespace(b);
  live.delete(a);
}

function destroyAllSync(): void {
  for (const entry of [...live.values()]) destroySync(entry);
}

/** Last-resort cleanup when a test process ends without running `after` (crash, Ctrl-C, kill). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", destroyAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      destroyAllSync();
      // Then die of the same signal, as without this handler.
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    // Only when nobody else handles it: otherwise this would change how the process ends.
    if (process.listenerCount(signal) === 0) process.once(signal, onSignal);
  }
}

/**
 * Creates two fresh namespaces joined by a veth /30 (see the module comment). Throws when any
 * step fails, after removing what it made; check `netnsUnavailableReason()` first.
 */
export function createNetnsPair(): NetnsPair {
  installExitHook();
  sweepStale();
  const n = counter++;
  const a = `gh-${process.pid}-${n}-a`;
  const b = `gh-${process.pid}-${n}-b`;
  const vethA = `gh${process.pid}n${n}a`;
  const vethB = `gh${process.pid}n${n}b`;
  if (vethA.length > 15) throw new Error(`interface name ${vethA} is longer than 15 characters`);
  const { addrA, addrB } = subnetFor(n);
  const entry: LivePair = {
    pair: {
      a,
      b,
      vethA,
      vethB,
      addrA,
      addrB,
      destroy: async () => {
        const e = live.get(a);
        if (!e) return;
        await stopChildren(e.children);
        destroySync(e);
      },
    },
    children: new Set(),
    destroyed: false,
  };
  live.set(a, entry);
  try {
    ipOrThrow(["netns", "add", a]);
    ipOrThrow(["netns", "add", b]);
    ipOrThrow(["-n", a, "link", "set", "lo", "up"]);
    ipOrThrow(["-n", b, "link", "set", "lo", "up"]);
    ipOrThrow(["-n", a, "link", "add", vethA, "type", "veth", "peer", "name", vethB, "netns", b]);
    ipOrThrow(["-n", a, "addr", "add", `${addrA}/30`, "dev", vethA]);
    ipOrThrow(["-n", b, "addr", "add", `${addrB}/30`, "dev", vethB]);
    ipOrThrow(["-n", a, "link", "set", vethA, "up"]);
    ipOrThrow(["-n", b, "link", "set", vethB, "up"]);
  } catch (err) {
    destroySync(entry);
    throw err;
  }
  return entry.pair;
}

/** SIGTERM, then SIGKILL after `graceMs`, for every child still running. */
async function stopChildren(children: Set<ChildProcess>, graceMs = 3000): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** Spawns `argv` inside namespace `ns` (one of a live pair's), tracked for cleanup. */
export function spawnIn(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const entry = [...live.values()].find((e) => e.pair.a === ns || e.pair.b === ns);
  if (!entry || entry.destroyed) throw new Error(`${ns} is not a live namespace made by this harness`);
  const child = spawn("ip", ["netns", "exec", ns, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  entry.children.add(child);
  child.once("exit", () => entry.children.delete(child));
  return child;
}

/**
 * Starts `gatehouse gateway run ARGS --log-format json` inside `ns`; resolves once it is ready
 * (SIGTERM handler installed), rejects with its stderr if it exits first. Like `spawnGateway`.
 */
export async function spawnGatewayIn(
  ns: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
): Promise<GatewayProcess> {
  const child = spawnIn(
    ns,
    [process.execPath, CLI_MAIN, "gateway", "run", "--log-format", "json", ...args],
    env,
  );
  const log: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let listening: string | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway in ${ns} was not ready within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      log.push(line);
      let rec: { event?: string; urls?: string[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        return;
      }
      if (rec.event === "gateway listening" && rec.urls?.length) listening = rec.urls[0];
      // "gateway ready" comes after the SIGTERM handler is installed, so stop() is graceful.
      if (rec.event === "gateway ready" && listening !== undefined) {
        clearTimeout(timer);
        resolve(listening);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway in ${ns} exited (${code}) before it was ready: ${stderr}`));
    });
  });
  return {
    url,
    child,
    log,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs `argv` inside `ns` to completion (SIGKILL after `timeoutMs`), collecting its output. */
export function runIn(
  ns: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnIn(ns, argv, env);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${argv.join(" ")} in ${ns} did not finish in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // "close", not "exit": the exit can come before the last of stdout has been read.
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `gatehouse ARGS` inside `ns` to completion. Like `runCli`. */
export function runCliIn(
  ns: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<CliResult> {
  return runIn(ns, [process.execPath, CLI_MAIN, ...args], env, timeoutMs);
}
