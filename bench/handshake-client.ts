/** A minimal timed handshake and the sequential/concurrent measurement both handshake benches share. */
import { WebSocket } from "ws";
import { ms, quantile } from "./stats.js";

/** One full handshake (open, challenge, connect, hello-ok, close); resolves with its duration in ms. */
export function timedHandshake(url: string, connectParams: (nonce: string) => unknown): Promise<number> {
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
        ws.send(
          JSON.stringify({
            type: "req",
            id: "1",
            method: "connect",
            params: connectParams(frame.payload!.nonce),
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

export interface MeasureOptions {
  label: string;
  warmup: number;
  sequential: number;
  concurrency: number;
  seconds: number;
}

/** Prints p50/p99 of sequential runs, then throughput with `concurrency` clients for `seconds`. */
export async function measureHandshakes(run: () => Promise<number>, o: MeasureOptions): Promise<void> {
  for (let i = 0; i < o.warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < o.sequential; i++) samples.push(await run());
  console.log(`${o.label}, sequential (${o.sequential} handshakes)`);
  console.log(
    `  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}   max ${ms(Math.max(...samples))}`,
  );
  let done = 0;
  const deadline = Date.now() + o.seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      await run();
      done++;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${o.label}, ${o.concurrency} concurrent clients for ${seconds.toFixed(1)} s`);
  console.log(`  ${(done / seconds).toFixed(0)} handshakes/s (${done} total)`);
}

/** Bench sizes, overridable from the environment for quick runs. */
export function benchSizes() {
  return {
    warmup: 200,
    sequential: Number(process.env.BENCH_HANDSHAKES ?? 2000),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    seconds: Number(process.env.BENCH_SECONDS ?? 3),
  };
}
