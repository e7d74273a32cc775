/**
 * One plain-English sentence per rule id the admission trace can hold (src/policy/locality.ts and
 * src/policy/admission.ts), for `gatehouse explain`. Ids not listed here are shown as they are.
 */

/** Fixed rule ids. */
export const RULES: Readonly<Record<string, string>> = {
  // Locality (resolveLocality)
  "proxy-headers-from-untrusted-peer":
    "The request carried forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP) but the socket peer is not in gateway.trustedProxies, so the headers were ignored and the connection counts as remote (C03).",
  "client-ip-from-trusted-proxy":
    "The socket peer is a trusted proxy, so the client address was read from X-Forwarded-For (right to left, the first hop that is not a trusted proxy).",
  "client-ip-unattributable":
    "The socket peer is a trusted proxy but no client address could be attributed from its headers, so the connection counts as remote (fail closed, C07).",
  "client-loopback": "The client address is a loopback address.",
  "client-not-loopback": "The client address is not a loopback address, so the connection is remote.",
  "host-loopback": "The Host header names localhost or a loopback address.",
  "host-not-loopback":
    "The Host header is not localhost or a loopback address; on a loopback socket that means a proxy or DNS rebinding, so the connection is not direct-local (S21, C05).",
  "proxy-not-on-this-host":
    "The trusted proxy is not on this host, so a forwarded loopback address does not make the client local (C04).",
  "origin-is-gateway-own":
    "The browser Origin is the gateway's own loopback origin: the Control UI it serves at this very host and port.",
  // Before the policy: the upgrade's Origin check (gateway/origin.ts)
  "origin-not-allowed":
    "The browser Origin is not in gateway.controlUi.allowedOrigins and is not the gateway's own loopback origin, so the upgrade is refused before any credential is looked at (C02).",
  // Admission (decide)
  "node-scopes-outside-role": "The node role only takes node.* scopes, and the request asked for others.",
  "credential-owner-key":
    "The device proved the gateway host's owner key (the identity in the state dir), which holds every operator scope and both roles.",
  "credential-token": "The client proved the shared gateway token.",
  "credential-password": "The client proved the shared gateway password.",
  "credential-none": "The gateway runs with gateway.auth.mode none and the connection is direct-local.",
  "credential-device-token": "The device presented a valid device token for the role it asked for.",
  "credential-runtime-token": "The client presented a runtime token the gateway minted for a job it started.",
  "device-token-rejected":
    "The device token presented is unknown, was rotated or was revoked, and no other credential was proven.",
  "shared-auth-failed": "The shared token or password was missing or wrong.",
  "auth-none-requires-direct-local":
    "gateway.auth.mode none only admits direct-local connections, and this one is not direct-local.",
  "covered-by-approval":
    "Everything asked for (role and scopes) is covered by what this device's key was approved for, so no pairing is needed.",
  "request-exceeds-device-token":
    "The scopes asked for exceed what the presented device token carries (S09: refused with a reason instead of a pairing loop).",
  "uncovered-not-paired": "This device key has never been approved.",
  "uncovered-key-changed":
    "A known deviceId presented a different public key than the one approved: it is a new identity.",
  "uncovered-metadata-upgrade":
    "The device's platform or device family differs from what was pinned when it was approved.",
  "uncovered-role-upgrade": "The device asks for a role it is not approved for, or whose token was revoked.",
  "uncovered-scope-upgrade": "The device asks for scopes beyond its approved baseline.",
  "key-change-needs-approval": "A changed key is never approved silently, not even on loopback (C15).",
  "remote-needs-approval":
    "The connection is not direct-local, and a remote connection is never approved silently, whatever client it claims to be (C01).",
  "browser-origin-needs-approval":
    "The connection carries a browser Origin, and a browser page is never approved silently (C02).",
  "auto-approve-local-disabled":
    "gateway.pairing.autoApproveLocal is false, so even proven local connections wait for an approval.",
  "device-token-is-not-owner-proof":
    "A device token only proves what was already approved, so it cannot approve an upgrade silently.",
  "device-token-without-device":
    "A device token was presented without a device identity to check it against.",
  "device-less-needs-operator-role": "A connection without a device identity may only use the operator role.",
  "browser-ui-needs-device": "The Control UI and webchat must connect with a device identity.",
  "device-less-local-cli-keeps-scopes":
    "A direct-local CLI (cli/cli) that proved the shared secret keeps the scopes it asked for without a device identity.",
  "device-less-local-backend-keeps-scopes":
    "A direct-local backend (gateway-client/backend) that proved the shared secret keeps the scopes it asked for without a device identity (S02).",
  "device-less-no-scopes":
    "Without a device identity, and not a direct-local CLI or backend, the scopes a client declares are not bound to anything: it is admitted with none (C13).",
  "runtime-token-invalid": "The runtime token is unknown, expired or revoked.",
  "runtime-token-from-browser": "A runtime token is never accepted from a browser page.",
  "runtime-token-is-operator-only": "A runtime token is only good for the operator role.",
  "request-exceeds-runtime-token": "The scopes asked for exceed what the runtime token carries.",
  "runtime-token-within-scopes": "The scopes asked for are within the runtime token's scopes.",
};

/** Rule ids with a variable suffix. */
const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => string]> = [
  [
    /^silent-local-approval-(.+)$/,
    (m) =>
      `Direct-local, no browser Origin, and proven by ${credentialName(m[1]!)}: approved silently, so it is admitted at once.`,
  ],
  [/^runtime-job-(.+)$/, (m) => `The runtime token belongs to job ${m[1]}.`],
];

function credentialName(credential: string): string {
  switch (credential) {
    case "owner-key":
      return "the owner key";
    case "token":
      return "the shared token";
    case "password":
      return "the shared password";
    case "none":
      return "auth mode none on a direct-local connection";
    default:
      return credential;
  }
}

/** The sentence for a rule id, or the id itself when it is not known. */
export function explainRule(rule: string): string {
  const fixed = RULES[rule];
  if (fixed !== undefined) return fixed;
  for (const [re, text] of PATTERNS) {
    const m = re.exec(rule);
    if (m) return text(m);
  }
  return rule;
}

/** A trace with its explanations. */
export function explainTrace(trace: readonly string[]): Array<{ rule: string; explanation: string }> {
  return trace.map((rule) => ({ rule, explanation: explainRule(rule) }));
}
