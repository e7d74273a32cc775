/**
 * The gateway a CLI on another machine paired with (`gatehouse connect --pair`), remembered per
 * state dir so later commands need no `--url` (and no `--allow-insecure` once the user accepted
 * plain ws:// for it). A state dir that holds a gateway store is a gateway host: there the local
 * gateway always comes first and nothing is remembered.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeSecretJson } from "../util/secret-file.js";
import { statePaths } from "./state-dir.js";
import type { GatewaySettings } from "./types.js";

export interface RememberedGateway {
  url: string;
  /** The user accepted plain ws:// to this non-loopback URL (`--allow-insecure` at pairing). */
  allowInsecure: boolean;
  rememberedAtMs: number;
}

function rememberedPath(stateDir: string): string {
  return join(statePaths(stateDir).identityDir, "remote-gateway.json");
}

/** Whether this state dir holds a gateway's store (a gateway has run from it: a gateway host). */
export function holdsGatewayStore(stateDir: string): boolean {
  return existsSync(join(statePaths(stateDir).stateDbDir, "gatehouse.sqlite"));
}

/** The remembered gateway of this state dir; null when none (or the file is unreadable). */
export function readRememberedGateway(stateDir: string): RememberedGateway | null {
  try {
    const data = JSON.parse(readFileSync(rememberedPath(stateDir), "utf8")) as Partial<RememberedGateway>;
    if (typeof data.url !== "string" || !/^wss?:\/\//i.test(data.url)) return null;
    return {
      url: data.url,
      allowInsecure: data.allowInsecure === true,
      rememberedAtMs: typeof data.rememberedAtMs === "number" ? data.rememberedAtMs : 0,
    };
  } catch {
    return null;
  }
}

/** Remembers `url` as this state dir's gateway (file mode 0600). */
export function writeRememberedGateway(stateDir: string, gateway: RememberedGateway): void {
  writeSecretJson(rememberedPath(stateDir), gateway);
}

/** Forgets the remembered gateway. */
export function forgetRememberedGateway(stateDir: string): void {
  rmSync(rememberedPath(stateDir), { force: true });
}

/**
 * SHA-256 of the certificate the gateway of this state dir serves, read from its TLS files (the
 * configured certPath, else the one it generates: the same path as gateway/tls.ts
 * generatedTlsPaths); null without TLS or without the file. Whoever reads the state dir is the
 * owner, so this certificate is trusted as the owner's own.
 */
export function stateDirCertificateFingerprint(stateDir: string, gateway: GatewaySettings): string | null {
  if (!gateway.tls.enabled) return null;
  const certPath = gateway.tls.certPath
    ? resolve(stateDir, gateway.tls.certPath)
    : join(stateDir, "tls", "gateway-cert.pem");
  try {
    return new X509Certificate(readFileSync(certPath)).fingerprint256.replace(/:/g, "").toLowerCase();
  } catch {
    return null;
  }
}
