/**
 * SHA-1 (FIPS 180-4) for the one thing RFC 6455 uses it for: Sec-WebSocket-Accept, a proof that the
 * server read the handshake, not a security check. Computed here so that a client needs no
 * `node:crypto` to open a WebSocket (see `util/node-crypto.ts`); tested against `node:crypto`.
 */

/** The message schedule, the padded message and the digest, reused: one digest at a time on a thread. */
const w = new Int32Array(80);
/** Room for two blocks: the accept check's 60 bytes (key and GUID) take two once padded. */
const scratch = Buffer.alloc(128);
const digest = Buffer.alloc(20);
/** Each round's constant (FIPS 180-4 §4.2.1). */
const K = new Int32Array([0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6]);

/**
 * The SHA-1 digest of `text`'s UTF-8 bytes, in base64. Allocates no Buffer for texts of up to 119
 * bytes (a Buffer per call cost more than the hashing).
 */
export function sha1Base64(text: string): string {
  const size = Buffer.byteLength(text, "utf8");
  // The message, a 1 bit, zeros, and its length in bits (64-bit big-endian) fill whole 64-byte blocks.
  const end = (((size + 8) >>> 6) + 1) * 64;
  const msg = end <= scratch.length ? scratch.fill(0, 0, end) : Buffer.alloc(end);
  msg.write(text, 0, "utf8");
  msg[size] = 0x80;
  const bits = size * 8;
  msg.writeUInt32BE(Math.floor(bits / 0x1_0000_0000), end - 8);
  msg.writeUInt32BE(bits >>> 0, end - 4);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < end; off += 64) {
    for (let i = 0; i < 16; i++) {
      const p = off + i * 4;
      w[i] = (msg[p]! << 24) | (msg[p + 1]! << 16) | (msg[p + 2]! << 8) | msg[p + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      // Four rounds of 20 steps, each with its own function and constant: choose, parity, majority, parity.
      const round = i < 20 ? 0 : i < 40 ? 1 : i < 60 ? 2 : 3;
      const f = round === 0 ? (b & c) | (~b & d) : round === 2 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const t = (((a << 5) | (a >>> 27)) + f + e + K[round]! + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  digest.writeInt32BE(h0, 0);
  digest.writeInt32BE(h1, 4);
  digest.writeInt32BE(h2, 8);
  digest.writeInt32BE(h3, 12);
  digest.writeInt32BE(h4, 16);
  return digest.toString("base64");
}
