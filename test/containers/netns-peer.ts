/**
 * A bare WebSocket peer meant to run inside a network namespace (`ip netns exec <ns> node
 * netns-peer.js '<json>'`), since the test process itself lives in the root namespace. It opens
 * the socket with the given headers (e.g. a browser `Origin`), optionally sends one connect, and
 * prints one JSON array, one outcome per attempt (all attempts sign with the same fresh identity):
 *   [{"upgrade":"refused","status":403,"message":"..."}]
 *   [{"upgrade":"ok","response":{...res frame...},"close":{"code":1008,"reason":"..."}|null}, ...]
 * Not a test file: it exits 2 with a usage line when run without its argument.
 */
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { openPeer, sendConnect, type ConnectOptions, type Frame } from "../helpers/raw-client.js";

export interface PeerPlan {
  url: string;
  headers?: Record<string, string>;
  /** When given, a connect is sent with a fresh device identity and these options. */
  connect?: Omit<ConnectOptions, "identity">;
  /** How many times to open and connect (default 1). */
  attempts?: number;
}

export type PeerOutcome =
  | { upgrade: "refused"; status: number | null; message: string }
  | { upgrade: "ok"; response: Frame | null; close: { code: number; reason: string } | null };

async function attempt(plan: PeerPlan, identity: DeviceIdentity): Promise<PeerOutcome> {
  let peer;
  try {
    peer = await openPeer(plan.url, plan.headers ?? {});
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const m = /HTTP (\d{3})/.exec(message);
    return { upgrade: "refused", status: m ? Number(m[1]) : null, message };
  }
  if (!plan.connect) {
    peer.ws.close();
    return { upgrade: "ok", response: null, close: null };
  }
  const response = await sendConnect(peer, { ...plan.connect, identity });
  if (response.ok) {
    peer.ws.close();
    return { upgrade: "ok", response, close: null };
  }
  let timer: NodeJS.Timeout | undefined;
  const close = await Promise.race([
    peer.closed,
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 3000))),
  ]);
  clearTimeout(timer);
  peer.ws.terminate();
  return { upgrade: "ok", response, close };
}

async function main(plan: PeerPlan): Promise<PeerOutcome[]> {
  const identity = generateIdentity();
  const outcomes: PeerOutcome[] = [];
  for (let i = 0; i < (plan.attempts ?? 1); i++) outcomes.push(await attempt(plan, identity));
  return outcomes;
}

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write("usage: node netns-peer.js '<json plan>'\n");
  process.exitCode = 2;
} else {
  main(JSON.parse(arg) as PeerPlan).then(
    (outcome) => process.stdout.write(JSON.stringify(outcome) + "\n"),
    (err: unknown) => {
      process.stderr.write(`netns-peer: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
