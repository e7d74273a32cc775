/**
 * Sessions spawned and connected back per second: each session is a `node` child the gateway
 * starts with a runtime token, which connects back with `connectFromEnv()`, calls `health` and
 * exits. Measured against an in-process gateway with the runtime wired in — once with children in
 * the bubblewrap sandbox (the default) and once with `gateway.sandbox.mode: "none"` — next to the
 * cost of starting the same `node` process bare (the floor set by the OS and Node's start-up).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayClient } from "../src/client/index.js";
import { loadOrCreateIdentity } from "../src/identity/file-store.js";
import type { SessionView } from "../src/methods/sessions.js";
import { createGatewayApp } from "../src/runtime/gateway-app.js";
import type { SandboxMode } from "../src/runtime/sandbox.js";
import { ensureOwner, openStore } from "../src/store/index.js";
import { CHILD_ARGS, EMPTY_ARGS } from "./callback-child.js";
import { openCpuAccount } from "./cpu-cgroup.js";
import { ms, quantile } from "./stats.js";

const SEQUENTIAL = Number(process.env.BENCH_SESSIONS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_SESSIONS_CONCURRENCY ?? 8);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** Every process's CPU, sandboxed children included (null without a control group to use). */
const account = openCpuAccount();

/** One bare `node` process running nothing: start-up and exit only. */
function bareNode(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, EMPTY_ARGS, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`exit ${code}`)),
    );
  });
}

/** What one gateway measured. */
interface Figures {
  p50: number;
  p99: number;
  emptyP50: number;
  perSecond: number;
}

async function measure(mode: SandboxMode): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-sessions-bench-"));
  const store = openStore(join(dir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(dir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    auth: () => ({ mode: "token", token: "bench-token-" + "x".repeat(32) }),
    runtime: { sessions: { maxRunning: 256 }, sandbox: { mode, secretPaths: [dir] } },
  });
  await app.start();
  const { server, runtime } = app;
  const client = new GatewayClient({ url: server.localUrl(), identity: owner, scopes: ["operator.admin"] });
  await client.connect();

  /** Spawn over RPC, wait for the child to exit; returns the duration, or throws if it failed. */
  const session = async (args: readonly string[] = CHILD_ARGS): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const s = await client.request<SessionView>("sessions.spawn", {
      command: process.execPath,
      args,
      scopes: ["operator.read"],
    });
    const ended = await runtime.sessions.waitEnded(s.id);
    if (!ended || ended.status !== "exited" || ended.exitCode !== 0) {
      throw new Error(`session ${s.id} ${ended?.status} ${ended?.exitCode}: ${ended?.stderrTail ?? ""}`);
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };

  const throughput = async (fn: () => Promise<number>): Promise<{ perSecond: number; n: number }> => {
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
    return { perSecond: n / (Number(process.hrtime.bigint() - t0) / 1e9), n };
  };

  try {
    for (let i = 0; i < 3; i++) await session(); // warm-up (and, sandboxed, the probe)
    const bare: number[] = [];
    const empty: number[] = [];
    const full: number[] = [];
    // This process's CPU during each sequential session: the gateway's share of it (exact, unlike
    // the children's, which a PID namespace keeps out of this process's accounting).
    const emptyCpu: number[] = [];
    const fullCpu: number[] = [];
    // Everything's CPU during each sequential run, by the control group: the gateway, bubblewrap and
    // the child, or bare node. On a loaded machine this moves far less than wall time.
    const allCpu = { bare: [] as number[], empty: [] as number[], full: [] as number[] };
    const withCpu = async (cpu: number[], all: number[], run: () => Promise<number>): Promise<number> => {
      const before = process.cpuUsage();
      const allBefore = account?.usageMs() ?? 0;
      const wall = await run();
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      if (account) all.push(account.usageMs() - allBefore);
      return wall;
    };
    for (let i = 0; i < SEQUENTIAL; i++) {
      bare.push(await withCpu([], allCpu.bare, bareNode));
      empty.push(await withCpu(emptyCpu, allCpu.empty, () => session(EMPTY_ARGS)));
      full.push(await withCpu(fullCpu, allCpu.full, () => session()));
    }
    const label = mode === "bwrap" ? "sandboxed (bwrap)" : 'unsandboxed (gateway.sandbox.mode "none")';
    console.log(
      `${label}: session spawn → connect back → health → exit, sequential (${SEQUENTIAL} sessions)`,
    );
    console.log(`  p50 ${ms(quantile(full, 0.5))}   p99 ${ms(quantile(full, 0.99))}`);
    console.log(`  bare node start+exit p50 ${ms(quantile(bare, 0.5))}   p99 ${ms(quantile(bare, 0.99))}`);
    console.log(
      `  session whose child does nothing p50 ${ms(quantile(empty, 0.5))}   p99 ${ms(quantile(empty, 0.99))}`,
    );
    console.log(
      `  gateway's own cost per session (p50, empty session − bare node): ${ms(quantile(empty, 0.5) - quantile(bare, 0.5))} (RPC, mint, env, ${mode === "bwrap" ? "sandbox, " : ""}spawn, record, revoke)`,
    );
    console.log(
      `  the child's call-back (p50, full − empty session): ${ms(quantile(full, 0.5) - quantile(empty, 0.5))} (loading the client library, connect, health)`,
    );
    console.log(
      `  the gateway's CPU per session (p50; this process, the bench's operator client included): ${ms(quantile(emptyCpu, 0.5))} when the child does nothing, ${ms(quantile(fullCpu, 0.5))} when it calls back`,
    );

    if (account) {
      const p50 = (xs: number[]) => quantile(xs, 0.5);
      console.log(
        `  CPU of everything per run (p50; control group: the gateway, ${mode === "bwrap" ? "bubblewrap, " : ""}the child): ${ms(p50(allCpu.full))} a session that calls back, ${ms(p50(allCpu.empty))} one whose child does nothing, ${ms(p50(allCpu.bare))} bare node`,
      );
      console.log(
        `  bare node's CPU / a calling-back session's CPU: ${(p50(allCpu.bare) / p50(allCpu.full)).toFixed(2)} (the spawn rate's ratio on a machine whose cores are the limit)`,
      );
    }
    const sessions = await throughput(() => session());
    const nodes = await throughput(bareNode);
    console.log(
      `  sessions spawned and connected back per second (${CONCURRENCY} concurrent, ${THROUGHPUT_SECONDS} s): ${sessions.perSecond.toFixed(1)} (${sessions.n} sessions)`,
    );
    console.log(
      `  bare node processes per second, same concurrency: ${nodes.perSecond.toFixed(1)}   ratio sessions/bare: ${(sessions.perSecond / nodes.perSecond).toFixed(2)}`,
    );
    return {
      p50: quantile(full, 0.5),
      p99: quantile(full, 0.99),
      emptyP50: quantile(empty, 0.5),
      perSecond: sessions.perSecond,
    };
  } finally {
    await client.close();
    await app.stop({ graceMs: 200 });
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let sandboxed: Figures;
let unsandboxed: Figures;
try {
  sandboxed = await measure("bwrap");
  unsandboxed = await measure("none");
} finally {
  account?.close();
}
console.log("sandbox cost (bwrap vs none)");
console.log(
  `  sessions spawned and called back per second: ${sandboxed.perSecond.toFixed(1)} sandboxed, ${unsandboxed.perSecond.toFixed(1)} unsandboxed (ratio ${(sandboxed.perSecond / unsandboxed.perSecond).toFixed(2)})`,
);
console.log(
  `  per session p50: ${ms(sandboxed.p50)} vs ${ms(unsandboxed.p50)} (+${ms(sandboxed.p50 - unsandboxed.p50)}); empty session p50 +${ms(sandboxed.emptyP50 - unsandboxed.emptyP50)}`,
);
