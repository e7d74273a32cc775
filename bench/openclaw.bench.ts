/**
 * The same figures against OpenClaw 2026.9.6, when the interop suite's peer is installed
 * (`node scripts/openclaw-peer.mjs`; cached under ~/.cache/gatehouse-test): its gateway's start
 * until the port accepts, its RSS once it answers and has settled, the paired-device handshake (sequential p50 and
 * 16 concurrent clients) and its CLI's `health` round trip. The summary prints them beside
 * Gatehouse's with the ratio. Without the peer it says so and reports nothing.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { WebSocket } from "ws";
import { GatewayClient } from "../src/client/index.js";
import { generateIdentity, type DeviceIdentity } from "../src/identity/keys.js";
import { freePort } from "../test/helpers/gateway-process.js";
import {
  cleanupOpenClawLocks,
  OpenClawHome,
  openClawLocks,
  runToEnd,
  type OpenClawPeer,
} from "../test/helpers/openclaw-peer.js";
import {
  measureHandshakes,
  pairedConnectParams,
  signedConnectParams,
  timedHandshake,
} from "./handshake-client.js";
import { median, report } from "./report.js";
import { rssBytes, settledRss } from "./rss.js";

const TOKEN = "bench-openclaw-token-" + "q".repeat(24);
const SCOPES = ["operator.read"];
const RUNS = Number(process.env.BENCH_OPENCLAW_RUNS ?? 3);

interface PeerPaths {
  peerPaths(): OpenClawPeer | null;
}

const url = new URL("../../scripts/openclaw-peer.mjs", import.meta.url);
const peer = ((await import(url.href)) as PeerPaths).peerPaths();
if (!peer) {
  console.log("OpenClaw peer not installed (node scripts/openclaw-peer.mjs installs it, once): skipped.");
  process.exit(0);
}

/** Resolves once a TCP connect to the port succeeds (polled every 10 ms). */
async function accepting(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not accepting in time`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Until a device-less `health` answers (OpenClaw answers UNAVAILABLE while its sidecars start). */
async function answering(wsUrl: string, deadline: number): Promise<void> {
  for (;;) {
    const client = new GatewayClient({
      url: wsUrl,
      auth: { token: TOKEN },
      client: { id: "cli", mode: "cli" },
      scopes: SCOPES,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 5_000,
    });
    try {
      await client.connect();
      await client.request("health");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await client.close();
    }
  }
}

interface Frame {
  type: string;
  event?: string;
  ok?: boolean;
  payload?: { nonce?: string; auth?: { deviceToken?: string } };
  error?: { code?: string; message?: string; details?: { requestId?: string } };
}

/** One connect; resolves with the response frame, whatever it says. */
function connectOnce(wsUrl: string, params: (nonce: string) => unknown): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (f.type === "event" && f.event === "connect.challenge") {
        ws.send(
          JSON.stringify({ type: "req", id: "1", method: "connect", params: params(f.payload!.nonce!) }),
        );
      } else if (f.type === "res") {
        ws.close();
        resolve(f);
      }
    });
    ws.on("error", reject);
  });
}

/** A device's first connect with the shared secret (v3 signature over it). */
function firstParams(identity: DeviceIdentity, nonce: string) {
  return signedConnectParams(identity, { token: TOKEN }, nonce, SCOPES);
}

/** Pairs a fresh device with OpenClaw (silently on loopback, else approved with its CLI); its token. */
async function pairDevice(home: OpenClawHome, wsUrl: string, identity: DeviceIdentity): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await connectOnce(wsUrl, (nonce) => firstParams(identity, nonce));
    const token = res.payload?.auth?.deviceToken;
    if (res.ok && token) return token;
    const requestId = res.error?.details?.requestId;
    if (!requestId) throw new Error(`OpenClaw did not pair the bench device: ${JSON.stringify(res)}`);
    const approved = await home.run(["devices", "approve", requestId, "--url", wsUrl, "--token", TOKEN], {
      timeoutMs: 120_000,
    });
    if (approved.code !== 0) throw new Error(`openclaw devices approve: ${approved.stderr.slice(0, 500)}`);
  }
  throw new Error("OpenClaw did not hand out a device token");
}

const locks = openClawLocks();
const home = new OpenClawHome(peer);
const port = await freePort();
home.writeConfig(port, TOKEN);
const wsUrl = `ws://127.0.0.1:${port}`;
const t0 = process.hrtime.bigint();
const child = home.spawn(["gateway", "run", "--port", String(port), "--bind", "loopback", "--auth", "token"]);
child.stdout?.resume();
child.stderr?.resume();
const exited = runToEnd(child, 30 * 60_000);
try {
  const deadline = Date.now() + 300_000;
  await accepting(port, deadline);
  const startS = Number(process.hrtime.bigint() - t0) / 1e9;
  await answering(wsUrl, deadline);
  const readyS = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => setTimeout(r, 1000));
  const rss1sMB = rssBytes(child.pid!) / 1e6;
  // Read as Gatehouse's row is (bench/startup.bench.ts): once it has settled.
  const rssMB = (await settledRss(child.pid!)).rss / 1e6;
  console.log(
    `OpenClaw ${peer.version} on Node 24: port accepting after ${startS.toFixed(2)} s, health answered after ${readyS.toFixed(2)} s`,
  );
  report("gateway-start", startS, { peer: "openclaw", how: "one start, spawn → port accepts" });
  report("gateway-rss", rssMB, {
    peer: "openclaw",
    how: `gateway process, settled after it answers; ${rss1sMB.toFixed(1)} MB 1 s after`,
  });

  const identity = generateIdentity();
  const deviceToken = await pairDevice(home, wsUrl, identity);
  const figures = await measureHandshakes(
    () => timedHandshake(wsUrl, (nonce) => pairedConnectParams(identity, deviceToken, nonce, SCOPES)),
    {
      label: `OpenClaw paired-device handshake (v3 signature + device token, 1 device paired)`,
      warmup: 50,
      sequential: Number(process.env.BENCH_OPENCLAW_HANDSHAKES ?? 300),
      concurrency: 16,
      seconds: Number(process.env.BENCH_SECONDS ?? 3),
      runs: 1,
      gatewayPid: child.pid,
    },
  );
  report("paired-p50", figures.p50, { peer: "openclaw", how: "p50, 1 device stored" });
  report("paired-rate", figures.perSecond, { peer: "openclaw", how: "1 run, 1 device stored" });

  // Its CLI's health against its own gateway (the CLI takes the URL and token from the environment).
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const r = await runToEnd(
      spawn(peer.node, [peer.openclaw, "health"], {
        env: home.env({ OPENCLAW_GATEWAY_URL: wsUrl, OPENCLAW_GATEWAY_TOKEN: TOKEN }),
        cwd: home.dir,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      }),
      120_000,
    );
    if (r.code !== 0) throw new Error(`openclaw health: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
    walls.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  report("health-wall", median(walls), { peer: "openclaw", how: `median of ${RUNS}` });
} finally {
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    // gone already
  }
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }, 10_000);
  await exited;
  clearTimeout(killer);
  home.remove();
  cleanupOpenClawLocks(locks);
}
