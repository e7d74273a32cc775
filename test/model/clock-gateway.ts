/**
 * The gateway the model tests run: the very assembly `gatehouse gateway run` starts
 * (startConfiguredGateway, JSON log on stdout), with a clock the test can move forward so that
 * pending requests and setup codes expire without waiting for them.
 *
 * Why a test entry point and not a flag: whatever moves the clock must not exist in a deployed
 * gateway, or it would stretch or shrink every expiry there. This file is compiled into
 * dist/test, which the package does not ship (package.json "files": dist/src), and it takes the
 * clock's moves as lines on its own stdin, which only the process that spawned it holds: no flag,
 * variable, config key or RPC of `gateway run` reaches the clock.
 *
 *   node dist/test/model/clock-gateway.js <stateDir> <offsetMs>
 *   stdin:  "advance <ms>"  →  stdout: {"event":"clock advanced","offsetMs":<total>}
 *   stdin closed (the test is gone)  →  the gateway stops
 */
import { createInterface } from "node:readline";
import { createLogger } from "../../src/gateway/log.js";
import { startConfiguredGateway } from "../../src/runtime/gateway-from-config.js";

const [stateDir, offsetArg] = process.argv.slice(2);
if (!stateDir) throw new Error("usage: clock-gateway <stateDir> [offsetMs]");
// Carried over a restart by the test, so the gateway's time never runs backwards.
let offsetMs = Number(offsetArg ?? 0);
const logger = createLogger("json");

const gateway = await startConfiguredGateway({
  stateDir,
  overrides: { port: "0" },
  logger,
  now: () => Date.now() + offsetMs,
});

function stop(reason: string): void {
  void gateway.close({ reason }).then(() => process.exit(0));
}

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const m = /^advance (\d+)$/.exec(line.trim());
    if (!m) return;
    offsetMs += Number(m[1]);
    logger.log("info", "clock advanced", { offsetMs });
  })
  // The test holds the other end: when it is gone (killed by the runner's timeout, say), so is
  // this gateway, with its sessions, instead of running on with no one to stop it.
  .on("close", () => {
    stop("gateway stopping (the test's end of stdin closed)");
    setTimeout(() => process.exit(1), 10_000).unref();
  });

for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.once(signal, () => stop(`gateway stopping (${signal})`));
