/**
 * `device.pair.setupCode {profile, ttlMs, url?}`: mints a single-use setup code that pre-approves one
 * device with a profile (reference §4.6). Needs `operator.pairing` (the method table) and the scopes
 * the profile hands out; `operator-full` and `node` need `operator.admin`. The cleartext code goes
 * back to this caller only; the store keeps its hash.
 */
import { randomBytes } from "node:crypto";
import { networkInterfaces } from "node:os";
import { Type } from "@sinclair/typebox";
import type { MethodContext, MethodHandler } from "../gateway/methods.js";
import { isLoopbackIp } from "../policy/ip.js";
import { missingToMint, profileGrant } from "../policy/setup-codes.js";
import { GatewayError } from "../protocol/errors.js";
import {
  buildSetupLink,
  formatSetupCode,
  SETUP_CODE_LENGTH,
  SETUP_CODE_PROFILES,
  setupCodeFromBytes,
  type SetupCodeProfile,
} from "../protocol/setup-code.js";
import { paramsParser } from "./params.js";

export const DEFAULT_SETUP_CODE_TTL_MS = 10 * 60_000;
export const MIN_SETUP_CODE_TTL_MS = 30_000;
export const MAX_SETUP_CODE_TTL_MS = 24 * 60 * 60_000;

const SetupCodeParams = Type.Object(
  {
    profile: Type.Optional(Type.Union(SETUP_CODE_PROFILES.map((p) => Type.Literal(p)))),
    ttlMs: Type.Optional(Type.Integer({ minimum: MIN_SETUP_CODE_TTL_MS, maximum: MAX_SETUP_CODE_TTL_MS })),
    /** The URL other machines should dial; default: the gateway's own non-loopback address. */
    url: Type.Optional(Type.String({ pattern: "^wss?://", maxLength: 2048 })),
  },
  { additionalProperties: false },
);
const parseParams = paramsParser(SetupCodeParams);

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

function actor(ctx: MethodContext): string {
  return ctx.deviceId ? `device:${ctx.deviceId}` : `${ctx.client.id}/${ctx.client.mode}`;
}

export const setupCode: MethodHandler = (ctx, params) => {
  const p = parseParams(params);
  const profile: SetupCodeProfile = p.profile ?? "operator-limited";
  const missing = missingToMint(ctx.scopes, profile);
  if (missing.length > 0) {
    throw new GatewayError("MISSING_SCOPE", {
      message: `missing scope: ${missing[0]} (a ${profile} setup code never grants more than its minter holds)`,
      details: { missingScope: missing[0], requiredScopes: missing },
    });
  }
  const urls = ctx.gateway.urls();
  const url = p.url ?? advertisedUrl(urls) ?? urls[0] ?? null;
  if (!url) throw new GatewayError("INTERNAL_ERROR", { message: "the gateway is not listening" });
  const fingerprint = ctx.gateway.tlsFingerprint();
  const grant = profileGrant(profile);
  const now = ctx.gateway.now();
  const expiresAtMs = now + (p.ttlMs ?? DEFAULT_SETUP_CODE_TTL_MS);
  const code = setupCodeFromBytes(randomBytes(SETUP_CODE_LENGTH));
  const store = ctx.pairing.store;
  const by = actor(ctx);
  store.transaction(() => {
    store.setupCodes.prune(now);
    store.setupCodes.create({
      code,
      profile,
      roles: grant.roles,
      scopes: grant.scopes,
      gatewayUrl: url,
      fingerprint,
      createdBy: by,
      createdAtMs: now,
      expiresAtMs,
    });
    store.audit.append(
      {
        kind: "setup-code",
        decision: "minted",
        actor: by,
        role: grant.roles.join(","),
        scopes: grant.scopes,
        reason: profile,
      },
      now,
    );
  });
  return {
    code: formatSetupCode(code),
    link: buildSetupLink({ code, url, fingerprint, profile }),
    profile,
    roles: grant.roles,
    scopes: grant.scopes,
    url,
    fingerprint,
    createdAtMs: now,
    expiresAtMs,
  };
};

export const setupCodeMethods: Readonly<Record<string, MethodHandler>> = {
  "device.pair.setupCode": setupCode,
};
