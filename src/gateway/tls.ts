/**
 * The gateway's TLS certificate: the configured PEM pair, or a self-signed one generated in the
 * state dir on first start and kept (so clients' pins stay valid across restarts). Clients pin the
 * certificate's SHA-256 (hex, colons stripped, lower case; reference §1.1).
 */
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";

/** What the server needs, plus where it came from. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER), 64 lower-case hex digits. */
  fingerprint: string;
  certPath: string;
  keyPath: string;
  /** True when this call created the certificate. */
  generated: boolean;
  /** The certificate's expiry. */
  validTo: string;
}

/** Why the certificate or key cannot be used; the message names the file and the fix. */
export class TlsSetupError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "TlsSetupError";
  }
}

/** Where an auto-generated pair lives in a state dir. */
export function generatedTlsPaths(stateDir: string): { certPath: string; keyPath: string } {
  const dir = join(stateDir, "tls");
  return { certPath: join(dir, "gateway-cert.pem"), keyPath: join(dir, "gateway-key.pem") };
}

/** SHA-256 of a PEM certificate, as clients pin it. */
export function certificateFingerprint(certPem: string | Buffer): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** Roughly ten years: the pin, not a CA, is what clients trust; a short life would only break pins. */
const GENERATED_VALIDITY_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/**
 * The certificate the gateway serves: `certPath`/`keyPath` when given (relative to `stateDir`),
 * else the generated pair in `<stateDir>/tls/`, created now when absent and `autoGenerate` is on.
 * `hosts` (the bind addresses) go into the generated certificate's subjectAltName.
 */
export async function loadOrCreateTls(options: {
  stateDir: string;
  certPath?: string;
  keyPath?: string;
  autoGenerate: boolean;
  hosts: readonly string[];
}): Promise<TlsMaterial> {
  if (options.certPath !== undefined && options.keyPath !== undefined) {
    return readPair(
      resolve(options.stateDir, options.certPath),
      resolve(options.stateDir, options.keyPath),
      false,
    );
  }
  const { certPath, keyPath } = generatedTlsPaths(options.stateDir);
  if (existsSync(certPath) || existsSync(keyPath)) return readPair(certPath, keyPath, false);
  if (!options.autoGenerate) {
    throw new TlsSetupError(
      `gateway.tls is enabled but there is no certificate: set gateway.tls.certPath and keyPath, or autoGenerate`,
      certPath,
    );
  }
  await generatePair(certPath, keyPath, options.hosts);
  return readPair(certPath, keyPath, true);
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TlsSetupError(`cannot read the TLS ${what} ${path} (${code})`, path);
  }
}

function readPair(certPath: string, keyPath: string, generated: boolean): TlsMaterial {
  const cert = readFile(certPath, "certificate");
  const key = readFile(keyPath, "private key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new TlsSetupError(`${certPath} is not a PEM certificate`, certPath);
  }
  try {
    const pub = createPublicKey(createPrivateKey(key)).export({ type: "spki", format: "der" });
    const certPub = x509.publicKey.export({ type: "spki", format: "der" });
    if (!pub.equals(certPub)) {
      throw new TlsSetupError(
        `the private key ${keyPath} does not belong to the certificate ${certPath}`,
        keyPath,
      );
    }
  } catch (err) {
    if (err instanceof TlsSetupError) throw err;
    throw new TlsSetupError(`${keyPath} is not a PEM private key (or it is encrypted)`, keyPath);
  }
  return {
    cert,
    key,
    fingerprint: x509.fingerprint256.replace(/:/g, "").toLowerCase(),
    certPath,
    keyPath,
    generated,
    validTo: x509.validTo,
  };
}

async function generatePair(certPath: string, keyPath: string, hosts: readonly string[]): Promise<void> {
  const dir = dirname(certPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const name = hostname() || "gatehouse";
  const altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }> = [
    { type: 2, value: "localhost" },
    { type: 7, ip: "127.0.0.1" },
    { type: 7, ip: "::1" },
  ];
  if (isValidDnsName(name)) altNames.push({ type: 2, value: name });
  for (const h of hosts) {
    if (isIP(h) && h !== "0.0.0.0" && h !== "::" && !altNames.some((a) => "ip" in a && a.ip === h)) {
      altNames.push({ type: 7, ip: h });
    }
  }
  const now = Date.now();
  // Loaded here: its certificate library is large, and only a first TLS start generates a pair.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: `gatehouse ${name}`.slice(0, 64) }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + GENERATED_VALIDITY_MS),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  // Key first, each file complete before it appears under its name.
  writeAtomic(keyPath, pems.private, 0o600);
  writeAtomic(certPath, pems.cert, 0o644);
}

function isValidDnsName(name: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
    name,
  );
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode, flag: "w" });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
