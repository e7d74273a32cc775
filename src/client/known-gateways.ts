/**
 * Pinned TLS certificates per gateway URL (`wss://host:port` → SHA-256), kept between runs. A pin is
 * only ever written when a person said so (`--trust-fingerprint`, a yes at a prompt, or a setup
 * link from the owner); a mismatch is never "fixed" by overwriting it.
 */
import { isRecord } from "../protocol/json.js";
import { normalizeFingerprint } from "../protocol/setup-code.js";
import { writeSecretJson } from "../util/secret-file.js";
import { GatewayClientError } from "./errors.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { readFileSync } = process.getBuiltinModule("node:fs");

/**
 * One pinned gateway certificate: its SHA-256 (hex, lower case) and when it was pinned.
 *
 * @example
 * ```ts
 * import type { KnownGateway } from "gatehouse-gateway/client";
 *
 * const pin: KnownGateway = { fingerprint: "ab".repeat(32), addedAtMs: Date.now() };
 * console.log(pin.fingerprint.length); // 64
 * ```
 */
export interface KnownGateway {
  fingerprint: string;
  addedAtMs: number;
}

interface KnownFile {
  version: 1;
  gateways: Record<string, KnownGateway>;
}

/**
 * The key a URL is pinned under: `wss://host:port` (lower-case host, default port dropped); null
 * for anything but a `wss://` URL.
 *
 * @example
 * ```ts
 * import { gatewayKey } from "gatehouse-gateway/client";
 *
 * console.log(gatewayKey("wss://GW.example:8443/path"), gatewayKey("ws://127.0.0.1:18789")); // wss://gw.example:8443 null
 * ```
 */
export function gatewayKey(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== "wss:") return null;
    return `wss://${u.host.toLowerCase()}`;
  } catch {
    return null;
  }
}

/**
 * Pinned TLS certificates per gateway URL, in a JSON file (mode 0600), as the CLI keeps them in
 * `identity/known-gateways.json`. Pin only on a person's say-so; a corrupt file is reported and left
 * alone.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { GatewayClient, KnownGatewayStore } from "gatehouse-gateway/client";
 *
 * const pins = new KnownGatewayStore(join(mkdtempSync(join(tmpdir(), "pins-")), "known-gateways.json"));
 * pins.set("wss://gw.example:8443", "AB:".repeat(31) + "AB");
 * const tlsFingerprint = pins.get("wss://gw.example:8443");
 * console.log(tlsFingerprint === "ab".repeat(32)); // true
 * const client = new GatewayClient({ url: "wss://gw.example:8443", tlsFingerprint });
 * console.log(client.state); // idle
 * ```
 */
export class KnownGatewayStore {
  constructor(readonly path: string) {}

  /** The pinned fingerprint for a wss:// URL, if any. */
  get(url: string): string | undefined {
    const key = gatewayKey(url);
    if (!key) return undefined;
    const entry = this.read().gateways[key];
    return entry?.fingerprint;
  }

  /** Pins `fingerprint` for the URL (replacing an older pin: only call this on a person's say-so). */
  set(url: string, fingerprint: string, nowMs = Date.now()): void {
    const key = gatewayKey(url);
    const fp = normalizeFingerprint(fingerprint);
    if (!key || !fp)
      throw new GatewayClientError(
        "INVALID_OPTIONS",
        "only a wss:// URL and a SHA-256 fingerprint can be pinned",
      );
    const file = this.read();
    file.gateways[key] = { fingerprint: fp, addedAtMs: nowMs };
    try {
      writeSecretJson(this.path, file);
    } catch (cause) {
      throw new GatewayClientError("TOKEN_STORE_FAILED", `cannot write ${this.path}`, { cause });
    }
  }

  private read(): KnownFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT")
        return { version: 1, gateways: Object.create(null) as Record<string, KnownGateway> };
      throw new GatewayClientError("TOKEN_STORE_FAILED", `cannot read ${this.path}`, { cause });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
    if (!isRecord(data) || data.version !== 1 || !isRecord(data.gateways)) {
      throw new GatewayClientError(
        "TOKEN_STORE_FAILED",
        `${this.path} is corrupt; it was left untouched — fix or remove it (pins are re-added with --trust-fingerprint)`,
      );
    }
    const gateways = Object.create(null) as Record<string, KnownGateway>;
    for (const [key, entry] of Object.entries(data.gateways)) {
      if (!isRecord(entry) || typeof entry.fingerprint !== "string") continue;
      const fp = normalizeFingerprint(entry.fingerprint);
      if (fp)
        gateways[key] = {
          fingerprint: fp,
          addedAtMs: typeof entry.addedAtMs === "number" ? entry.addedAtMs : 0,
        };
    }
    return { version: 1, gateways };
  }
}
