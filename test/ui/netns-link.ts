/**
 * One network namespace linked to the ROOT namespace by a veth pair, for the Control UI tests:
 * the gateway runs in this test process (root namespace) listening on 127.0.0.1 for Chromium AND
 * on the root end of the veth for the namespace, where a CLI with its own identity dials it as a
 * remote device would. (The container tests' pairs in test/helpers/netns.ts never touch the root
 * namespace; here the browser must reach the gateway on loopback, so the gateway cannot live in
 * a namespace of its own — or Chromium would have to run inside it.)
 *
 * Layout: namespace `ghui-<pid>-<n>` with `lo` up; veth `ghu<pid>r<n>` in root (10.232.X.Y+1/30)
 * and its peer `ghu<pid>p<n>` in the namespace (.Y+2). Only a connected /30 route appears in root;
 * 10.232.0.0/16 is not used by the container tests (10.231.0.0/16). `destroy()` kills everything
 * started in the namespace and deletes it (the veth goes with it); exit and signal hooks do the
 * same for a test process that dies, and stale `ghui-<pid>-…` namespaces of dead test processes
 * are swept on the next run.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { CLI_MAIN, type CliResult } from "../helpers/gateway-process.js";
import { netnsUnavailableReason } from "../helpers/netns.js";

export interface LinkedNamespace {
  ns: string;
  /** The gateway listens here (root end of the veth). */
  rootAddr: string;
  /** The namespace's own address: what the gateway sees as the peer. */
  nsAddr: string;
  /** Runs `gatehouse ARGS` inside the namespace to completion. */
  runCli(args: string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliResult>;
  /** Starts `gatehouse ARGS` inside the namespace and returns at once. */
  spawnCli(args: string[], env?: NodeJS.ProcessEnv): RunningCli;
  destroy(): void;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the result when it exits (SIGKILL after `timeoutMs`). */
  done(timeoutMs?: number): Promise<CliResult>;
}

const live = new Map<string, { veth: string; children: Set<ChildProcess> }>();
let counter = 0;
let hooked = false;

function ip(args: string[]): { ok: boolean; err: string; out: string } {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.error) return { ok: false, err: r.error.message, out: "" };
  return { ok: r.status === 0, err: (r.stderr ?? "").trim(), out: r.stdout ?? "" };
}

function must(args: string[]): void {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(" ")} failed: ${r.err}`);
}

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function killAllIn(ns: string): void {
  const r = ip(["netns", "pids", ns]);
  for (const pid of r.out.split(/\s+/).filter((s) => /^\d+$/.test(s))) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function destroyNs(ns: string): void {
  const entry = live.get(ns);
  live.delete(ns);
  for (const c of entry?.children ?? []) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  killAllIn(ns);
  if (entry) ip(["link", "delete", entry.veth]);
  ip(["netns", "delete", ns]);
}

function sweepStale(): void {
  for (const line of ip(["netns", "list"]).out.split("\n")) {
    const m = /^(ghui-(\d+)-\d+)\b/.exec(line.trim());
    if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
      killAllIn(m[1]!);
      ip(["netns", "delete", m[1]!]);
    }
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  const all = () => [...live.keys()].forEach(destroyNs);
  process.once("exit", all);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    if (process.listenerCount(signal) > 0) continue;
    const on = () => {
      all();
      process.off(signal, on);
      process.kill(process.pid, signal);
    };
    process.once(signal, on);
  }
}

/** Null when a linked namespace can be made here; otherwise the reason (tests skip with it). */
export function linkedNamespaceUnavailableReason(): string | null {
  return netnsUnavailableReason();
}

/** Creates the namespace and its veth link to the root namespace. */
export function createLinkedNamespace(): LinkedNamespace {
  hook();
  sweepStale();
  const n = counter++;
  const ns = `ghui-${process.pid}-${n}`;
  const veth = `ghu${process.pid}r${n}`;
  const peer = `ghu${process.pid}p${n}`;
  if (veth.length > 15) throw new Error(`interface name ${veth} is longer than 15 characters`);
  const index = ((process.pid % 4096) * 4 + n) % 16384;
  const base = `10.232.${index >> 6}.`;
  const fourth = (index & 63) * 4;
  const rootAddr = `${base}${fourth + 1}`;
  const nsAddr = `${base}${fourth + 2}`;
  const children = new Set<ChildProcess>();
  live.set(ns, { veth, children });
  try {
    must(["netns", "add", ns]);
    must(["-n", ns, "link", "set", "lo", "up"]);
    must(["link", "add", veth, "type", "veth", "peer", "name", peer, "netns", ns]);
    must(["addr", "add", `${rootAddr}/30`, "dev", veth]);
    must(["-n", ns, "addr", "add", `${nsAddr}/30`, "dev", peer]);
    must(["link", "set", veth, "up"]);
    must(["-n", ns, "link", "set", peer, "up"]);
  } catch (err) {
    destroyNs(ns);
    throw err;
  }

  const spawnCli = (args: string[], env: NodeJS.ProcessEnv = {}): RunningCli => {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, CLI_MAIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    children.add(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        children.delete(child);
        resolve(code);
      }),
    );
    return {
      child,
      stdout: () => out,
      stderr: () => err,
      done: async (timeoutMs = 30_000) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`gatehouse ${args.join(" ")} did not finish in ${timeoutMs} ms: ${err}`));
          }, timeoutMs);
        });
        try {
          const code = await Promise.race([exited, timeout]);
          return { code, stdout: out, stderr: err };
        } finally {
          clearTimeout(timer);
        }
      },
    };
  };

  return {
    ns,
    rootAddr,
    nsAddr,
    spawnCli,
    runCli: (args, env = {}, timeoutMs = 30_000) => spawnCli(args, env).done(timeoutMs),
    destroy: () => destroyNs(ns),
  };
}
