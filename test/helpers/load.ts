/**
 * Holds many authenticated connections to a gateway process while devices pair, get approved and
 * get revoked, and reports what was refused or admitted that should not have been, and the
 * gateway's memory per connection. Shared by the load test and the load benchmark.
 */
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import type { GatewayClient } from "../../src/client/index.js";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { openPeer, sendConnect } from "./raw-client.js";

/** Resident memory of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Opens one device-less `cli` session and keeps it open; resolves once hello-ok arrived. */
export function holdSession(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const fail = (why: string) => {
      ws.terminate();
      reject(new Error(why));
    };
    ws.once("error", (e) => reject(e));
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as {
        type: string;
        event?: string;
        ok?: boolean;
        error?: { message: string };
      };
      if (f.type === "event" && f.event === "connect.challenge") {
        ws.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "cli", version: "load", platform: process.platform, mode: "cli" },
              scopes: ["operator.read"],
              auth: { token },
            },
          }),
        );
      } else if (f.type === "res" && f.ok) {
        ws.removeAllListeners("message");
        ws.on("message", () => {}); // ticks
        resolve(ws);
      } else if (f.type === "res") {
        fail(`refused: ${f.error?.message}`);
      }
    });
  });
}

/** Opens `n` sessions with at most `parallel` handshakes in flight; returns them and the refusals. */
export async function holdMany(url: string, token: string, n: number, parallel = 64) {
  const open: WebSocket[] = [];
  const refusals: string[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        open.push(await holdSession(url, token));
      } catch (err) {
        refusals.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { open, refusals, handshakesPerSecond: n / seconds };
}

export interface PairingRoundResult {
  paired: number;
  wronglyAdmitted: number;
  wronglyRefused: number;
}

/**
 * `devices` remote-looking devices (forwarded through the gateway's trusted loopback proxy) ask
 * to pair; the owner approves each; each connects with its token; the owner revokes it; the
 * revoked token must then be refused. Counts every outcome that contradicts the rules.
 */
export async function pairingRound(
  url: string,
  token: string,
  owner: GatewayClient,
  devices: number,
): Promise<PairingRoundResult> {
  let paired = 0;
  let wronglyAdmitted = 0;
  let wronglyRefused = 0;
  for (let i = 0; i < devices; i++) {
    const identity = generateIdentity();
    const headers = { "X-Forwarded-For": `203.0.113.${(i % 250) + 1}` };
    const first = await rawConnect(url, identity, { token }, headers);
    if (first.ok) {
      wronglyAdmitted++; // a remote device must pend, never be admitted silently
      continue;
    }
    const requestId = first.requestId;
    if (!requestId) {
      wronglyRefused++;
      continue;
    }
    await owner.request("device.pair.approve", { requestId });
    const second = await rawConnect(url, identity, { token }, headers);
    if (!second.ok || !second.deviceToken) {
      wronglyRefused++;
      continue;
    }
    paired++;
    await owner.request("device.token.revoke", { deviceId: identity.deviceId, role: "operator" });
    const third = await rawConnect(url, identity, { deviceToken: second.deviceToken }, headers);
    if (third.ok) wronglyAdmitted++;
  }
  return { paired, wronglyAdmitted, wronglyRefused };
}

/** One signed connect; the outcome only (the socket is closed afterwards). */
async function rawConnect(
  url: string,
  identity: DeviceIdentity,
  auth: { token?: string; deviceToken?: string },
  headers: Record<string, string>,
): Promise<{ ok: boolean; requestId?: string; deviceToken?: string }> {
  const peer = await openPeer(url, headers);
  const res = await sendConnect(peer, { identity, auth, scopes: ["operator.read"] });
  peer.ws.close();
  const requestId = res.error?.details?.requestId;
  const hello = res.payload as { auth?: { deviceToken?: string } } | undefined;
  return res.ok
    ? { ok: true, deviceToken: hello?.auth?.deviceToken }
    : { ok: false, requestId: typeof requestId === "string" ? requestId : undefined };
}
