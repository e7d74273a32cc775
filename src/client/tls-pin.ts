/**
 * TLS for `wss://` with certificate pinning (reference §1.1: SHA-256, colons stripped, lower case).
 * The socket is handed to the WebSocket transport only after the peer certificate has been checked,
 * so on a wrong certificate not even the upgrade request is written, let alone a credential. Without a pin
 * the usual CA and host-name verification applies; a certificate that fails it is refused with its
 * fingerprint, so the user can compare it with the gateway's and pin it.
 */
import type { TLSSocket } from "node:tls";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { isIP } = process.getBuiltinModule("node:net");

/**
 * Why a gateway's certificate was refused before anything was sent: it does not match the pin
 * (`mismatch`) or, without a pin, the system CAs do not trust it (`untrusted`). It carries the
 * fingerprint presented (a public value, safe to show). It reaches callers as the `cause` of a
 * {@link GatewayClientError} `TLS_FINGERPRINT_MISMATCH` or `TLS_UNTRUSTED`.
 *
 * @example
 * ```ts
 * import { GatewayClientError, TlsPinError } from "gatehouse-gateway/client";
 *
 * function presented(err: unknown): string | null {
 *   const cause = err instanceof GatewayClientError ? err.cause : err;
 *   return cause instanceof TlsPinError ? cause.presented : null;
 * }
 * console.log(presented(new Error("not a pin failure"))); // null
 * ```
 */
export class TlsPinError extends Error {
  constructor(
    readonly kind: "mismatch" | "untrusted",
    /** SHA-256 of the certificate the peer presented. */
    readonly presented: string,
    /** The pin it was checked against (mismatch). */
    readonly expected: string | null,
    /** OpenSSL's verdict on the chain (untrusted), e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
    readonly authorizationError: string | null,
  ) {
    super(
      kind === "mismatch"
        ? `certificate fingerprint ${presented} does not match the pinned ${expected}`
        : `certificate not trusted (${authorizationError ?? "unknown"}); its fingerprint is ${presented}`,
    );
    this.name = "TlsPinError";
  }
}

/** SHA-256 of the peer's certificate, or null when there is none. */
export function peerFingerprint(socket: TLSSocket): string | null {
  const cert = socket.getPeerCertificate();
  if (!cert || typeof cert.fingerprint256 !== "string" || cert.fingerprint256 === "") return null;
  return cert.fingerprint256.replace(/:/g, "").toLowerCase();
}

/** Called once: with the checked socket, or with why it was refused (the socket already destroyed). */
type OnVerified = (err: Error | null) => void;

/**
 * Opens TLS to `host`:`port`, completes the handshake, checks the certificate (pin, or CA + host
 * name without one) and only then calls `done`, so nothing is written to an unchecked peer.
 * `node:tls` is loaded here, on first use: a `ws://` client never pays for it.
 */
export function connectVerifiedTls(
  host: string,
  port: number,
  pin: string | null,
  timeoutMs: number,
  done: OnVerified,
): TLSSocket {
  const tls = process.getBuiltinModule("node:tls");
  const socket = tls.connect({
    host,
    port,
    // The check below replaces the default one: a pinned self-signed certificate has no CA.
    rejectUnauthorized: false,
    servername: isIP(host) ? undefined : host,
  });
  let finished = false;
  const finish = (err: Error | null) => {
    if (finished) return;
    finished = true;
    socket.setTimeout(0);
    socket.removeListener("error", finish);
    if (err) socket.destroy();
    done(err);
  };
  socket.on("error", finish);
  socket.setTimeout(timeoutMs, () => finish(new Error(`TLS handshake with ${host} timed out`)));
  socket.once("secureConnect", () => {
    const presented = peerFingerprint(socket);
    if (presented === null) {
      finish(new TlsPinError("untrusted", "", pin, "no peer certificate"));
      return;
    }
    if (pin !== null) {
      finish(presented === pin ? null : new TlsPinError("mismatch", presented, pin, null));
      return;
    }
    if (!socket.authorized) {
      const reason = socket.authorizationError;
      finish(new TlsPinError("untrusted", presented, null, reason ? String(reason) : null));
      return;
    }
    finish(null);
  });
  return socket;
}
