/**
 * Where a running gateway actually listens. Flags such as `--port` or `--host` are not in
 * gatehouse.json, so the gateway records its address in the state dir and local clients read it.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeSecretJson } from "../util/secret-file.js";

export interface GatewayEndpoint {
  pid: number;
  url: string;
  /** The certificate's SHA-256 when the gateway serves wss:// (local clients pin it). */
  tlsFingerprint?: string;
}

function endpointPath(stateDir: string): string {
  return join(stateDir, "state", "gateway-endpoint.json");
}

/** Records the running gateway's dial URL (called once it listens). */
export function writeGatewayEndpoint(stateDir: string, endpoint: GatewayEndpoint): void {
  writeSecretJson(endpointPath(stateDir), endpoint);
}

/** Removes the record if it is still ours (called at stop). */
export function removeGatewayEndpoint(stateDir: string, pid: number): void {
  if (readRecord(stateDir)?.pid === pid) rmSync(endpointPath(stateDir), { force: true });
}

/** The recorded endpoint, only while its process is alive; null otherwise. */
export function readGatewayEndpoint(stateDir: string): GatewayEndpoint | null {
  const rec = readRecord(stateDir);
  if (!rec) return null;
  try {
    process.kill(rec.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return null;
  }
  return rec;
}

function readRecord(stateDir: string): GatewayEndpoint | null {
  try {
    const data = JSON.parse(readFileSync(endpointPath(stateDir), "utf8")) as Partial<GatewayEndpoint>;
    if (typeof data.pid !== "number" || typeof data.url !== "string") return null;
    return typeof data.tlsFingerprint === "string"
      ? { pid: data.pid, url: data.url, tlsFingerprint: data.tlsFingerprint }
      : { pid: data.pid, url: data.url };
  } catch {
    return null;
  }
}
