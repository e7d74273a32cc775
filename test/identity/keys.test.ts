import { describe, test } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import assert from "node:assert/strict";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import {
  decodePublicKeyBytes,
  deviceIdFromRawKey,
  fromBase64Any,
  generateIdentity,
  identityFromPrivateKey,
  identityFromPrivateKeyPem,
  parsePrivateKeyPem,
  publicKeyFromRaw,
  publicKeyPemFromRaw,
  rawPublicKey,
  signPayload,
  toBase64Url,
  verifyPayload,
  verifyPayloadOffLoop,
} from "../../src/identity/keys.js";

const SPKI_PREFIX_HEX = "302a300506032b6570032100";

/** Raw key bytes computed independently: SPKI DER minus the 12-byte Ed25519 prefix. */
function rawFromSpki(publicKeyPem: string): Buffer {
  const der = createPublicKey(publicKeyPem).export({ format: "der", type: "spki" });
  assert.equal(der.subarray(0, 12).toString("hex"), SPKI_PREFIX_HEX);
  assert.equal(der.length, 44);
  return der.subarray(12);
}

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** RFC 8032 §7.1 TEST 1. */
const RFC8032 = {
  secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  signatureOfEmpty:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
};

function rfcIdentity() {
  const pkcs8 = Buffer.from("302e020100300506032b657004220420" + RFC8032.secret, "hex");
  return identityFromPrivateKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }), 0);
}

describe("deviceId derivation", () => {
  test("deviceId is the lowercase hex sha256 of the raw 32-byte key", () => {
    for (let i = 0; i < 5; i++) {
      const id = generateIdentity();
      const raw = rawFromSpki(id.publicKeyPem);
      assert.equal(raw.length, 32);
      assert.equal(id.deviceId, sha256Hex(raw));
      assert.match(id.deviceId, /^[0-9a-f]{64}$/);
      assert.equal(deviceIdFromRawKey(raw), id.deviceId);
    }
  });

  test("RFC 8032 key: wire key, deviceId and signature match the known vector", () => {
    const id = rfcIdentity();
    const raw = Buffer.from(RFC8032.public, "hex");
    assert.equal(id.publicKey, raw.toString("base64url"));
    assert.equal(id.deviceId, sha256Hex(raw));
    assert.equal(signPayload(id, ""), Buffer.from(RFC8032.signatureOfEmpty, "hex").toString("base64url"));
  });

  test("rawPublicKey gives the same bytes for the private and the public KeyObject", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    assert.deepEqual(rawPublicKey(privateKey), rawPublicKey(publicKey));
    assert.equal(rawPublicKey(publicKey).length, 32);
  });

  test("the paths around OpenSSL's codecs give what its DER and PEM give: raw bytes, PEM text, KeyObject", () => {
    // publicKeyPemFromRaw and publicKeyFromRaw skip OpenSSL 3's encoders and decoders (about
    // 100 µs a key); for every key they must agree with them byte for byte.
    for (let i = 0; i < 50; i++) {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const der = publicKey.export({ format: "der", type: "spki" });
      const raw = der.subarray(12);
      assert.deepEqual(rawPublicKey(privateKey), raw);
      assert.deepEqual(rawPublicKey(publicKey), raw);
      const pem = publicKey.export({ format: "pem", type: "spki" });
      assert.equal(publicKeyPemFromRaw(raw), pem);
      const identity = identityFromPrivateKey(privateKey, 0);
      assert.equal(identity.publicKeyPem, pem);
      assert.equal(identity.publicKey, raw.toString("base64url"));
      const key = publicKeyFromRaw(raw)!;
      assert.ok(key.equals(publicKey), "the same key as from DER");
      const sig = signPayload({ privateKey }, `payload ${i}`);
      assert.equal(verifyPayload(key, `payload ${i}`, sig), true);
      assert.equal(verifyPayload(key, `payload ${i}!`, sig), false);
    }
  });

  test("rawPublicKey refuses a key that is not Ed25519", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    assert.throws(() => rawPublicKey(publicKey), TypeError);
  });

  test("the id is derived from the key: different keys, different ids", () => {
    const ids = new Set(Array.from({ length: 10 }, () => generateIdentity().deviceId));
    assert.equal(ids.size, 10);
  });

  test("generating 20,000 identities while the garbage collector runs often never hangs", async () => {
    // Node 20 exports a JWK under the key's lock while allocating; a collection then can run the
    // destructor of the generateKeyPairSync job that made the key, which takes the same lock, and
    // the process hangs for good (it did while seeding the paired-handshake bench). With the
    // export through JWK this child hangs in most runs (6 of 7 at 20,000 identities); a small
    // young generation makes collections frequent.
    const keys = new URL("../../src/identity/keys.js", import.meta.url).href;
    const script =
      `const { generateIdentity } = await import(${JSON.stringify(keys)});` +
      `const ids = new Set(); for (let i = 0; i < 20000; i++) ids.add(generateIdentity().deviceId);` +
      `process.stdout.write(String(ids.size));`;
    const child = spawn(process.execPath, ["--max-semi-space-size=1", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    assert.equal(signal, null, "the child hung generating identities and was killed after 90 s");
    assert.equal(code, 0);
    assert.equal(out, "20000", "20,000 distinct device ids");
  });
});

describe("an identity file's private key", () => {
  // identityFromPrivateKeyPem reads the PKCS#8 form itself and imports the seed as a JWK (every
  // command and sub-agent pays for it); for every key it must give what OpenSSL's decoder gives.
  const viaOpenSsl = (pem: string) => {
    const key = createPrivateKey({ key: pem, format: "pem" });
    const raw = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(12);
    return { key, raw };
  };

  test("the same key, id, wire key, PEM and signatures as through OpenSSL's PEM decoder", () => {
    for (let i = 0; i < 50; i++) {
      const pem = generateKeyPairSync("ed25519")
        .privateKey.export({ format: "pem", type: "pkcs8" })
        .toString();
      const expected = viaOpenSsl(pem);
      const identity = identityFromPrivateKeyPem(pem, 7);
      assert.ok(identity.privateKey.equals(expected.key), "the same private key");
      assert.ok(parsePrivateKeyPem(pem).equals(expected.key), "parsePrivateKeyPem: the same private key");
      assert.equal(identity.deviceId, sha256Hex(expected.raw));
      assert.equal(identity.publicKey, expected.raw.toString("base64url"));
      assert.equal(
        identity.publicKeyPem,
        createPublicKey(expected.key).export({ format: "pem", type: "spki" }),
      );
      assert.equal(identity.createdAtMs, 7);
      // Ed25519 signatures are deterministic: the same key signs the same bytes.
      assert.equal(
        signPayload(identity, `payload ${i}`),
        signPayload({ privateKey: expected.key }, `payload ${i}`),
      );
    }
  });

  test("RFC 8032's key through its PKCS#8 PEM: the known public key and signature", () => {
    const der = Buffer.from("302e020100300506032b657004220420" + RFC8032.secret, "hex");
    const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString("base64")}\n-----END PRIVATE KEY-----\n`;
    const identity = identityFromPrivateKeyPem(pem, 0);
    assert.equal(identity.publicKey, Buffer.from(RFC8032.public, "hex").toString("base64url"));
    assert.equal(
      signPayload(identity, ""),
      Buffer.from(RFC8032.signatureOfEmpty, "hex").toString("base64url"),
    );
  });

  test("other spellings of the same key load to the same identity: CRLF, wrapped, with text before it", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
    const expected = sha256Hex(raw);
    const b64 = der.toString("base64");
    const pem = (body: string, eol = "\n") =>
      `-----BEGIN PRIVATE KEY-----${eol}${body}${eol}-----END PRIVATE KEY-----${eol}`;
    const forms = {
      crlf: pem(b64, "\r\n"),
      wrapped: pem(b64.match(/.{1,16}/g)!.join("\n")),
      indented: `  ${pem(b64)}  \n`,
      // Text before the block, as openssl pkcs12 writes it: not the form read directly, so
      // OpenSSL's decoder reads it.
      "with bag attributes": `Bag Attributes\n    friendlyName: device\n${pem(b64)}`,
    };
    for (const [name, text] of Object.entries(forms)) {
      assert.equal(identityFromPrivateKeyPem(text, 0).deviceId, expected, name);
      assert.ok(parsePrivateKeyPem(text).equals(privateKey), name);
    }
  });

  test("anything that is not an Ed25519 private key is refused", () => {
    const x25519 = generateKeyPairSync("x25519")
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const ed = generateKeyPairSync("ed25519");
    const truncated = ed.privateKey
      .export({ format: "der", type: "pkcs8" })
      .subarray(0, 47)
      .toString("base64");
    const bad = {
      x25519,
      rsa,
      "a public key": ed.publicKey.export({ format: "pem", type: "spki" }).toString(),
      truncated: `-----BEGIN PRIVATE KEY-----\n${truncated}\n-----END PRIVATE KEY-----\n`,
      garbage: "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
      empty: "",
    };
    for (const [name, text] of Object.entries(bad)) {
      assert.throws(() => identityFromPrivateKeyPem(text, 0), name);
      assert.throws(() => parsePrivateKeyPem(text), name);
    }
  });
});

describe("public key wire form", () => {
  test("base64url without padding, decoding to the 32 raw bytes", () => {
    const id = generateIdentity();
    assert.match(id.publicKey, /^[A-Za-z0-9_-]{43}$/);
    const bytes = Buffer.from(id.publicKey, "base64url");
    assert.equal(bytes.length, 32);
    assert.deepEqual(bytes, rawFromSpki(id.publicKeyPem));
    assert.equal(toBase64Url(bytes), id.publicKey);
  });

  test("decodePublicKeyBytes accepts base64url, standard base64 (padded or not) and PEM of the same key", () => {
    const id = generateIdentity();
    const raw = rawFromSpki(id.publicKeyPem);
    const std = raw.toString("base64");
    const forms = [
      id.publicKey,
      std,
      std.replace(/=+$/, ""),
      id.publicKeyPem,
      `  ${id.publicKeyPem}\n\n`,
      ` ${id.publicKey} `,
    ];
    for (const form of forms) {
      assert.deepEqual(decodePublicKeyBytes(form), raw, JSON.stringify(form));
    }
  });

  test("decodePublicKeyBytes rejects garbage and empty input", () => {
    const bad = [
      "",
      "   ",
      "!!!!",
      "not a key",
      "====",
      "A",
      "abc$def",
      "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n",
      "BEGIN",
    ];
    for (const text of bad) {
      assert.equal(decodePublicKeyBytes(text), null, JSON.stringify(text));
    }
  });

  test("a PEM key of another algorithm (X25519, RSA) is not accepted as an Ed25519 key", () => {
    // X25519 SPKI has the same length as Ed25519 SPKI: blindly cutting 12 bytes yields 32 bytes.
    const x25519 = generateKeyPairSync("x25519").publicKey.export({ format: "pem", type: "spki" }).toString();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .publicKey.export({ format: "pem", type: "spki" })
      .toString();
    for (const [name, pem] of [
      ["x25519", x25519],
      ["rsa", rsa],
    ] as const) {
      const bytes = decodePublicKeyBytes(pem);
      assert.equal(bytes, null, `${name} PEM decoded to ${bytes?.length} bytes`);
    }
  });

  test("publicKeyFromRaw accepts exactly 32 bytes", () => {
    const id = generateIdentity();
    const raw = Buffer.from(id.publicKey, "base64url");
    const key = publicKeyFromRaw(raw);
    assert.ok(key);
    assert.equal(key.asymmetricKeyType, "ed25519");
    assert.deepEqual(rawPublicKey(key), raw);
    for (const len of [0, 31, 33, 64]) {
      assert.equal(publicKeyFromRaw(Buffer.alloc(len, 7)), null, `${len} bytes`);
    }
    assert.equal(publicKeyFromRaw(raw.subarray(0, 31)), null);
    assert.equal(publicKeyFromRaw(Buffer.concat([raw, Buffer.from([0])])), null);
  });
});

describe("signatures", () => {
  const id = generateIdentity();
  const key = publicKeyFromRaw(Buffer.from(id.publicKey, "base64url"));
  assert.ok(key);
  const payload = "v3|dev|cli|cli|operator|operator.read|1700000000000||nonce-1||";
  const sig = signPayload(id, payload);
  const sigBytes = Buffer.from(sig, "base64url");

  test("signatures are base64url without padding, 64 bytes", () => {
    assert.match(sig, /^[A-Za-z0-9_-]{86}$/);
    assert.equal(sigBytes.length, 64);
  });

  test("verify in base64url and standard base64 (padded and unpadded) forms", () => {
    const std = sigBytes.toString("base64");
    assert.ok(std.endsWith("=="));
    assert.equal(verifyPayload(key, payload, sig), true);
    assert.equal(verifyPayload(key, payload, std), true);
    assert.equal(verifyPayload(key, payload, std.replace(/=+$/, "")), true);
  });

  test("a 63-byte or 65-byte signature fails", () => {
    assert.equal(verifyPayload(key, payload, toBase64Url(sigBytes.subarray(0, 63))), false);
    assert.equal(
      verifyPayload(key, payload, toBase64Url(Buffer.concat([sigBytes, Buffer.from([0])]))),
      false,
    );
  });

  test("garbage and empty signatures fail without throwing", () => {
    for (const s of ["", "!!!", "====", "a b", "x".repeat(200)]) {
      assert.equal(verifyPayload(key, payload, s), false, JSON.stringify(s));
    }
  });

  test("one flipped bit in the signature or payload fails", () => {
    const flipped = Buffer.from(sigBytes);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    assert.equal(verifyPayload(key, payload, toBase64Url(flipped)), false);
    assert.equal(verifyPayload(key, payload.replace("nonce-1", "nonce-2"), sig), false);
  });

  test("another key fails", () => {
    const other = publicKeyFromRaw(Buffer.from(generateIdentity().publicKey, "base64url"));
    assert.ok(other);
    assert.equal(verifyPayload(other, payload, sig), false);
  });

  test("the check off the event loop answers as the one on it, for every case above", async () => {
    const flipped = Buffer.from(sigBytes);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    const other = publicKeyFromRaw(Buffer.from(generateIdentity().publicKey, "base64url"))!;
    const cases: Array<[KeyObject, string, string]> = [
      [key, payload, sig],
      [key, payload, sigBytes.toString("base64")],
      [key, payload, toBase64Url(sigBytes.subarray(0, 63))],
      [key, payload, toBase64Url(flipped)],
      [key, payload.replace("nonce-1", "nonce-2"), sig],
      [other, payload, sig],
      ...["", "!!!", "====", "a b", "x".repeat(200)].map((s): [KeyObject, string, string] => [
        key,
        payload,
        s,
      ]),
    ];
    for (const [k, p, s] of cases) {
      const answer = verifyPayloadOffLoop(k, p, s);
      assert.ok(answer instanceof Promise);
      assert.equal(await answer, verifyPayload(k, p, s), JSON.stringify([p, s]));
    }
  });

  test("fromBase64Any decodes both alphabets and rejects non-base64", () => {
    assert.deepEqual(fromBase64Any(sig), sigBytes);
    assert.deepEqual(fromBase64Any(sigBytes.toString("base64")), sigBytes);
    assert.equal(fromBase64Any("a b"), null);
    assert.equal(fromBase64Any(""), null);
  });
});
