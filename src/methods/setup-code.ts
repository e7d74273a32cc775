/**
 * `device.pair.setupCode {profile, ttlMs, url?}`: mints a single-use setup code that pre-approves one
 * device with a profile (reference §4.6). Needs `operator.pairing` (the method table) and the scopes
 * the profile hands out; `operator-full` and `node` need `operator.admin`. The cleartext code goes
 * back to this caller only; the store keeps its hash.
 */
import { createRequire } from "node:module";
import type * as QRCodeLibrary from "qrcode";
import { networkInterfaces } from "node:os";
import type { MethodHandler } from "../gateway/methods.js";
import { isLoopbackIp } from "../policy/ip.js";
import type { SetupCodeResult } from "../protocol/devices.js";
import { GatewayError } from "../protocol/errors.js";
import { DEFAULT_SETUP_CODE_TTL_MS } from "../protocol/setup-code.js";
import { callerOf } from "./device.js";
import { paramsParser } from "./params.js";

export {
  DEFAULT_SETUP_CODE_TTL_MS,
  MAX_SETUP_CODE_TTL_MS,
  MIN_SETUP_CODE_TTL_MS,
} from "../protocol/setup-code.js";

const parseParams = paramsParser("SetupCodeParams");

/** `wss://10.0.0.5:18789` for `0.0.0.0`-style binds: the first non-internal address of this host. */
function wildcardAddress(family: "IPv4" | "IPv6"): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === family && !a.address.startsWith("fe80:")) return a.address;
    }
  }
  return null;
}

/** The URL a device elsewhere should dial: a listen address other machines can reach, if any. */
export function advertisedUrl(urls: readonly string[]): string | null {
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      continue;
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    if (isLoopbackIp(host)) continue;
    if (host === "0.0.0.0" || host === "::") {
      const addr = wildcardAddress(host === "::" ? "IPv6" : "IPv4");
      if (!addr) continue;
      parsed.hostname = addr.includes(":") ? `[${addr}]` : addr;
      return parsed.toString().replace(/\/$/, "");
    }
    return u;
  }
  return null;
}

export const setupCode: MethodHandler = (ctx, params): SetupCodeResult => {
  const p = parseParams(params);
  const urls = ctx.gateway.urls();
  const url = p.url ?? advertisedUrl(urls) ?? urls[0] ?? null;
  if (!url) throw new GatewayError("INTERNAL_ERROR", { message: "the gateway is not listening" });
  const minted = ctx.devices.mintSetupCode(callerOf(ctx), {
    profile: p.profile ?? "operator-limited",
    ttlMs: p.ttlMs ?? DEFAULT_SETUP_CODE_TTL_MS,
    url,
    fingerprint: ctx.gateway.tlsFingerprint(),
  });
  return p.qr ? { ...minted, qr: qrMatrix(minted.link) } : minted;
};

let qrcode: typeof QRCodeLibrary | undefined;
/** The QR library, loaded on the first code asked for with its QR: most gateway runs never are. */
function qrLibrary(): typeof QRCodeLibrary {
  qrcode ??= createRequire(import.meta.url)("qrcode") as typeof QRCodeLibrary;
  return qrcode;
}

/** `text` as a QR code (error correction M): its side in modules and the modules row by row, "1" dark. */
export function qrMatrix(text: string): { size: number; modules: string } {
  const { size, data } = qrLibrary().create(text, { errorCorrectionLevel: "M" }).modules;
  let modules = "";
  for (const bit of data) modules += bit ? "1" : "0";
  return { size, modules };
}

export const setupCodeMethods: Readonly<Record<string, MethodHandler>> = {
  "device.pair.setupCode": setupCode,
};
