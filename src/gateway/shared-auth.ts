/** Checks the shared token or password in constant time. */
import { hash, timingSafeEqual } from "node:crypto";
import type { ConnectAuth } from "../protocol/connect.js";
import type { SharedAuthResult } from "../policy/admission.js";
import type { AssertionSettings } from "./proxy-assertion.js";

export interface GatewayAuth {
  /** In "trusted-proxy" mode the shared secret is the password of internal callers on this host. */
  mode: "token" | "password" | "none" | "trusted-proxy";
  token?: string | undefined;
  password?: string | undefined;
  /** Trusted-proxy mode: the operator scopes of device-less proxy users, by user. */
  identityScopes?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Trusted-proxy mode: what the proxy sends and what is believed (`gateway.auth.trustedProxy`). */
  trustedProxy?: TrustedProxyAuth | undefined;
}

/** `gateway.auth.trustedProxy` as the gateway takes it (header names lower case). */
export interface TrustedProxyAuth {
  userHeader?: string | undefined;
  requiredHeaders: readonly string[];
  allowUsers: readonly string[];
  allowLoopback: boolean;
  assertion?: AssertionSettings | undefined;
  deviceAutoApprove: { enabled: boolean; scopes: readonly string[] };
}

/** Equal-length digests make the comparison independent of where the strings differ or their length. */
export function constantTimeEqual(a: string, b: string): boolean {
  // One-shot digests (a string is hashed as UTF-8): no Hash object per connect.
  const da = hash("sha256", a, "buffer");
  const db = hash("sha256", b, "buffer");
  return timingSafeEqual(da, db);
}

/** Evaluates the presented shared secret against the gateway's current auth settings. */
export function checkSharedAuth(settings: GatewayAuth, auth: ConnectAuth | undefined): SharedAuthResult {
  if (settings.mode === "none") return { ok: true, method: "none" };
  if (settings.mode === "token") {
    const presented = auth?.token?.trim() ?? "";
    if (!settings.token) return { ok: false, code: "AUTH_TOKEN_NOT_CONFIGURED", provided: presented !== "" };
    if (presented === "") return { ok: false, code: "AUTH_TOKEN_MISSING", provided: false };
    return constantTimeEqual(presented, settings.token)
      ? { ok: true, method: "token" }
      : { ok: false, code: "AUTH_TOKEN_MISMATCH", provided: true };
  }
  const presented = auth?.password ?? "";
  if (!settings.password)
    return { ok: false, code: "AUTH_PASSWORD_NOT_CONFIGURED", provided: presented !== "" };
  if (presented === "") return { ok: false, code: "AUTH_PASSWORD_MISSING", provided: false };
  return constantTimeEqual(presented, settings.password)
    ? { ok: true, method: "password" }
    : { ok: false, code: "AUTH_PASSWORD_MISMATCH", provided: true };
}
