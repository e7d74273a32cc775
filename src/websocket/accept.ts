/**
 * The opening handshake's one computation both sides make (RFC 6455 §4.2.2): the
 * Sec-WebSocket-Accept value that proves a server read the client's Sec-WebSocket-Key.
 */
import { sha1Base64 } from "./sha1.js";

/** RFC 6455 §1.3: appended to the key before hashing it into Sec-WebSocket-Accept. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept a server must answer `key` with. */
export function acceptFor(key: string): string {
  return sha1Base64(key + ACCEPT_GUID);
}
