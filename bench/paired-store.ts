/**
 * The store both paired-device benches connect against: `devices` paired devices plus the bench's
 * own device, approved for BENCH_SCOPES.
 */
import type { DeviceIdentity } from "../src/identity/keys.js";
import { generateIdentity } from "../src/identity/keys.js";
import { approveDevice } from "../src/store/approve.js";
import { openStore } from "../src/store/db.js";

/** The scopes the bench device holds and asks for. */
export const BENCH_SCOPES = ["operator.read"];

/** Fills the store at `path` with `devices` paired devices plus `bench`; returns `bench`'s device token. */
export function seedPairedStore(path: string, bench: DeviceIdentity, devices: number): string {
  const store = openStore(path);
  try {
    const now = Date.now();
    store.transaction(() => {
      for (let i = 0; i < devices; i++) {
        const d = generateIdentity(now);
        approveDevice(store, {
          deviceId: d.deviceId,
          publicKey: d.publicKey,
          roles: ["operator"],
          scopes: ["operator.read", "operator.write"],
          approvedVia: "approved",
          nowMs: now,
        });
      }
    });
    approveDevice(store, {
      deviceId: bench.deviceId,
      publicKey: bench.publicKey,
      roles: ["operator"],
      scopes: BENCH_SCOPES,
      platform: process.platform,
      approvedVia: "approved",
      nowMs: now,
    });
    return store.tokens.issue(bench.deviceId, "operator", BENCH_SCOPES, now);
  } finally {
    store.close();
  }
}
