/**
 * The opening handshake's one computation both sides make (RFC 6455 §4.2.2): the
 * Sec-WebSocket-Accept value that proves a server read the client's Sec-WebSocket-Key.
 */
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
// The one-shot `hash`, not `createHash`: no Hash object per handshake (about 1 µs less each).
const { hash } = process.getBuiltinModule("node:crypto");

/** RFC 6455 §1.3: appended to the key before hashing it into Sec-WebSocket-Accept. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept a server must answer `key` with. */
export function acceptFor(key: string): string {
  return hash("sha1", key + ACCEPT_GUID, "base64");
}
