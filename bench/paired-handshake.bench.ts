/**
 * Handshake latency (p50, p99) and handshakes per second for a PAIRED device (signed v3 connect +
 * device token) with 10,000 devices in the store, against a gateway in its own process.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity } from "../src/identity/keys.js";
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
}

await main();
