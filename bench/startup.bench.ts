/**
 * Start-up, CLI and client: where users and agents wait before any real work. Each row is a
 * median of several runs (the count is printed) next to its goal from issue 15, measured with the
 * real `gatehouse` CLI and real child processes, beside bare `node` doing nothing — the floor set
 * by the OS and Node's own start-up on this machine. Load varies on a shared machine, so the run
 * prints the load average it started and ended with.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateIdentity } from "../src/identity/file-store.js";
import { createGatewayApp } from "../src/runtime/gateway-app.js";
import { ensureOwner, openStore } from "../src/store/index.js";
import { CLI_MAIN, freePort } from "../test/helpers/gateway-process.js";
import { CHILD_ARGS, EMPTY_ARGS } from "./callback-child.js";
import { openCpuAccount } from "./cpu-cgroup.js";
import { report } from "./report.js";
import { peakRssBytes, rssBytes, settledRss, settleMethod } from "./rss.js";
import { quantile } from "./stats.js";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_SESSIONS_CONCURRENCY ?? 8);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** Starts of the floor process (`bench/floor-process.ts`) whose memory is read. */
const FLOOR_RUNS = 3;
const FLOOR_MAIN = new URL("./floor-process.js", import.meta.url).pathname;

/** One printed row: the figure, its goal, and whether this run met it. */
interface Row {
  label: string;
  value: string;
  goal: string;
  met: boolean;
  note?: string;
}
const rows: Row[] = [];

const median = (xs: readonly number[]): number => quantile(xs, 0.5);
/** The median CPU time of the runs kept under `label`, in ms. */
const cpuMs = (label: string): string => `${median(cpu.get(label) ?? []).toFixed(0)} ms`;
const elapsedMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
/** CPU time (user + system, ms) of every child this process has waited for (cutime, cstime). */
function childrenCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 of /proc/<pid>/stat (cutime, cstime); `fields` starts at field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/** CPU time (user + system, ms) of the process whose `stat` this is. */
function ownCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** CPU times of the runs `timedNode` has made, by the label given. */
const cpu = new Map<string, number[]>();

/**
 * Runs `node ARGS` to its end; resolves with its wall time in ms, from the spawn to its exit,
 * rejects on a non-zero exit. Its CPU time (kept under `label`; a figure the load of a shared
 * machine moves far less than wall time) is what its end added to this process's waited-for
 * children's time: the runs are one at a time, and the gateways these benches start end later.
 * (A shell around it that printed its CPU time added 7–13 ms of wall time per run on a machine of
 * this kind: its own start, and forking `cat` after the node child ended.)
 */
function timedNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  label?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuMs(readFileSync("/proc/self/stat", "utf8"));
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    let wall = NaN;
    let cpuMs = NaN;
    child.once("exit", () => {
      wall = elapsedMs(t0);
      cpuMs = childrenCpuMs(readFileSync("/proc/self/stat", "utf8")) - cpu0;
    });
    // After "exit" and the end of its stderr, which "exit" alone does not wait for.
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`node ${args[0]} exited ${code}: ${stderr}`));
      if (label) cpu.set(label, [...(cpu.get(label) ?? []), cpuMs]);
      resolve(wall);
    });
  });
}

/** `runs` sequential samples of `fn`. */
async function samples(runs: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Resolves once something accepts a TCP connection on 127.0.0.1:port (polled every 2 ms). */
async function untilAccepting(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on port ${port}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A started process's memory: 1 s after it accepts, once settled, and its peak until then. */
interface StartMemory {
  /** VmRSS 1 s after accepting (the sandbox probe and the first timers have run). */
  rss1s: number;
  /** VmRSS once it has stopped falling (`settledRss`): what `top` shows a little later. */
  settled: number;
  /** VmHWM when the settled reading was taken: the most it held at any moment. */
  peak: number;
}

/**
 * Spawns `node ARGS` (a server on `port`), times it until it accepts connections, and reads its
 * memory: 1 s after, then once settled. Nothing is asked of the process meanwhile.
 */
async function serverStart(
  args: readonly string[],
  port: number,
  settle = true,
): Promise<{ startMs: number; startCpuMs: number } & StartMemory> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await untilAccepting(port, Date.now() + 30_000);
    const startMs = elapsedMs(t0);
    const startCpuMs = ownCpuMs(readFileSync(`/proc/${child.pid}/stat`, "utf8"));
    await new Promise((r) => setTimeout(r, 1000));
    const rss1s = rssBytes(child.pid!);
    const settled = settle ? (await settledRss(child.pid!)).rss : NaN;
    return { startMs, startCpuMs, rss1s, settled, peak: peakRssBytes(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

const loadBefore = load();
const dir = mkdtempSync(join(tmpdir(), "gatehouse-startup-bench-"));
try {
  const bare = await samples(RUNS, () => timedNode(["-e", "0"], process.env, "bare"));

  // Gateway start and RSS: the CLI's own `gateway run`, a fixed port in the state dir's config.
  const stateDir = join(dir, "gw");
  const port = await freePort();
  const gatewayToken = "bench-startup-token-" + "s".repeat(32);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, "gatehouse.json"),
    JSON.stringify({ gateway: { port, auth: { token: gatewayToken } } }),
  );
  const gatewayArgs = [CLI_MAIN, "gateway", "run", "--state-dir", stateDir];
  await serverStart(gatewayArgs, port, false); // first start: creates the owner key, pairs it
  const starts: number[] = [];
  const mem: StartMemory[] = [];
  for (let i = 0; i < Math.max(5, Math.ceil(RUNS / 2)); i++) {
    const s = await serverStart(gatewayArgs, port);
    starts.push(s.startMs);
    cpu.set("start", [...(cpu.get("start") ?? []), s.startCpuMs]);
    mem.push(s);
  }
  // The floor: what the gateway cannot avoid loading and doing, read the same ways.
  const floorDir = join(dir, "floor");
  mkdirSync(floorDir);
  // Alternating: without and with the gateway's start settings, so what they do to Node itself shows.
  const floor: StartMemory[] = [];
  const floorSet: StartMemory[] = [];
  for (let i = 0; i < FLOOR_RUNS; i++) {
    floor.push(await serverStart([FLOOR_MAIN, String(port), floorDir], port));
    floorSet.push(await serverStart([FLOOR_MAIN, String(port), floorDir, "--start-settings"], port));
  }

  // `gatehouse health` against a running gateway of the same state dir (the owner key signs).
  const gw = spawn(process.execPath, [CLI_MAIN, "gateway", "run", "--state-dir", stateDir], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const gwExited = new Promise<void>((resolve) => gw.once("exit", () => resolve()));
  let health: number[];
  let version: number[];
  try {
    await untilAccepting(port, Date.now() + 30_000);
    await timedNode([CLI_MAIN, "health", "--state-dir", stateDir]); // warm-up
    health = await samples(RUNS, () =>
      timedNode([CLI_MAIN, "health", "--state-dir", stateDir], process.env, "health"),
    );
    version = await samples(RUNS, () => timedNode([CLI_MAIN, "--version"], process.env, "version"));
  } finally {
    gw.kill("SIGTERM");
    await gwExited;
  }

  const bareMs = median(bare);
  report("health-wall", median(health) / 1000, { how: `median of ${RUNS}` });
  rows.push({
    label: "`gatehouse health` wall time",
    value: `${(median(health) / 1000).toFixed(3)} s`,
    goal: "≤ 0.15 s",
    met: median(health) <= 150,
    note:
      `bare node -e 0: ${(bareMs / 1000).toFixed(3)} s; gatehouse --version: ${(median(version) / 1000).toFixed(3)} s; ` +
      `CPU time: health ${cpuMs("health")}, --version ${cpuMs("version")}, bare node ${cpuMs("bare")}`,
  });
  report("gateway-start", median(starts) / 1000, { how: `median of ${starts.length}` });
  rows.push({
    label: "gateway start → accepting connections",
    value: `${(median(starts) / 1000).toFixed(3)} s`,
    goal: "≤ 0.25 s",
    met: median(starts) <= 250,
    note: `${starts.length} starts; its CPU time until then ${cpuMs("start")}`,
  });
  // The row is the settled figure: the memory a started gateway keeps (see bench/README.md,
  // "Which reading is the row"); the 1 s figure and the peak are printed beside it.
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const med = (xs: readonly StartMemory[], k: keyof StartMemory) => median(xs.map((m) => m[k]));
  report("gateway-rss", med(mem, "settled") / 1e6, {
    how: `settled, median of ${mem.length}; ${mb(med(mem, "rss1s"))} 1 s after accepting`,
  });
  rows.push({
    label: "gateway RSS after start (settled)",
    value: mb(med(mem, "settled")),
    goal: "≤ 55 MB",
    met: med(mem, "settled") <= 55e6,
    note:
      `${mem.length} starts; ${settleMethod()}; 1 s after accepting ${mb(med(mem, "rss1s"))}, ` +
      `peak (VmHWM) ${mb(med(mem, "peak"))}. Floor (bench/floor-process: better-sqlite3 WAL, http, ` +
      `a child, an Ed25519 key; ${floor.length} starts each): settled ${mb(med(floor, "settled"))}, ` +
      `1 s ${mb(med(floor, "rss1s"))}, peak ${mb(med(floor, "peak"))}; with the gateway's start settings ` +
      `(src/cli/lifecycle/start-settings.ts) settled ${mb(med(floorSet, "settled"))}, ` +
      `1 s ${mb(med(floorSet, "rss1s"))}, peak ${mb(med(floorSet, "peak"))}`,
  });

  // Sub-agent call-back and spawn rate: an in-process gateway with the runtime wired in.
  const store = openStore(join(dir, "app", "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(dir, "app", "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    auth: () => ({ mode: "token", token: gatewayToken }),
    runtime: { sessions: { maxRunning: 256 }, sandbox: { mode: "bwrap", secretPaths: [dir] } },
  });
  await app.start();
  try {
    // The call-back alone: the child as a sub-agent runs it, started directly with a fresh
    // runtime token in its environment, against bare node started the same way.
    let job = 0;
    const withToken = (): NodeJS.ProcessEnv => {
      const now = Date.now();
      const token = store.runtimeTokens.issue(`bench-${++job}`, ["operator.read"], now, now + 60_000, null);
      return {
        ...process.env,
        GATEHOUSE_GATEWAY_URL: app.server.localUrl(),
        GATEHOUSE_RUNTIME_TOKEN: token,
        GATEHOUSE_RUNTIME_SCOPES: "operator.read",
      };
    };
    await timedNode(CHILD_ARGS, withToken()); // warm-up
    const callBack: number[] = [];
    const bareModule: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bareModule.push(await timedNode(EMPTY_ARGS, process.env, "bare-module"));
      callBack.push(await timedNode(CHILD_ARGS, withToken(), "call-back"));
    }
    const overBare = median(callBack) - median(bareModule);
    report("callback-over-bare", overBare, { how: `median of ${RUNS}, each` });
    rows.push({
      label: "sub-agent call-back (load client, connect, health) over bare node",
      value: `${overBare.toFixed(1)} ms`,
      goal: "≤ 40 ms",
      met: overBare <= 40,
      note:
        `call-back ${median(callBack).toFixed(1)} ms, bare node ${median(bareModule).toFixed(1)} ms; ` +
        `CPU time: call-back ${cpuMs("call-back")}, bare node ${cpuMs("bare-module")}`,
    });

    // Sessions spawned (sandboxed, the default) and called back per second, against bare node
    // processes per second at the same concurrency.
    const client = await import("../src/client/index.js");
    const op = new client.GatewayClient({
      url: app.server.localUrl(),
      identity: owner,
      scopes: ["operator.admin"],
    });
    await op.connect();
    try {
      const session = async (): Promise<number> => {
        const t0 = process.hrtime.bigint();
        const s = await op.request<{ id: string }>("sessions.spawn", {
          command: process.execPath,
          args: CHILD_ARGS,
          scopes: ["operator.read"],
        });
        const ended = await app.runtime.sessions.waitEnded(s.id);
        if (!ended || ended.status !== "exited" || ended.exitCode !== 0) {
          throw new Error(`session ${s.id} ${ended?.status} ${ended?.exitCode}: ${ended?.stderrTail ?? ""}`);
        }
        return elapsedMs(t0);
      };
      const throughput = async (fn: () => Promise<number>): Promise<number> => {
        let n = 0;
        const deadline = Date.now() + THROUGHPUT_SECONDS * 1000;
        const t0 = process.hrtime.bigint();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (Date.now() < deadline) {
              await fn();
              n++;
            }
          }),
        );
        return n / (elapsedMs(t0) / 1000);
      };
      for (let i = 0; i < 3; i++) await session(); // warm-up (and the sandbox probe)
      // CPU of everything per run (the gateway, bubblewrap and the sandboxed child, whose processes
      // no /proc figure of ours sees; or bare node and its shell), by a control group: on two
      // busy cores the rate is CPU-bound, and CPU moves far less with the load than wall time.
      const account = openCpuAccount();
      const runs = { sessions: 0, bare: 0 };
      const cpu = { sessions: 0, bare: 0 };
      const counted = (kind: "sessions" | "bare", fn: () => Promise<number>) => async () => {
        const wall = await fn();
        runs[kind]++;
        return wall;
      };
      const rates: { sessions: number; bare: number }[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          let c0 = account?.usageMs() ?? 0;
          const sessionsRate = await throughput(counted("sessions", session));
          cpu.sessions += (account?.usageMs() ?? 0) - c0;
          c0 = account?.usageMs() ?? 0;
          const bareRate = await throughput(counted("bare", () => timedNode(EMPTY_ARGS)));
          cpu.bare += (account?.usageMs() ?? 0) - c0;
          rates.push({ sessions: sessionsRate, bare: bareRate });
        }
      } finally {
        account?.close();
      }
      const cpuNote = account
        ? `; CPU per run (control group): session ${(cpu.sessions / runs.sessions).toFixed(0)} ms, bare node ${(cpu.bare / runs.bare).toFixed(0)} ms = ${((cpu.bare / runs.bare / (cpu.sessions / runs.sessions)) * 100).toFixed(0)} %`
        : "";
      const ratio = median(rates.map((r) => r.sessions / r.bare));
      report("spawn-rate-vs-bare", ratio * 100, { how: "median of 3 rounds" });
      rows.push({
        label: `sessions spawned and called back per second (${CONCURRENCY} concurrent)`,
        value: `${median(rates.map((r) => r.sessions)).toFixed(1)}/s = ${(ratio * 100).toFixed(0)} % of bare node`,
        goal: "≥ 60 % of bare node",
        met: ratio >= 0.6,
        note: `bare node ${median(rates.map((r) => r.bare)).toFixed(1)}/s; 3 rounds of ${THROUGHPUT_SECONDS} s, sandboxed (bwrap)${cpuNote}`,
      });
    } finally {
      await op.close();
    }
  } finally {
    await app.stop({ graceMs: 200 });
    store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `Start-up, CLI and client (medians of ${RUNS} runs unless said; load average ${loadBefore} → ${load()})`,
);
const width = Math.max(...rows.map((r) => r.label.length));
for (const r of rows) {
  console.log(
    `  ${r.label.padEnd(width)}  ${r.value.padStart(10)}   goal ${r.goal}   ${r.met ? "met" : "NOT met"}`,
  );
  if (r.note) console.log(`  ${"".padEnd(width)}  (${r.note})`);
}
