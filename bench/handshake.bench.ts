/**
 * Handshake latency (p50, p99) and handshakes per second for a device-less token client
 * (`cli`/`cli`), measured from this process against a gateway running in its own process.
 */
import { WebSocket } from "ws";
import { rmSync } from "node:fs";
import { spawnGateway, tempStateDir } from "../test/helpers/gateway-process.js";
import { ms, quantile } from "./stats.js";

const SEQUENTIAL = Number(process.env.BENCH_HANDSHAKES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

/** One full handshake: open, challenge, connect, hello-ok, close. Returns its duration in ms. */
function handshake(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: string; ok?: boolean };
      if (frame.type === "event" && frame.event === "connect.challenge") {
        ws.send(
          JSON.stringify({
            type: "req",
            id: "1",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
              scopes: ["operator.read"],
              auth: { token },
            },
          }),
        );
      } else if (frame.type === "res") {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        ws.close();
        if (frame.ok) resolve(elapsed);
        else reject(new Error("handshake refused"));
      }
    });
    ws.on("error", reject);
  });
}

const TOKEN = "bench-token-" + "x".repeat(32);

async function main() {
  const stateDir = tempStateDir();
  const gw = {
    ...(await spawnGateway(
      ["--port", "0", "--state-dir", stateDir, "--token", TOKEN],
      {},
      { keepLog: false },
    )),
    token: TOKEN,
  };
  try {
    for (let i = 0; i < 200; i++) await handshake(gw.url, gw.token); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) samples.push(await handshake(gw.url, gw.token));
    console.log(`device-less token handshake, sequential (${SEQUENTIAL} handshakes)`);
    console.log(
      `  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}   max ${ms(Math.max(...samples))}`,
    );

    let done = 0;
    const deadline = Date.now() + THROUGHPUT_SECONDS * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        await handshake(gw.url, gw.token);
        done++;
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `device-less token handshakes per second (${CONCURRENCY} concurrent clients, ${seconds.toFixed(1)} s)`,
    );
    console.log(`  ${(done / seconds).toFixed(0)} handshakes/s (${done} total)`);
  } finally {
    await gw.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
