/**
 * Handshake latency (p50, p99) and handshakes per second for a device-less token client
 * (`cli`/`cli`), measured from this process against a gateway running in its own process.
 */
import { rmSync } from "node:fs";
import { spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { report } from "./report.js";
import { benchHandshake, benchSizes, gatewayEnv, measureHandshakes } from "./handshake-client.js";

const TOKEN = "bench-token-" + "x".repeat(32);

const stateDir = tempStateDir();
const gw = await spawnGateway(["--port", "0", "--state-dir", stateDir, "--token", TOKEN], gatewayEnv(), {
  keepLog: false,
});
try {
  const params = () => ({
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
    scopes: ["operator.read"],
    auth: { token: TOKEN },
  });
  const sizes = benchSizes();
  const figures = await measureHandshakes(() => benchHandshake(gw.url, params), {
    label: "device-less token handshake",
    ...sizes,
    gatewayPid: gw.child.pid,
  });
  report("deviceless-p50", figures.p50, { how: `p50 of ${sizes.sequential}` });
} finally {
  await gw.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
