/** A minimal timed handshake and the sequential/concurrent measurement both handshake benches share. */
import { WebSocket } from "ws";
import { signPayload, type DeviceIdentity } from "../src/identity/keys.js";
import { buildSignaturePayloadV3 } from "../src/protocol/signature-payload.js";
import { readFileSync } from "node:fs";
import { ownTimedHandshake } from "./own-client.js";
import { median } from "./report.js";
import { ms, quantile } from "./stats.js";

/**
 * Which client the benches measure with: `gatehouse` (gatehouse/client's own transport,
 * bench/own-client.ts; the default) or `ws` (`ws`'s client).
 */
export const BENCH_CLIENT: "gatehouse" | "ws" = process.env.BENCH_CLIENT === "ws" ? "ws" : "gatehouse";

/** One timed handshake with the client `BENCH_CLIENT` names. */
export function benchHandshake(url: string, connectParams: (nonce: string) => unknown): Promise<number> {
  return BENCH_CLIENT === "ws" ? timedHandshake(url, connectParams) : ownTimedHandshake(url, connectParams);
}

/**
 * One full handshake with `ws`'s client (open, challenge, connect, hello-ok, close); resolves
 * with its duration in ms.
 */
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
  /** Throughput runs; the median is reported. */
  runs: number;
  /** The gateway's pid: its CPU time per sequential handshake is printed (a figure load barely moves). */
  gatewayPid?: number;
}

/** What {@link measureHandshakes} found. */
export interface HandshakeFigures {
  /** Gateway CPU (user + system) per sequential handshake, ms; NaN without `gatewayPid`. */
  cpuPerHandshake: number;
  p50: number;
  p99: number;
  /** Median handshakes/s over the throughput runs. */
  perSecond: number;
  runs: number;
}

/**
 * Prints p50/p99 of sequential runs, then throughput with `concurrency` clients for `seconds`,
 * `runs` times; returns the p50 and the median throughput.
 */
export async function measureHandshakes(
  run: () => Promise<number>,
  o: MeasureOptions,
): Promise<HandshakeFigures> {
  for (let i = 0; i < o.warmup; i++) await run();
  const samples: number[] = [];
  const cpu0 = o.gatewayPid === undefined ? NaN : cpuMsOf(o.gatewayPid);
  const own0 = process.cpuUsage();
  for (let i = 0; i < o.sequential; i++) samples.push(await run());
  const cpuPer = o.gatewayPid === undefined ? NaN : (cpuMsOf(o.gatewayPid) - cpu0) / o.sequential;
  const own = process.cpuUsage(own0);
  const clientPer = (own.user + own.system) / 1000 / o.sequential;
  console.log(
    `${o.label}, sequential (${o.sequential} handshakes after ${o.warmup} to warm up; ${BENCH_CLIENT} client)`,
  );
  console.log(
    `  p50 ${ms(quantile(samples, 0.5))}   p99 ${ms(quantile(samples, 0.99))}   max ${ms(Math.max(...samples))}` +
      (Number.isNaN(cpuPer) ? "" : `   gateway CPU ${ms(cpuPer)} per handshake`) +
      `   client CPU ${ms(clientPer)} per handshake`,
  );
  const rates: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    let done = 0;
    const deadline = Date.now() + o.seconds * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        await run();
        done++;
      }
    };
    const t0 = process.hrtime.bigint();
    const gw0 = o.gatewayPid === undefined ? NaN : cpuMsOf(o.gatewayPid);
    const loop0 = o.gatewayPid === undefined ? NaN : cpuMsOf(o.gatewayPid, o.gatewayPid);
    const me0 = process.cpuUsage();
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const gwMs = o.gatewayPid === undefined ? NaN : cpuMsOf(o.gatewayPid) - gw0;
    const loopMs = o.gatewayPid === undefined ? NaN : cpuMsOf(o.gatewayPid, o.gatewayPid) - loop0;
    const me = process.cpuUsage(me0);
    const meMs = (me.user + me.system) / 1000;
    rates.push(done / seconds);
    console.log(`${o.label}, ${o.concurrency} concurrent clients for ${seconds.toFixed(1)} s`);
    // Both processes' share of the two cores says which of them, or the machine, bounds the rate.
    console.log(
      `  ${(done / seconds).toFixed(0)} handshakes/s (${done} total)` +
        (Number.isNaN(gwMs)
          ? ""
          : `   gateway CPU ${ms(gwMs / done)} per handshake (${(gwMs / 10 / seconds) | 0} % of a core;` +
            ` main thread ${ms(loopMs / done)}, ${(loopMs / 10 / seconds) | 0} %)`) +
        `   client CPU ${ms(meMs / done)} per handshake (${(meMs / 10 / seconds) | 0} % of a core)`,
    );
  }
  return {
    cpuPerHandshake: cpuPer,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    perSecond: median(rates),
    runs: o.runs,
  };
}

/**
 * Bench sizes, overridable from the environment for quick runs. The warm-up is long enough for
 * V8 to have optimised the gateway's and the client's handshake code (a few hundred handshakes
 * left it still compiling), so every handshake bench measures warm code, as load.bench's 10,000
 * held connections always did.
 */
export function benchSizes() {
  return {
    warmup: Number(process.env.BENCH_WARMUP ?? 2000),
    sequential: Number(process.env.BENCH_HANDSHAKES ?? 2000),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    seconds: Number(process.env.BENCH_SECONDS ?? 3),
    runs: Number(process.env.BENCH_RUNS ?? 3),
  };
}

/**
 * The gateway process's environment: BENCH_GATEWAY_NODE_OPTIONS (e.g. `--import <preload>`, a
 * file that starts `node:inspector`'s profiler and writes the profile at exit) profiles the
 * gateway without profiling the bench itself. Node 20 refuses `--cpu-prof` in NODE_OPTIONS.
 */
export function gatewayEnv(): NodeJS.ProcessEnv {
  const extra = process.env.BENCH_GATEWAY_NODE_OPTIONS;
  return extra ? { NODE_OPTIONS: extra } : {};
}

/**
 * User + system CPU time of a process so far, in ms (Linux /proc; clock ticks of 10 ms); of one
 * of its threads with `tid` (the main thread's is the pid: the event loop; the rest is libuv's
 * pool, V8's compiler and GC helpers).
 */
export function cpuMsOf(pid: number, tid?: number): number {
  const stat = readFileSync(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
    "utf8",
  );
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Connect params of a paired device (`cli`/`cli`): a fresh v3 signature over this connection's nonce. */
export function pairedConnectParams(
  identity: DeviceIdentity,
  deviceToken: string,
  nonce: string,
  scopes: readonly string[],
) {
  return signedConnectParams(identity, { deviceToken }, nonce, scopes);
}

/**
 * Connect params of a device (`cli`/`cli`) presenting a device token or the shared secret, with a
 * v3 signature over this connection's nonce and that credential.
 */
export function signedConnectParams(
  identity: DeviceIdentity,
  auth: { deviceToken: string } | { token: string },
  nonce: string,
  scopes: readonly string[],
) {
  const signedAt = Date.now();
  const payload = buildSignaturePayloadV3({
    deviceId: identity.deviceId,
    clientId: "cli",
    clientMode: "cli",
    role: "operator",
    scopes: [...scopes],
    signedAtMs: signedAt,
    token: "deviceToken" in auth ? auth.deviceToken : auth.token,
    nonce,
    platform: process.platform,
  });
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
    role: "operator",
    scopes: [...scopes],
    auth,
    device: {
      id: identity.deviceId,
      publicKey: identity.publicKey,
      signature: signPayload(identity, payload),
      signedAt,
      nonce,
    },
  };
}
