/**
 * Under load: how many concurrent authenticated connections the gateway holds, its RSS per
 * connection, and handshakes per second while 10,000 connections stay open (gateway in its own
 * process, loopback only).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { holdMany, rssOf } from "../test/helpers/load.js";
import { report } from "./report.js";
import { benchHandshake, benchSizes, gatewayEnv, measureHandshakes } from "./handshake-client.js";

const HELD = Number(process.env.BENCH_HELD ?? 10_000);
const TOKEN = "bench-load-token-" + "z".repeat(32);

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
  const before = rssOf(pid);
  const held = await holdMany(gw.url, TOKEN, HELD, 128);
  const after = rssOf(pid);
  console.log(
    `concurrent authenticated connections held: ${held.open.length} of ${HELD} (${held.refusals.length} refused)`,
  );
  console.log(`  opened at ${held.handshakesPerSecond.toFixed(0)} handshakes/s`);
  const perConnKiB = (after - before) / held.open.length / 1024;
  console.log(
    `gateway RSS ${(before / 2 ** 20).toFixed(1)} MiB -> ${(after / 2 ** 20).toFixed(1)} MiB: ${perConnKiB.toFixed(1)} KiB per connection`,
  );
  if (held.open.length >= 10_000) report("held-conn-memory", perConnKiB, { how: "RSS growth / connections" });
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
