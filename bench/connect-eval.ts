/**
 * The gateway's own share of a paired-device connect, in one process and without sockets: the
 * connect frame parsed and checked, then `evaluateConnect` (device proof, the store's rows, the
 * policy's decision, applying it with its batched audit row) for a paired device presenting its
 * device token, with 10,000 devices in the store. Prints CPU time per connect for `BENCH_PASSES`
 * (5) passes of `BENCH_CONNECTS` (6,000) connects and their median.
 *
 * The handshake benches measure two processes sharing two cores with the kernel's TCP work and
 * `ws` between them, which a shared machine's load moves by more than a change of a few µs; this
 * one measures only code of ours (and the Ed25519 verify, about half of it) and is what to compare
 * two builds with: `node dist/bench/connect-eval.js`, alternating builds. Not part of `npm run bench`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateConnect } from "../src/gateway/handshake.js";
import { PairingService } from "../src/gateway/pairing.js";
import { generateIdentity } from "../src/identity/keys.js";
import { resolveLocality } from "../src/policy/locality.js";
import { validateRequestFrame } from "../src/protocol/validate.js";
import { openStore, type Store } from "../src/store/db.js";
import { pairedConnectParams } from "./handshake-client.js";
import { BENCH_SCOPES, seedPairedStore } from "./paired-store.js";
import { median } from "./report.js";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 6_000);
const PASSES = Number(process.env.BENCH_PASSES ?? 5);
const TOKEN = "bench-token-" + "y".repeat(32);

function main() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-connect-eval-"));
  const path = join(dir, "state", "gatehouse.sqlite");
  const bench = generateIdentity();
  const deviceToken = seedPairedStore(path, bench, DEVICES);
  // Opened again as the gateway opens it: a fresh connection on a checkpointed file.
  const store: Store = openStore(path);
  try {
    const pairing = new PairingService(
      store,
      "owner",
      { ttlMs: 600_000, total: 256, perIp: 16 },
      { broadcast() {} },
    );
    const locality = resolveLocality(
      {
        peerAddress: "127.0.0.1",
        host: "127.0.0.1:18789",
        origin: null,
        forwardedFor: null,
        hasProxyHeaders: false,
      },
      [],
    );
    const auth = { mode: "token" as const, token: TOKEN };
    // Signed beforehand (the client's work), each over its own challenge nonce.
    const frames = Array.from({ length: CONNECTS }, (_, i) => {
      const nonce = `bench-nonce-${i}-${Math.random()}`;
      const params = pairedConnectParams(bench, deviceToken, nonce, BENCH_SCOPES);
      return { nonce, text: JSON.stringify({ type: "req", id: "1", method: "connect", params }) };
    });
    const connect = (f: { nonce: string; text: string }) => {
      const frame = validateRequestFrame(JSON.parse(f.text));
      if (!frame.ok) throw new Error("bad frame");
      const out = evaluateConnect(
        { params: frame.value.params, nonce: f.nonce, locality, auth, nowMs: Date.now(), proxy: null },
        { pairing, autoApproveLocal: true },
      );
      if (!out.ok) throw new Error(`refused: ${out.error.code}`);
    };
    for (let i = 0; i < Math.min(2_000, CONNECTS); i++) connect(frames[i]!); // warm-up
    const perConnect: number[] = [];
    for (let p = 0; p < PASSES; p++) {
      const cpu0 = process.cpuUsage();
      for (const f of frames) connect(f);
      const cpu = process.cpuUsage(cpu0);
      perConnect.push((cpu.user + cpu.system) / CONNECTS);
    }
    pairing.flushAudit();
    console.log(
      `connect evaluation, paired device (v3 signature + device token, ${DEVICES} devices in store), in process`,
    );
    console.log(
      `  CPU per connect: ${perConnect.map((us) => us.toFixed(1)).join(", ")} µs (median ${median(perConnect).toFixed(1)} µs of ${PASSES} passes of ${CONNECTS})`,
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
