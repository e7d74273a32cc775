// The Control UI's WebSocket client: waits for connect.challenge, signs a v3 connect as the
// `openclaw-control-ui`/`webchat` client with this browser's device key, keeps the device token the
// gateway issues, then carries requests and events. It reconnects on its own; while the device
// waits for approval it retries every 2 s (the same request keeps the same requestId).

import { ERROR_MEANINGS } from "./error-table.js";
import { clearDeviceToken, loadDeviceToken, signPayload, storeDeviceToken } from "./identity.js";
// What the UI asks for: decided in the policy, served by the gateway (never a copy kept here).
import { UI_SCOPES } from "./policy.js";
import { buildSignaturePayloadV3, signedToken } from "./signature.js";

export const PROTOCOL_VERSION = 4;
export const UI_ROLE = "operator";
export const UI_CLIENT = {
  id: "openclaw-control-ui",
  mode: "webchat",
  version: "gatehouse-control-ui/0.1.0",
  platform: "web",
  deviceFamily: "browser",
};

const PAIRING_RETRY_MS = 2000;
const CHALLENGE_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 15_000;

/** Refusals about these credentials are fixed by pasting the gateway's shared token. */
const TOKEN_CREDENTIALS = new Set(["gateway-token", "gateway-password", "device-token"]);

/** The error table's row for a code (served by the gateway), or null for a code it does not know. */
function meaningOf(code) {
  return Object.hasOwn(ERROR_MEANINGS, code) ? ERROR_MEANINGS[code] : null;
}

/**
 * A short name for this browser profile, shown in device lists: "Control UI · Chrome on Linux ·
 * 3fa2c1". Every profile has its own key, so the key's first characters tell two profiles of the
 * same browser apart (and match the short id the device lists show).
 */
export function browserDisplayName(ua = navigator.userAgent, deviceId = "") {
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "browser";
  const os = /Windows/.test(ua)
    ? "Windows"
    : /Android/.test(ua)
      ? "Android"
      : /iPhone|iPad/.test(ua)
        ? "iOS"
        : /Mac OS X/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  const id = deviceId ? ` · ${deviceId.slice(0, 6)}` : "";
  return `Control UI · ${browser}${os ? ` on ${os}` : ""}${id}`;
}

/** An error answered by the gateway: `code` (wire), `details.code` (Gatehouse's own) and the message. */
export class GatewayRequestError extends Error {
  constructor(error) {
    super(error?.message ?? "request failed");
    this.name = "GatewayRequestError";
    this.code = error?.code ?? "UNAVAILABLE";
    this.details = error?.details ?? {};
  }
}

/**
 * One logical connection to the gateway. `onState(state)` hears every state change:
 *   {kind: "connecting", url}
 *   {kind: "connected", hello}
 *   {kind: "pairing", requestId, reason, revokedRole, message, command, requestedScopes, approvedScopes}
 *   {kind: "refused", code, message, needsToken}
 *   {kind: "disconnected", code, reason, message, retryAtMs}
 * `onEvent(event, payload)` hears gateway events once connected.
 */
export class GatewayConnection {
  constructor({ url, identity, sharedToken, onState, onEvent }) {
    this.url = url;
    this.identity = identity;
    this.sharedToken = sharedToken;
    this.onState = onState;
    this.onEvent = onEvent;
    this.ws = null;
    this.state = { kind: "connecting", url };
    this.pending = new Map();
    this.nextId = 1;
    this.timer = null;
    this.backoffMs = 1000;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, "bye");
  }

  /** Drops the current socket (if any) and connects again now. */
  retryNow() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "reconnect");
    this.stopped = false;
    this.open();
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  open() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (this.state.kind !== "pairing") this.setState({ kind: "connecting", url: this.url });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect({ code: 0, reason: "", message: `cannot open ${this.url}: ${err.message}` });
      return;
    }
    this.ws = ws;
    const conn = { ws, challenged: false, connectId: null, outcome: null };
    const challengeTimer = setTimeout(() => ws.close(4000, "no challenge"), CHALLENGE_TIMEOUT_MS);
    ws.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.type === "event" && frame.event === "connect.challenge" && !conn.challenged) {
        conn.challenged = true;
        clearTimeout(challengeTimer);
        this.sendConnect(conn, frame.payload).catch((err) => {
          conn.outcome = "refused";
          this.setState({ kind: "refused", code: "CLIENT_ERROR", message: err.message, needsToken: false });
          ws.close(1000, "client error");
        });
      } else if (frame.type === "res" && frame.id === conn.connectId) {
        void this.onConnectResponse(conn, frame);
      } else if (frame.type === "res") {
        const p = this.pending.get(frame.id);
        if (!p) return;
        this.pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.payload);
        else p.reject(new GatewayRequestError(frame.error));
      } else if (frame.type === "event" && conn.outcome === "connected") {
        this.onEvent(frame.event, frame.payload);
      }
    };
    ws.onclose = (e) => {
      clearTimeout(challengeTimer);
      void this.onClose(conn, e);
    };
  }

  async sendConnect(conn, challenge) {
    const nonce = String(challenge?.nonce ?? "");
    const shared = this.sharedToken() || "";
    const stored = await loadDeviceToken(this.identity.deviceId, UI_ROLE);
    const auth = {};
    if (shared) auth.token = shared;
    if (stored?.token) auth.deviceToken = stored.token;
    // Sign with our clock unless it is far off the gateway's (a skewed clock must not lock us out).
    const serverTs = Number(challenge?.ts);
    const signedAt =
      Number.isFinite(serverTs) && Math.abs(Date.now() - serverTs) > 60_000 ? serverTs : Date.now();
    const payload = buildSignaturePayloadV3({
      deviceId: this.identity.deviceId,
      clientId: UI_CLIENT.id,
      clientMode: UI_CLIENT.mode,
      role: UI_ROLE,
      scopes: UI_SCOPES,
      signedAtMs: signedAt,
      token: signedToken(auth),
      nonce,
      platform: UI_CLIENT.platform,
      deviceFamily: UI_CLIENT.deviceFamily,
    });
    const signature = await signPayload(this.identity, payload);
    conn.connectId = `connect-${this.nextId++}`;
    const params = {
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client: { ...UI_CLIENT, displayName: browserDisplayName(navigator.userAgent, this.identity.deviceId) },
      role: UI_ROLE,
      scopes: UI_SCOPES,
      device: {
        id: this.identity.deviceId,
        publicKey: this.identity.publicKey,
        signature,
        signedAt,
        nonce,
      },
      ...(Object.keys(auth).length > 0 ? { auth } : {}),
      locale: navigator.language,
      userAgent: navigator.userAgent,
    };
    if (conn.ws.readyState === WebSocket.OPEN) {
      conn.ws.send(JSON.stringify({ type: "req", id: conn.connectId, method: "connect", params }));
    }
  }

  async onConnectResponse(conn, frame) {
    if (frame.ok) {
      const hello = frame.payload;
      if (hello?.auth?.deviceToken) {
        await storeDeviceToken(this.identity.deviceId, UI_ROLE, {
          token: hello.auth.deviceToken,
          issuedAtMs: hello.auth.issuedAtMs ?? Date.now(),
        });
      }
      conn.outcome = "connected";
      this.backoffMs = 1000;
      this.setState({ kind: "connected", hello });
      return;
    }
    const error = frame.error ?? {};
    const details = error.details ?? {};
    const code = details.code ?? error.code;
    if (code === "PAIRING_REQUIRED") {
      conn.outcome = "pairing";
      const requestId = details.requestId ?? null;
      const role = details.requestedRole ?? UI_ROLE;
      // A role still listed as approved but not covering us is a revoked one: the story to tell is
      // the revoke, not the wire's generic "higher role" wording.
      const revoked =
        details.reason === "role-upgrade" &&
        Array.isArray(details.approvedRoles) &&
        details.approvedRoles.includes(role);
      this.setState({
        kind: "pairing",
        requestId,
        reason: details.reason ?? "not-paired",
        revokedRole: revoked ? role : null,
        message: error.message,
        command: requestId ? `gatehouse devices approve ${requestId}` : "gatehouse devices list",
        requestedScopes: details.requestedScopes ?? UI_SCOPES,
        approvedScopes: details.approvedScopes ?? null,
        retryMs: error.retryAfterMs ?? PAIRING_RETRY_MS,
      });
      return;
    }
    if (code === "AUTH_DEVICE_TOKEN_MISMATCH") {
      // Our stored device token was revoked or rotated: drop it; with the shared token we may try again.
      await clearDeviceToken(this.identity.deviceId, UI_ROLE);
      if (this.sharedToken()) {
        conn.outcome = "retry";
        return;
      }
    }
    const meaning = meaningOf(code);
    if (meaning?.retry === "wait") {
      conn.outcome = "backoff";
      conn.retryMs = error.retryAfterMs ?? 30_000;
      conn.message = error.message;
      return;
    }
    conn.outcome = "refused";
    this.setState({
      kind: "refused",
      code,
      message: error.message ?? "the gateway refused the connection",
      needsToken: TOKEN_CREDENTIALS.has(meaning?.credential),
      remedy: meaning?.remedy ?? null,
    });
  }

  async onClose(conn, e) {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GatewayRequestError({ code: "UNAVAILABLE", message: "connection closed" }));
      this.pending.delete(id);
    }
    if (this.ws !== conn.ws) return; // replaced by retryNow()
    this.ws = null;
    if (this.stopped) return;
    if (conn.outcome === "pairing") {
      this.timer = setTimeout(() => this.open(), this.state.retryMs ?? PAIRING_RETRY_MS);
      return;
    }
    if (conn.outcome === "refused") return; // the person has to act (token, clock, origin)
    if (conn.outcome === "retry") {
      this.timer = setTimeout(() => this.open(), 200);
      return;
    }
    if (conn.outcome === "backoff") {
      this.scheduleReconnect({ code: e.code, reason: e.reason, message: conn.message }, conn.retryMs);
      return;
    }
    if (!conn.challenged) {
      // The upgrade itself failed: the gateway is down, or it refused this page (Origin or Host).
      const up = await fetch("/healthz", { cache: "no-store" }).then(
        (r) => r.ok,
        () => false,
      );
      if (up) {
        this.setState({
          kind: "refused",
          code: "UPGRADE_REFUSED",
          message:
            "The gateway is up but refused this page's WebSocket: this page's origin is not the gateway's own " +
            "and is not listed in gateway.controlUi.allowedOrigins, or the Host is not one of the gateway's names.",
          needsToken: false,
        });
        return;
      }
      this.scheduleReconnect({ code: e.code, reason: e.reason, message: "The gateway is not reachable." });
      return;
    }
    const message =
      e.code === 4001
        ? `The gateway closed this session: ${e.reason || "credentials changed"}.`
        : e.code === 1012
          ? "The gateway is shutting down or restarting."
          : `The connection closed${e.code ? ` (${e.code}${e.reason ? `: ${e.reason}` : ""})` : ""}.`;
    this.scheduleReconnect({ code: e.code, reason: e.reason, message }, e.code === 1012 ? 1000 : undefined);
  }

  scheduleReconnect(info, delayMs) {
    const delay = delayMs ?? this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.setState({ kind: "disconnected", ...info, retryAtMs: Date.now() + delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** Sends a request; resolves with its payload or rejects with a GatewayRequestError. */
  request(method, params = {}) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state.kind !== "connected") {
      return Promise.reject(new GatewayRequestError({ code: "UNAVAILABLE", message: "not connected" }));
    }
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayRequestError({ code: "TIMEOUT", message: `${method}: no answer in time` }));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }
}
