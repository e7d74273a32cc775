import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { IdentityError } from "../../src/identity/errors.js";
import { loadIdentity, loadOrCreateIdentity } from "../../src/identity/file-store.js";
import {
  generateIdentity,
  identityFromPrivateKey,
  parsePrivateKeyPem,
  publicKeyFromRaw,
  signPayload,
  verifyPayload,
} from "../../src/identity/keys.js";

const tempDirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-identity-test-"));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

function pkcs8Pem(kind: "ed25519" | "x25519"): string {
  const { privateKey } = kind === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("x25519");
  return privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** The base64 body lines of a PEM block: what must never reach an error message. */
function pemBodyLines(pem: string): string[] {
  return pem.split("\n").filter((l) => l.length > 0 && !l.startsWith("-----"));
}

function assertMalformed(path: string, secretPem: string): void {
  const before = readFileSync(path, "utf8");
  let caught: unknown;
  try {
    loadOrCreateIdentity(path);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof IdentityError, `expected IdentityError, got ${inspect(caught)}`);
  assert.equal(caught.code, "IDENTITY_MALFORMED");
  assert.equal(caught.path, path);
  const rendered = `${caught.message}\n${caught.stack ?? ""}\n${inspect(caught)}`;
  for (const line of pemBodyLines(secretPem)) {
    assert.ok(!rendered.includes(line), "error text contains private key material");
  }
  assert.ok(!rendered.includes("PRIVATE KEY"), "error text mentions the PEM block");
  // A malformed identity is reported, never silently replaced.
  assert.equal(readFileSync(path, "utf8"), before);
}

describe("loadOrCreateIdentity", () => {
  test("creates a 0600 file in a 0700 directory; a second call returns the same identity", () => {
    const dir = freshDir();
    const path = join(dir, "state", "identity", "device.json");
    const first = loadOrCreateIdentity(path);
    assert.equal(mode(path), 0o600);
    assert.equal(mode(join(dir, "state", "identity")), 0o700);
    assert.equal(mode(join(dir, "state")), 0o700);

    const file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    assert.equal(file.version, 1);
    assert.equal(file.deviceId, first.deviceId);
    assert.equal(file.publicKeyPem, first.publicKeyPem);
    assert.match(String(file.privateKeyPem), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(typeof file.createdAtMs, "number");

    const second = loadOrCreateIdentity(path);
    assert.equal(second.deviceId, first.deviceId);
    assert.equal(second.publicKey, first.publicKey);
    assert.equal(second.createdAtMs, first.createdAtMs);
    assert.equal(loadIdentity(path).deviceId, first.deviceId);
    assert.deepEqual(readdirSync(join(dir, "state", "identity")), ["device.json"]);
  });

  test("the reloaded private key signs for the original public key", () => {
    const path = join(freshDir(), "device.json");
    const first = loadOrCreateIdentity(path);
    const again = loadOrCreateIdentity(path);
    const key = publicKeyFromRaw(Buffer.from(first.publicKey, "base64url"));
    assert.ok(key);
    assert.equal(verifyPayload(key, "hello", signPayload(again, "hello")), true);
  });

  test("loadIdentity on a missing file throws IDENTITY_UNREADABLE and creates nothing", () => {
    const path = join(freshDir(), "missing.json");
    assert.throws(
      () => loadIdentity(path),
      (err: unknown) =>
        err instanceof IdentityError && err.code === "IDENTITY_UNREADABLE" && err.path === path,
    );
    assert.equal(existsSync(path), false);
  });

  test("the file's deviceId field is ignored: the id is re-derived from the key", () => {
    const path = join(freshDir(), "device.json");
    const real = generateIdentity(1234);
    const privateKeyPem = real.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        deviceId: "0".repeat(64),
        publicKeyPem: real.publicKeyPem,
        privateKeyPem,
        createdAtMs: 1234,
      }),
      { mode: 0o600 },
    );
    const loaded = loadOrCreateIdentity(path);
    assert.equal(loaded.deviceId, real.deviceId);
    assert.equal(loaded.deviceId, identityFromPrivateKey(parsePrivateKeyPem(privateKeyPem), 0).deviceId);
    assert.notEqual(loaded.deviceId, "0".repeat(64));
    assert.equal(loaded.createdAtMs, 1234);
  });

  describe("malformed files throw IDENTITY_MALFORMED without leaking the key", () => {
    const secret = pkcs8Pem("ed25519");
    const cases: [string, string, string][] = [
      ["truncated JSON", JSON.stringify({ version: 1, privateKeyPem: secret }).slice(0, -5), secret],
      ["empty file", "", secret],
      ["JSON null", "null", secret],
      ["JSON array", "[]", secret],
      ["wrong version", JSON.stringify({ version: 2, privateKeyPem: secret, createdAtMs: 1 }), secret],
      ["version as string", JSON.stringify({ version: "1", privateKeyPem: secret }), secret],
      ["missing private key", JSON.stringify({ version: 1, deviceId: "x" }), secret],
      [
        "garbage private key",
        JSON.stringify({ version: 1, privateKeyPem: "-----BEGIN PRIVATE KEY-----\nxx" }),
        secret,
      ],
    ];
    for (const [name, text, leaked] of cases) {
      test(name, () => {
        const path = join(freshDir(), "device.json");
        writeFileSync(path, text);
        assertMalformed(path, leaked);
      });
    }

    test("non-Ed25519 private key (X25519)", () => {
      const other = pkcs8Pem("x25519");
      const path = join(freshDir(), "device.json");
      writeFileSync(path, JSON.stringify({ version: 1, privateKeyPem: other, createdAtMs: 1 }));
      assertMalformed(path, other);
    });

    test("non-Ed25519 private key (RSA)", () => {
      const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
        .privateKey.export({ format: "pem", type: "pkcs8" })
        .toString();
      const path = join(freshDir(), "device.json");
      writeFileSync(path, JSON.stringify({ version: 1, privateKeyPem: rsa, createdAtMs: 1 }));
      assertMalformed(path, rsa);
    });

    test("a public key where the private key belongs", () => {
      const id = generateIdentity();
      const path = join(freshDir(), "device.json");
      writeFileSync(path, JSON.stringify({ version: 1, privateKeyPem: id.publicKeyPem, createdAtMs: 1 }));
      assertMalformed(path, secret);
    });
  });
});

/** Runs `count` real node processes that each call loadOrCreateIdentity(path) at the same instant. */
async function race(path: string, count: number): Promise<string[]> {
  const moduleUrl = new URL("../../src/identity/file-store.js", import.meta.url).href;
  const script = [
    "const { loadOrCreateIdentity } = await import(process.env.GH_MODULE);",
    "const startAt = Number(process.env.GH_START_AT);",
    "await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));",
    "process.stdout.write(loadOrCreateIdentity(process.env.GH_PATH).deviceId + '\\n');",
  ].join("\n");
  // All children start loading at the same wall-clock instant, after they have all booted.
  const env = { ...process.env, GH_MODULE: moduleUrl, GH_PATH: path, GH_START_AT: String(Date.now() + 700) };
  const runs = Array.from(
    { length: count },
    () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env, stdio: "pipe" });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      }),
  );
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, `child failed: ${r.stderr}`);
  return results.map((r) => r.stdout.trim());
}

describe("cross-process creation race", () => {
  for (let round = 1; round <= 3; round++) {
    test(`round ${round}: 8 processes on one fresh path agree on one identity`, async () => {
      const dir = join(freshDir(), "state");
      mkdirSync(dir);
      const path = join(dir, "device.json");
      const ids = await race(path, 8);
      assert.equal(ids.length, 8);
      for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(new Set(ids).size, 1, `different identities: ${ids.join(", ")}`);

      const file = JSON.parse(readFileSync(path, "utf8")) as { deviceId: string };
      assert.equal(file.deviceId, ids[0]);
      assert.equal(loadIdentity(path).deviceId, ids[0]);
      assert.equal(mode(path), 0o600);
      const entries = readdirSync(dir);
      assert.deepEqual(
        entries.filter((e) => e.endsWith(".tmp")),
        [],
      );
      assert.deepEqual(entries, ["device.json"]);
    });
  }
});
