/**
 * Handshake latency (p50, p99) and handshakes per second for a PAIRED device (signed v3 connect +
 * device token) with 10,000 devices in the store, against a gateway in its own process.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { WebSocket } from "ws";
import { generateIdentity, signPayload, type DeviceIdentity } from "../src/identity/keys.js";
import { buildSignaturePayloadV3 } from "../src/protocol/signature-payload.js";
import { approveDevice } from "../src/store/approve.js";
import { openStore } from "../src/store/db.js";
import { spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { ms, quantile } from "./stats.js";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const SEQUENTIAL = Number(process.env.BENCH_HANDSHAKES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const TOKEN = "bench-token-" + "y".repeat(32);
const SCOPES = ["operator.read"];

/** Fills the store with `count` paired devices plus the bench device; returns the bench device's token. */
function seed(stateDir: string, bench: DeviceIdentity): string {
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  try {
    const now = Date.now();
    store.transaction(() => {
      for (let i = 0; i < DEVICES; i++) {
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
      scopes: SCOPES,
      platform: process.platform,
      approvedVia: "approved",
      nowMs: now,
    });
    return store.tokens.issue(bench.deviceId, "operator", SCOPES, now);
  } finally {
    store.close();
  }
}

/** One paired-device handshake: challenge, signed connect with the device token, hello-ok. */
function handshake(url: string, identity: DeviceIdentity, deviceToken: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        event?: string;
        ok?: boolean;
        payload?: { nonce: string };
      };
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const signedAt = Date.now();
        const nonce = frame.payload!.nonce;
        const payload = buildSignaturePayloadV3({
          deviceId: identity.deviceId,
          clientId: "cli",
          clientMode: "cli",
          role: "operator",
          scopes: SCOPES,
          signedAtMs: signedAt,
          token: deviceToken,
          nonce,
          platform: process.platform,
        });
        ws.send(
          JSON.stringify({
            type: "req",
            id: "1",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
              role: "operator",
              scopes: SCOPES,
              auth: { deviceToken },
              device: {
                id: identity.deviceId,
                publicKey: identity.publicKey,
                signature: signPayload(identity, payload),
                signedAt,
                nonce,
              },
            },
          }),
        );
      } else if (frame.type === "res") {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        ws.close();
        if (frame.ok) resolve(elapsed);
        else reject(new Error(`handshake refused: ${data.toString()}`));
      }
    });
    ws.on("error", reject);
  });
}

async function main() {
  const stateDir = tempStateDir();
  const bench = generateIdentity();
  const t0 = Date.now();
  const deviceToken = seed(stateDir, bench);
  console.log(`seeded ${DEVICES} paired devices in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const gw = await spawnGateway(
    ["--port", "0", "--state-dir", stateDir, "--token", TOKEN],
    {},
    { keepLog: false },
  );
  try {
    for (let i = 0; i < 200; i++) await handshake(gw.url, bench, deviceToken);
    const samples: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) samples.push(await handshake(gw.url, bench, deviceToken));
    console.log(
      `paired-device handshake (v3 signature + device token, ${DEVICES} devices in store), sequential`,
    );
    console.log(
      `  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}   (target p50 <= 1.5 ms)`,
    );

    let done = 0;
    const deadline = Date.now() + THROUGHPUT_SECONDS * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        await handshake(gw.url, bench, deviceToken);
        done++;
      }
    };
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `paired-device handshakes per second (${CONCURRENCY} concurrent clients, ${seconds.toFixed(1)} s)`,
    );
    console.log(`  ${(done / seconds).toFixed(0)} handshakes/s (${done} total)`);
  } finally {
    await gw.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
