/** `gatehouse health`: is the gateway up, in one line. */
import { connectCli, type CommonOptions } from "../connect.js";
import { EXIT, type Reporter } from "../output.js";
import { methodsAsk } from "../../policy/client-asks.js";

/**
 * `health` as either server answers it: Gatehouse's carries version, uptime and connection count;
 * OpenClaw's carries none of them (its version is in hello-ok), so those parts are left out.
 */
interface HealthPayload {
  ok: boolean;
  version?: unknown;
  uptimeMs?: unknown;
  connections?: unknown;
}

/** The one-line summary; only the figures the gateway reported. */
export function healthLine(payload: HealthPayload, url: string, serverVersion: string | null): string {
  const state = payload.ok === true ? "ok" : "NOT ok";
  const version = typeof payload.version === "string" ? payload.version : serverVersion;
  const facts = [
    ...(version ? [`version ${version}`] : []),
    ...(typeof payload.uptimeMs === "number" && Number.isFinite(payload.uptimeMs)
      ? [`up ${formatDuration(payload.uptimeMs)}`]
      : []),
    ...(typeof payload.connections === "number"
      ? [`${payload.connections} connection${payload.connections === 1 ? "" : "s"}`]
      : []),
  ];
  return `gateway ${state} at ${url}${facts.length > 0 ? ` — ${facts.join(", ")}` : ""}`;
}

/** Human duration: 42s, 3m12s, 5h03m, 2d04h. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** Connects, calls `health`, prints it. */
export async function health(opts: CommonOptions, out: Reporter): Promise<number> {
  const { client, url } = await connectCli(opts, methodsAsk(["health"]).scopes);
  try {
    const payload = (await client.request("health")) as HealthPayload;
    const serverVersion = client.hello?.server.version ?? null;
    out.result({ ...payload, url }, () => healthLine(payload, url, serverVersion));
    return payload.ok === true ? EXIT.ok : EXIT.failed;
  } finally {
    await client.close();
  }
}
