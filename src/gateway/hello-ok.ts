/**
 * The hello-ok answer as text. Most of its bytes (the method and event lists, the policy limits)
 * are the same for every connect of a gateway, so they are serialized once, when the gateway is
 * made, and each connect serializes only its own part (ids, uptime, auth) and appends them.
 */
import { NODE_INVOKE_REQUEST_EVENT, WIRE_EVENTS, type WireEventName } from "../protocol/events.js";
import { MAX_BUFFERED_BYTES, MAX_PAYLOAD_BYTES, TICK_INTERVAL_MS } from "./limits.js";
import type { Session } from "./handshake.js";

/**
 * Events this gateway advertises in hello-ok: every one it sends but a node's invoke request,
 * which is addressed to one node, never subscribed to.
 */
const GATEWAY_EVENTS: readonly WireEventName[] = WIRE_EVENTS.filter((e) => e !== NODE_INVOKE_REQUEST_EVENT);

/** What every hello-ok of one gateway says alike, as the JSON members that end its payload. */
export interface HelloConstants {
  /** `,"features":{...},"policy":{...}`: appended inside the payload object. */
  readonly tail: string;
}

/** The constant members for a gateway serving `methods` (its method table's names). */
export function helloConstants(methods: Iterable<string>): HelloConstants {
  const features = { methods: [...methods].sort(), events: GATEWAY_EVENTS };
  const policy = {
    maxPayload: MAX_PAYLOAD_BYTES,
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    tickIntervalMs: TICK_INTERVAL_MS,
  };
  return { tail: `,"features":${JSON.stringify(features)},"policy":${JSON.stringify(policy)}` };
}

/** What one connect's hello-ok says of itself. */
export interface HelloOwn {
  requestId: string;
  version: string;
  connId: string;
  uptimeMs: number;
  session: Session;
}

/** The `res` frame answering a connect with hello-ok, as the text sent. */
export function helloOkFrame(own: HelloOwn, constants: HelloConstants): string {
  const { session } = own;
  const token = session.deviceToken;
  const frame = {
    type: "res",
    id: own.requestId,
    ok: true,
    payload: {
      type: "hello-ok",
      protocol: session.protocol,
      server: { version: own.version, connId: own.connId },
      snapshot: { uptimeMs: own.uptimeMs, stateVersion: { presence: 0, health: 0 } },
      auth: {
        method: session.authMethod,
        role: session.role,
        scopes: session.scopes,
        ...(token ? { deviceToken: token.token, issuedAtMs: token.issuedAtMs } : {}),
        // A setup-code pairing hands off the token with the whole profile it carries (§4.6).
        ...(token && session.authMethod === "setup-code"
          ? {
              deviceTokens: [
                {
                  deviceToken: token.token,
                  role: session.role,
                  scopes: token.scopes,
                  issuedAtMs: token.issuedAtMs,
                },
              ],
            }
          : {}),
      },
      // Gatehouse's own field: a node learns which surface it exposes and which request waits.
      ...(session.nodeSurface ? { nodeSurface: session.nodeSurface } : {}),
    },
  };
  const text = JSON.stringify(frame);
  // The text ends with the payload's and the frame's closing braces: the constant members go
  // before them, so they are the payload's last members.
  return `${text.slice(0, -2)}${constants.tail}}}`;
}
