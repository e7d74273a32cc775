/**
 * Handshake latency (p50, p99) and handshakes per second for a PAIRED device (signed v3 connect +
 * device token) with 10,000 devices in the store, against a gateway in its own process; then the
 * same against the floor (bench/handshake-floor.ts: the exchange and the verify, nothing else), so
 * the run says how much of the machine's own limit the gateway reaches.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateIdentity, type DeviceIdentity } from "../src/identity/keys.js";
import { spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { BENCH_SCOPES, seedPairedStore } from "./paired-store.js";
import { report } from "./report.js";
import {
  benchHandshake,
  benchSizes,
  gatewayEnv,
  measureHandshakes,
  pairedConnectParams,
} from "./handshake-client.js";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const TOKEN = "bench-token-" + "y".repeat(32);

async function main() {
  const stateDir = tempStateDir();
  const bench = generateIdentity();
  const t0 = Date.now();
  const deviceToken = seedPairedStore(join(stateDir, "state", "gatehouse.sqlite"), bench, DEVICES);
  console.log(`seeded ${DEVICES} paired devices in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const gw = await spawnGateway(["--port", "0", "--state-dir", stateDir, "--token", TOKEN], gatewayEnv(), {
    keepLog: false,
  });
  try {
    const sizes = benchSizes();
    const figures = await measureHandshakes(
      () => benchHandshake(gw.url, (nonce) => pairedConnectParams(bench, deviceToken, nonce, BENCH_SCOPES)),
      {
        label: `paired-device handshake (v3 signature + device token, ${DEVICES} devices in store)`,
        ...sizes,
        gatewayPid: gw.child.pid,
      },
    );
    report("paired-p50", figures.p50, { how: `p50 of ${sizes.sequential}` });
    report("paired-rate", figures.perSecond, { how: `median of ${figures.runs} runs of ${sizes.seconds} s` });
  } finally {
    await gw.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  await measureFloor(bench, deviceToken);
}

/** The same measurement against the floor, in its own process as the gateway is. */
async function measureFloor(bench: DeviceIdentity, deviceToken: string): Promise<void> {
  const floor = await spawnFloor();
  try {
    const sizes = benchSizes();
    const figures = await measureHandshakes(
      () =>
        benchHandshake(floor.url, (nonce) => pairedConnectParams(bench, deviceToken, nonce, BENCH_SCOPES)),
      {
        label: "the floor (bench/handshake-floor.ts: exchange and verify only)",
        ...sizes,
        gatewayPid: floor.child.pid,
      },
    );
    report("paired-p50", figures.p50, { peer: "floor", how: `p50 of ${sizes.sequential}` });
    report("paired-rate", figures.perSecond, {
      peer: "floor",
      how: `median of ${figures.runs} runs of ${sizes.seconds} s`,
    });
  } finally {
    floor.child.kill();
  }
}

/** Starts bench/handshake-floor.js; resolves once it printed its URL. */
function spawnFloor(): Promise<{ child: ChildProcess; url: string }> {
  const file = fileURLToPath(new URL("./handshake-floor.js", import.meta.url));
  const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the floor exited (${code}) before listening`)));
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve({ child, url: out.trim() });
    });
  });
}

await main();
