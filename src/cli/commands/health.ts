/** `gatehouse health`: is the gateway up, in one line. */
import { connectCli, type CommonOptions } from "../connect.js";
import { EXIT, type Reporter } from "../output.js";
import { OPERATOR_SCOPES } from "../../protocol/scopes.js";

interface HealthPayload {
  ok: boolean;
  version: string;
  uptimeMs: number;
  connections: number;
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
  const { client, url } = await connectCli(opts, [OPERATOR_SCOPES.read]);
  try {
    const payload = (await client.request("health")) as HealthPayload;
    out.result({ ...payload, url }, () => {
      const state = payload.ok ? "ok" : "NOT ok";
      return `gateway ${state} at ${url} — version ${payload.version}, up ${formatDuration(payload.uptimeMs)}, ${payload.connections} connection${payload.connections === 1 ? "" : "s"}`;
    });
    return payload.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await client.close();
  }
}
