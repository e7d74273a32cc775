/**
 * An admission oracle for mutated connect frames, written from the protocol reference (§1.2–1.8)
 * and the design's rules rather than from the gateway's code: it rebuilds the signed payload
 * itself, verifies Ed25519 with node:crypto, and decides whether a frame is an admissible connect
 * for the one fixture device the handshake fuzz test paired. Schema validity is judged with
 * TypeBox's interpreter (`Value.Check`), not the compiled validator the gateway uses.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { ConnectParamsSchema } from "../../src/protocol/connect.js";

type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Trim, then lowercase ASCII A–Z only (reference §1.5). */
export function normMeta(v: unknown): string {
  return typeof v === "string" ? v.trim().replace(/[A-Z]/g, (c) => c.toLowerCase()) : "";
}

/** The v3 (and v2) payload of reference §1.5, from connect params as they are on the wire. */
export function payloads(params: Rec): { v3: string; v2: string } | null {
  const device = params.device;
  const client = params.client;
  if (!isRec(device) || !isRec(client)) return null;
  const auth = isRec(params.auth) ? params.auth : {};
  const scopes = params.scopes ?? [];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) return null;
  const role = params.role ?? "operator";
  const token = auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? "";
  const fields = [
    device.id,
    typeof client.id === "string" ? client.id.trim().toLowerCase() : client.id,
    client.mode,
    role,
    scopes.join(","),
    device.signedAt,
    token,
    device.nonce,
  ];
  if (!fields.every((f) => typeof f === "string" || typeof f === "number")) return null;
  const common = fields.map(String);
  return {
    v3: ["v3", ...common, normMeta(client.platform), normMeta(client.deviceFamily)].join("|"),
    v2: ["v2", ...common].join("|"),
  };
}

const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Bytes of base64url (or standard base64) text, or null. */
export function b64(text: unknown): Buffer | null {
  if (typeof text !== "string" || !B64.test(text)) return null;
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** Raw public key bytes of the wire form (base64url/base64 raw key, or an SPKI PEM), or null. */
export function wireKeyBytes(text: unknown): Buffer | null {
  if (typeof text !== "string") return null;
  const t = text.trim();
  if (t.includes("BEGIN")) {
    if (!t.includes("BEGIN PUBLIC KEY")) return null;
    try {
      const k = createPublicKey({ key: t, format: "pem" });
      if (k.asymmetricKeyType !== "ed25519") return null;
      return Buffer.from(k.export({ format: "der", type: "spki" }).subarray(12));
    } catch {
      return null;
    }
  }
  return b64(t);
}

/** Ed25519 verification of `payload` against `key` with a base64/base64url signature. */
export function sigVerifies(key: KeyObject, payload: string, signature: unknown): boolean {
  const sig = b64(signature);
  if (!sig || sig.length !== 64) return false;
  try {
    return verify(null, Buffer.from(payload, "utf8"), key, sig);
  } catch {
    return false;
  }
}

/** Reference §1.2: `{type:"req", id: non-empty string, method: non-empty string, params?}`, nothing else. */
export function isRequestFrame(
  v: unknown,
): v is { type: "req"; id: string; method: string; params?: unknown } {
  if (!isRec(v)) return false;
  if (!Object.keys(v).every((k) => k === "type" || k === "id" || k === "method" || k === "params"))
    return false;
  return (
    v.type === "req" &&
    typeof v.id === "string" &&
    v.id.length > 0 &&
    typeof v.method === "string" &&
    v.method.length > 0
  );
}

/** Reference §1.8. */
export function protocolOk(min: number, max: number, role: string, mode: string): boolean {
  if (min <= 4 && 4 <= max) return true;
  if (mode === "probe" && max >= 3 && min <= 4) return true;
  return role === "node" && mode === "node" && max >= 3 && min <= 3;
}

/** Scope lattice of reference §3.2 as the design narrows it: admin ⊇ operator.*, write ⊇ read. */
export function covered(granted: readonly string[], s: string): boolean {
  if (granted.includes(s)) return true;
  if (!s.startsWith("operator.")) return false;
  if (granted.includes("operator.admin")) return true;
  return s === "operator.read" && granted.includes("operator.write");
}

const BROWSER_IDS = new Set(["openclaw-control-ui", "webchat-ui", "webchat"]);

/** The one paired device the oracle knows, and the gateway's shared token. */
export interface OracleWorld {
  sharedToken: string;
  device: {
    deviceId: string;
    raw: Buffer;
    key: KeyObject;
    roles: readonly string[];
    scopes: readonly string[];
    platform: string;
    deviceFamily: string;
  };
  /** The device's current operator token (cleartext) and its scopes; null when none is live. */
  deviceToken: { token: string; scopes: readonly string[] } | null;
  /** Challenge nonce of this connection. */
  nonce: string;
  nowMs: number;
}

/** Where a frame stops, by the documented order of checks; `admit` carries the expected session. */
export type Verdict =
  | { stage: "frame" } // not a request frame: close 1008, no response
  | { stage: "not-connect" }
  | { stage: "params" }
  | { stage: "protocol" }
  | { stage: "role" }
  | { stage: "device-proof"; code: string }
  | { stage: "policy"; why: string } // refused by credentials or policy (may pend)
  | { stage: "uncertain"; why: string } // too close to a time boundary to call
  | { stage: "admit"; role: string; scopes: string[] };

/** Decides what the gateway must do with `frame` (a parsed JSON value sent as the first frame). */
export function judge(frame: unknown, w: OracleWorld): Verdict {
  if (!isRequestFrame(frame)) return { stage: "frame" };
  if (frame.method !== "connect") return { stage: "not-connect" };
  const raw = frame.params;
  const params =
    isRec(raw) && isRec(raw.client) && typeof raw.client.id === "string"
      ? { ...raw, client: { ...raw.client, id: raw.client.id.trim().toLowerCase() } }
      : raw;
  if (!Value.Check(ConnectParamsSchema, params) || !isRec(params)) return { stage: "params" };
  const client = params.client as Rec & { id: string; mode: string };
  const role = (params.role as string | undefined) ?? "operator";
  const scopes = (params.scopes as string[] | undefined) ?? [];
  if (!protocolOk(params.minProtocol as number, params.maxProtocol as number, role, client.mode)) {
    return { stage: "protocol" };
  }
  if (role !== "operator" && role !== "node") return { stage: "role" };
  const auth = (isRec(params.auth) ? params.auth : {}) as Record<string, string | undefined>;
  const sharedOk = (auth.token ?? "").trim() === w.sharedToken;

  const device = params.device as Rec | undefined;
  if (device) {
    // Order of reference §1.9: id derivation, skew, nonce present, nonce equal, signature, key.
    const bytes = wireKeyBytes(device.publicKey);
    if (!bytes || bytes.length === 0 || createHash("sha256").update(bytes).digest("hex") !== device.id) {
      return { stage: "device-proof", code: "DEVICE_AUTH_DEVICE_ID_MISMATCH" };
    }
    const skew = Math.abs(w.nowMs - (device.signedAt as number));
    if (Math.abs(skew - 120_000) < 5_000) return { stage: "uncertain", why: "signedAt at the skew limit" };
    if (skew > 120_000) return { stage: "device-proof", code: "DEVICE_AUTH_SIGNATURE_EXPIRED" };
    if ((device.nonce as string).trim() === "")
      return { stage: "device-proof", code: "DEVICE_AUTH_NONCE_REQUIRED" };
    if (device.nonce !== w.nonce) return { stage: "device-proof", code: "DEVICE_AUTH_NONCE_MISMATCH" };
    if (!bytes.equals(w.device.raw)) {
      // Another key whose id matches: a fresh key nobody paired. Never admissible here.
      return { stage: "device-proof", code: "DEVICE_AUTH_SIGNATURE_INVALID" };
    }
    const p = payloads(params);
    if (
      !p ||
      !(
        sigVerifies(w.device.key, p.v3, device.signature) || sigVerifies(w.device.key, p.v2, device.signature)
      )
    ) {
      return { stage: "device-proof", code: "DEVICE_AUTH_SIGNATURE_INVALID" };
    }
  }

  if (role === "node" && scopes.some((s) => !s.startsWith("node.")))
    return { stage: "policy", why: "node-scopes" };

  if (!device) {
    if (auth.agentRuntimeIdentityToken) return { stage: "policy", why: "runtime token (none valid here)" };
    if (auth.bootstrapToken) return { stage: "policy", why: "setup code (none valid here)" };
    if (!sharedOk) return { stage: "policy", why: "device-less without the shared secret" };
    if (role !== "operator") return { stage: "policy", why: "device-less node" };
    if (BROWSER_IDS.has(client.id) || client.mode === "webchat")
      return { stage: "policy", why: "browser UI without device" };
    const lane =
      (client.id === "cli" && client.mode === "cli") ||
      (client.id === "gateway-client" && client.mode === "backend");
    // Device-less scopes are cleared unless it is a local CLI/backend (the test peer is on loopback).
    return { stage: "admit", role, scopes: lane ? [...scopes] : [] };
  }

  // No setup code exists in the fixture's store, so any code presented is invalid and admits nothing.
  if (auth.bootstrapToken) return { stage: "policy", why: "setup code (none valid here)" };
  const explicit = auth.deviceToken || null;
  const live = w.deviceToken;
  const tokenValid = (t: string | null) =>
    t !== null && live !== null && role === "operator" && t === live.token;
  let credential: "shared" | "device-token" | null = null;
  if (sharedOk) credential = "shared";
  else if (explicit !== null) credential = tokenValid(explicit) ? "device-token" : null;
  else if (auth.token && tokenValid(auth.token)) credential = "device-token";
  if (!credential) return { stage: "policy", why: "no valid credential" };

  const d = w.device;
  if (normMeta(client.platform) !== d.platform || normMeta(client.deviceFamily) !== d.deviceFamily) {
    return { stage: "policy", why: "metadata-upgrade" };
  }
  if (!d.roles.includes(role)) return { stage: "policy", why: "role-upgrade" };
  if (!scopes.every((s) => covered(d.scopes, s))) return { stage: "policy", why: "scope-upgrade" };
  if (credential === "device-token" && !scopes.every((s) => covered(live!.scopes, s))) {
    return { stage: "policy", why: "beyond device token" };
  }
  return { stage: "admit", role, scopes: [...scopes] };
}
