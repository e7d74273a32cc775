/**
 * The server's half of the WebSocket opening handshake (RFC 6455 §4.2): checks a client's upgrade
 * request and words the answer, 101 or a refusal. Pure but for hashing; no sockets. Refusals keep
 * the status codes and texts `ws` answered with, which the gateway served before it had its own.
 */
import { acceptFor } from "./accept.js";

/** The request line and headers an upgrade is judged on (Node's `IncomingMessage` fits). */
export interface UpgradeRequest {
  method?: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A request to accept (the accept key, the subprotocol to answer or null) or to refuse. */
export type UpgradeCheck =
  | { ok: true; accept: string; protocol: string | null }
  | { ok: false; status: 400 | 405; message: string; header: string };

/** Base64 of 16 bytes: 22 characters and two pads (as `ws` checks it). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** `upgrade` as one of a comma-separated list's tokens, in any case (a Connection header's). */
export const UPGRADE_TOKEN = /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i;
/** An RFC 7230 token, which a subprotocol name is. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks an upgrade request, in `ws`'s order: GET (else 405), `Upgrade: websocket`, `Connection`
 * holding `upgrade`, a Sec-WebSocket-Key of 16 bytes, Sec-WebSocket-Version 13 (a refusal names
 * it), a well-formed Sec-WebSocket-Protocol list (400 each). No extension is ever negotiated, so
 * Sec-WebSocket-Extensions is not read. Of the subprotocols offered, the first is answered, as `ws`
 * did: a browser that offered some fails a 101 naming none.
 */
export function checkUpgradeRequest(req: UpgradeRequest): UpgradeCheck {
  if (req.method !== "GET") return refuse(405, "Invalid HTTP method");
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== "string" || upgrade.toLowerCase() !== "websocket") {
    return refuse(400, "Invalid Upgrade header");
  }
  // Node's parser emits 'upgrade' only with this token present; checked here all the same.
  const connection = req.headers.connection;
  if (typeof connection !== "string" || !UPGRADE_TOKEN.test(connection)) {
    return refuse(400, "Invalid Connection header");
  }
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || !KEY.test(key)) {
    return refuse(400, "Missing or invalid Sec-WebSocket-Key header");
  }
  if (req.headers["sec-websocket-version"] !== "13") {
    return refuse(400, "Missing or invalid Sec-WebSocket-Version header", "Sec-WebSocket-Version: 13\r\n");
  }
  const offered = req.headers["sec-websocket-protocol"];
  let protocol: string | null = null;
  if (offered !== undefined) {
    protocol = typeof offered === "string" ? firstProtocol(offered) : null;
    if (protocol === null) return refuse(400, "Invalid Sec-WebSocket-Protocol header");
  }
  return { ok: true, accept: acceptFor(key), protocol };
}

/** The 101 answer's head, blank line included. */
export function switchingProtocols(accept: string, protocol: string | null): string {
  return (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    (protocol === null ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
    "\r\n"
  );
}

const STATUS_TEXT = { 400: "Bad Request", 405: "Method Not Allowed" } as const;

/** A refusal as `ws` wrote it: the status, `Connection: close`, the reason as the body. */
export function upgradeRefusal(refusal: Extract<UpgradeCheck, { ok: false }>): string {
  return (
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}\r\n` +
    "Connection: close\r\nContent-Type: text/html\r\n" +
    `Content-Length: ${Buffer.byteLength(refusal.message)}\r\n${refusal.header}\r\n${refusal.message}`
  );
}

function refuse(status: 400 | 405, message: string, header = ""): UpgradeCheck {
  return { ok: false, status, message, header };
}

/**
 * The first name of a Sec-WebSocket-Protocol list, or null when the list is malformed: names are
 * tokens separated by commas with optional spaces or tabs between, none empty, none twice.
 */
function firstProtocol(list: string): string | null {
  // `ws` refused whitespace at either end of the whole value; Node's parser trims it anyway.
  if (/^[ \t]|[ \t]$/.test(list)) return null;
  const seen = new Set<string>();
  for (const part of list.split(",")) {
    const name = part.replace(/^[ \t]+|[ \t]+$/g, "");
    if (!TOKEN.test(name) || seen.has(name)) return null;
    seen.add(name);
  }
  return seen.values().next().value ?? null;
}
