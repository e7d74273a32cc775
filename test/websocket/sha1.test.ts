/**
 * The WebSocket accept check's own SHA-1 (src/websocket/sha1.ts) gives node:crypto's digest for
 * every length around the block boundaries and for any UTF-8 text, and RFC 6455's example accept.
 */
import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { acceptFor } from "../../src/websocket/accept.js";
import { sha1Base64 } from "../../src/websocket/sha1.js";

const openssl = (text: string): string => createHash("sha1").update(text, "utf8").digest("base64");

describe("SHA-1 for the accept check", () => {
  it("answers RFC 6455's example key with its accept value (§1.3)", () => {
    assert.equal(acceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("gives FIPS 180's examples their digests", () => {
    const hex = (text: string) => Buffer.from(sha1Base64(text), "base64").toString("hex");
    assert.equal(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert.equal(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert.equal(
      hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    );
  });

  it("agrees with node:crypto for every length up to five blocks, ASCII and not", () => {
    for (let len = 0; len <= 320; len++) {
      const ascii = randomBytes(len).toString("base64").slice(0, len);
      assert.equal(sha1Base64(ascii), openssl(ascii), `ASCII text of ${len} bytes`);
      // Latin-1 characters above 0x7f take two bytes in UTF-8: lengths the scratch buffer cannot hold.
      const latin1 = randomBytes(len).toString("latin1");
      assert.equal(sha1Base64(latin1), openssl(latin1), `text of ${len} characters, not ASCII`);
    }
    assert.equal(sha1Base64("ключ🔑"), openssl("ключ🔑"));
  });

  it("gives the same answer again after a longer text (the reused buffers hold nothing over)", () => {
    const key = randomBytes(16).toString("base64");
    const first = acceptFor(key);
    sha1Base64("x".repeat(1000));
    sha1Base64("y".repeat(100));
    assert.equal(acceptFor(key), first);
    assert.equal(first, openssl(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
  });
});
