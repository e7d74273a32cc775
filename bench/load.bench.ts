/**
 * Under load: how many concurrent authenticated connections the gateway holds, its RSS per
 * connection (right after the burst of handshakes, and settled: the row), and handshakes per
 * second while 10,000 connections stay open (gateway in its own process, loopback only).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawData, WebSocket } from "ws";
import { freePort, spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { holdMany } from "../test/helpers/load.js";
import { report } from "./report.js";
import { peakRssBytes, rssBytes, settledRss, settleMethod } from "./rss.js";
import { benchHandshake, benchSizes, gatewayEnv, measureHandshakes } from "./handshake-client.js";

const HELD = Number(process.env.BENCH_HELD ?? 10_000);
const TOKEN = "bench-load-token-" + "z".repeat(32);

/** After the ticks: a scavenge's shrink shows at once, so a short quiet window suffices. */
const AFTER_TICKS = { quietMs: 2000, capMs: 10_000 };

/** Resolves with the number of `tick` events `ws` heard: `n`, or fewer once `capMs` has passed. */
function untilTicks(ws: WebSocket, n: number, capMs: number): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      ws.off("message", onMessage);
      resolve(seen);
    };
    const onMessage = (data: RawData) => {
      const frame = JSON.parse(data.toString()) as { type?: string; event?: string };
      if (frame.type === "event" && frame.event === "tick" && ++seen >= n) done();
    };
    const timer = setTimeout(done, capMs);
    ws.on("message", onMessage);
  });
}

const stateDir = tempStateDir();
const port = await freePort();
writeFileSync(
  join(stateDir, "gatehouse.json"),
  JSON.stringify({
    gateway: {
      port,
      auth: { token: TOKEN },
      limits: { maxConnections: HELD + 2000, maxConnectionsPerIp: HELD + 2000 },
    },
  }),
);
const gw = await spawnGateway(["--state-dir", stateDir], gatewayEnv(), { keepLog: false });
try {
  const params = () => ({
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
    scopes: ["operator.read"],
    auth: { token: TOKEN },
  });
  const pid = gw.child.pid!;
  // Warm first: what the first connects load (modules, compiled code) is not a per-connection cost.
  for (let i = 0; i < 200; i++) await benchHandshake(gw.url, params);
  await new Promise((r) => setTimeout(r, 500));
  const before = rssBytes(pid);
  // The held connections' memory as the user's gateway keeps it: the growth between two settled
  // readings. Right after the burst V8's young generation is still sized to 10,000 handshakes and
  // the old space holds their garbage; the memory reducer gives that back within seconds.
  const settledBefore = await settledRss(pid);
  const held = await holdMany(gw.url, TOKEN, HELD, 128);
  const after = rssBytes(pid);
  const peak = peakRssBytes(pid);
  // While it only holds connections the gateway's one periodic work is its tick to each of them
  // (every 30 s). V8 shrinks the young generation the burst grew at a scavenge once the burst's
  // allocation rate has aged out of its estimate; in the runs watched (bench/README.md) that was
  // the scavenge after the first or second tick following the burst, never later. So: wait for two
  // ticks on a held connection (the same the gateway sends to all), then until RSS stops falling.
  const ticks = await untilTicks(held.open[0]!, 2, 75_000);
  const settledAfter = await settledRss(pid, AFTER_TICKS);
  console.log(
    `concurrent authenticated connections held: ${held.open.length} of ${HELD} (${held.refusals.length} refused)`,
  );
  console.log(`  opened at ${held.handshakesPerSecond.toFixed(0)} handshakes/s`);
  const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const perConn = (from: number, to: number) => (to - from) / held.open.length / 1024;
  const burstKiB = perConn(before, after);
  const settledKiB = perConn(settledBefore.rss, settledAfter.rss);
  console.log(
    `gateway RSS right after the burst: ${MiB(before)} (0.5 s after warm-up) -> ${MiB(after)}: ` +
      `${burstKiB.toFixed(1)} KiB per connection; peak (VmHWM) ${MiB(peak)}`,
  );
  const waited = (s: { waitedMs: number; capped: boolean }) =>
    `${(s.waitedMs / 1000).toFixed(1)} s${s.capped ? ", capped" : ""}`;
  console.log(
    `gateway RSS settled: ${MiB(settledBefore.rss)} (${waited(settledBefore)}) -> ${MiB(settledAfter.rss)} ` +
      `(${ticks} ticks + ${waited(settledAfter)}): ${settledKiB.toFixed(1)} KiB per connection ` +
      `(before: ${settleMethod()}; after: two ticks of the gateway, then ${settleMethod(AFTER_TICKS)})`,
  );
  if (held.open.length >= 10_000) {
    report("held-conn-memory", settledKiB, {
      how: `settled RSS growth / connections; ${burstKiB.toFixed(1)} KiB right after the burst`,
    });
  }
  await measureHandshakes(() => benchHandshake(gw.url, params), {
    label: `device-less token handshake with ${held.open.length} connections held open`,
    ...benchSizes(),
    gatewayPid: gw.child.pid,
  });
  for (const ws of held.open) ws.terminate();
} finally {
  await gw.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
