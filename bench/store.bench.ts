/**
 * Pairing-store lookups on the handshake path: `devices.get` + `tokens.verify` for a random paired
 * device, with 10,000 devices in the store (a real file in WAL mode). Prints median and p99.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../src/identity/keys.js";
import { openStore } from "../src/store/index.js";
import { ms, quantile } from "./stats.js";

const DEVICES = Number(process.env.BENCH_STORE_DEVICES ?? 10_000);
const LOOKUPS = Number(process.env.BENCH_STORE_LOOKUPS ?? 20_000);

function main() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-store-bench-"));
  const store = openStore(join(dir, "state", "gatehouse.sqlite"));
  try {
    const ids: string[] = [];
    const tokens: string[] = [];
    store.transaction(() => {
      for (let i = 0; i < DEVICES; i++) {
        const { deviceId, publicKey } = generateIdentity();
        store.devices.upsert({
          deviceId,
          publicKey,
          displayName: `device ${i}`,
          label: null,
          clientId: "cli",
          clientMode: "cli",
          platform: "linux",
          deviceFamily: null,
          roles: ["operator"],
          scopes: ["operator.read", "operator.write"],
          approvedVia: "approved",
          createdAtMs: i,
          approvedAtMs: i,
          lastSeenAtMs: null,
          lastSeenIp: null,
        });
        ids.push(deviceId);
        tokens.push(store.tokens.issue(deviceId, "operator", ["operator.read", "operator.write"], i));
      }
    });

    const lookup = (i: number) => {
      const k = (i * 7919) % DEVICES;
      const record = store.devices.get(ids[k]!);
      const verdict = store.tokens.verify(ids[k]!, "operator", tokens[k]!);
      if (!record || verdict.kind !== "valid") throw new Error("lookup failed");
    };
    for (let i = 0; i < 2_000; i++) lookup(i); // warm-up

    const samples: number[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const started = process.hrtime.bigint();
      lookup(i);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    console.log(`devices.get + tokens.verify, ${DEVICES} paired devices (${LOOKUPS} lookups)`);
    console.log(`  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
