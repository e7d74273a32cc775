/**
 * The client's half of the WebSocket opening handshake (RFC 6455 §4.1): the HTTP/1.1 upgrade
 * request it writes and the checks on the server's answer. Pure but for hashing; no sockets.
 */
import { acceptFor } from "../websocket/accept.js";
import { WebSocketError } from "../websocket/errors.js";

/** A server's response head larger than this is refused (the limit Node's own HTTP parser uses). */
export const MAX_RESPONSE_HEAD = 16 * 1024;

/** Headers the handshake sets itself; a caller's spelling of them is dropped, as `ws` did. */
const OWN_HEADERS = new Set([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The upgrade request for `url` with the nonce `key` (base64 of 16 random bytes). A caller's
 * `Host` replaces the URL's (a proxy may need it); header names and values that could split the
 * request are refused with a TypeError before anything is written.
 */
export function upgradeRequest(
  url: URL,
  key: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  let host = url.host;
  let extra = "";
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (BAD_VALUE.test(value)) throw new TypeError(`invalid characters in the value of header ${name}`);
    const lower = name.toLowerCase();
    if (lower === "host") host = value;
    else if (!OWN_HEADERS.has(lower)) extra += `${name}: ${value}\r\n`;
  }
  return (
    `GET ${url.pathname}${url.search} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\n` +
    "Sec-WebSocket-Version: 13\r\n" +
    extra +
    "\r\n"
  );
}

/**
 * Checks the server's response head (everything before the blank line) against the key sent:
 * status 101, `Upgrade: websocket`, `Connection: upgrade`, the right Sec-WebSocket-Accept, and no
 * extension or subprotocol (the client offered none). Throws a {@link WebSocketError}.
 */
export function checkUpgradeResponse(head: string, key: string): void {
  const lines = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!status) throw invalid("the server's answer to the upgrade is not an HTTP/1.1 status line");
  const code = Number(status[1]);
  if (code !== 101) {
    const text = status[2] ? ` ${status[2].slice(0, 80)}` : "";
    throw new WebSocketError("UPGRADE_REFUSED", `the server refused the upgrade: HTTP ${code}${text}`, code);
  }
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw invalid("a malformed header line in the server's upgrade answer");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value);
  }
  if (fields.get("upgrade")?.toLowerCase() !== "websocket") {
    throw invalid("the server's 101 answer lacks Upgrade: websocket");
  }
  const connection = (fields.get("connection") ?? "").toLowerCase().split(",");
  if (!connection.some((t) => t.trim() === "upgrade")) {
    throw invalid("the server's 101 answer lacks Connection: upgrade");
  }
  const accept = fields.get("sec-websocket-accept");
  if (accept === undefined) throw invalid("the server's 101 answer lacks Sec-WebSocket-Accept");
  if (accept !== acceptFor(key))
    throw invalid("the server's Sec-WebSocket-Accept does not match the key sent");
  if (fields.has("sec-websocket-extensions")) {
    throw invalid("the server chose a WebSocket extension the client did not offer");
  }
  if (fields.has("sec-websocket-protocol")) {
    throw invalid("the server chose a subprotocol the client did not offer");
  }
}

function invalid(message: string): WebSocketError {
  return new WebSocketError("UPGRADE_INVALID", message);
}
