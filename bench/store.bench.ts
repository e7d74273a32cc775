/**
 * Pairing-store lookups on the handshake path, for a random paired device with 10,000 devices in
 * the store (a real file in WAL mode): `devices.get` + `tokens.verify` (each statement on its own),
 * and what a connect reads (`storeFactSources`: the record, token rows and pending request in one
 * read transaction, then the token check against the rows read). Prints median and p99 of each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeFactSources } from "../src/gateway/connect-facts.js";
import { RateLimiter } from "../src/gateway/rate-limit.js";
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
    const connectReads = (i: number) => {
      const k = (i * 7919) % DEVICES;
      const sources = storeFactSources({
        store,
        limiter: new RateLimiter(),
        auth: { mode: "none" },
        ownerDeviceId: "",
        autoApproveLocal: true,
        runtimeTokens: undefined,
        now: Date.now(),
      });
      const state = sources.device(ids[k]!);
      const verdict = sources.verifyDeviceToken(ids[k]!, "operator", tokens[k]!);
      if (!state.stored || verdict.kind !== "valid") throw new Error("lookup failed");
    };
    for (const [label, run] of [
      ["devices.get + tokens.verify", lookup],
      ["a connect's reads (one snapshot) + token check", connectReads],
    ] as const) {
      for (let i = 0; i < 2_000; i++) run(i); // warm-up
      const samples: number[] = [];
      for (let i = 0; i < LOOKUPS; i++) {
        const started = process.hrtime.bigint();
        run(i);
        samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      console.log(`${label}, ${DEVICES} paired devices (${LOOKUPS} lookups)`);
      console.log(`  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}`);
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
