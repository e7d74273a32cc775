/**
 * The closed vocabulary of rule ids a decision trace can hold (locality, the upgrade's Origin/Host
 * verdict, admission, settlement, device management, authority, method calls, the scopes of work and
 * who hears an event),
 * each with its one human sentence. The audit log stores the ids;
 * `gatehouse explain`, `gatehouse audit --verbose` and the Control UI's audit page show these
 * sentences. Values (a job id, a requestId) never go into an id: they are fields of the decision.
 */

/** Every rule id with its sentence; the keys are the {@link RuleId} union. */
export const RULE_SENTENCES = {
  // Locality (resolveLocality)
  "proxy-headers-from-untrusted-peer":
    "The request carried forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP) but the socket peer is not in gateway.trustedProxies, so the headers were ignored and the connection counts as remote.",
  "client-ip-from-trusted-proxy":
    "The socket peer is a trusted proxy, so the client address was read from X-Forwarded-For (right to left, the first hop that is not a trusted proxy).",
  "client-ip-unattributable":
    "The socket peer is a trusted proxy but no client address could be attributed from its headers, so the connection counts as remote (fail closed).",
  "client-loopback": "The client address is a loopback address.",
  "client-not-loopback": "The client address is not a loopback address, so the connection is remote.",
  "host-loopback": "The Host header names localhost or a loopback address.",
  "host-not-loopback":
    "The Host header is not localhost or a loopback address; on a loopback socket that means a proxy or DNS rebinding, so the connection is not direct-local.",
  "proxy-not-on-this-host":
    "The trusted proxy is not on this host, so a forwarded loopback address does not make the client local.",
  "origin-is-gateway-own":
    "The browser Origin is the gateway's own loopback origin: the Control UI it serves at this very host and port.",

  // The WebSocket upgrade, before HTTP 101 (upgradeVerdict)
  "origin-is-gateway-address":
    "The browser Origin is one of the addresses the gateway listens on (an IP address with its port, e.g. its LAN address) and the socket is addressed there too: the Control UI the gateway serves on that address, allowed without listing it in allowedOrigins.",
  "origin-not-allowed":
    "The browser Origin is not in gateway.controlUi.allowedOrigins, not the gateway's own loopback origin and not one of the addresses it listens on, so the upgrade is refused before any credential is looked at.",
  "host-not-gateway-name":
    "A browser opened the socket with a Host header that is not one of the gateway's own names (loopback names, bind addresses, hosts of allowedOrigins): a DNS-rebinding page, refused before the upgrade (HTTP 421).",

  // The request itself and the device proof
  "node-scopes-outside-role": "The node role only takes node.* scopes, and the request asked for others.",
  "device-proof-invalid":
    "The device block did not verify (device id not derived from the key, a bad or stale signature, or a nonce other than this connection's challenge), so nothing else was looked at.",

  // Failed-credential limiter: a locked credential counts as absent
  "shared-secret-locked-out":
    "Too many wrong shared secrets came from this address recently, so the one presented was not looked at: it counts as absent until the lockout ends.",
  "device-token-locked-out":
    "Too many wrong device tokens came from this address recently, so the one presented was not looked at: it counts as absent until the lockout ends.",
  "setup-code-locked-out":
    "Too many wrong setup codes came from this address recently, so the one presented was not looked at: it counts as absent until the lockout ends.",
  "runtime-token-locked-out":
    "Too many wrong runtime tokens came from this address recently, so the one presented was not looked at: it counts as absent until the lockout ends.",
  "locked-out-without-other-proof":
    "Nothing but locked-out credentials was presented, so the connect is refused until the lockout ends; a stronger proof (the owner key, a valid device token) would still have been admitted.",

  // Trusted-proxy mode (trusted-proxy.ts): is the proxy believed, and who does it say the user is?
  "proxy-identity-from-untrusted-peer":
    "The request carried the proxy's identity headers (or forwarding headers) but the socket peer is not in gateway.trustedProxies: anyone can send those headers, so it is refused.",
  "proxy-loopback-source":
    "Identity headers came from a loopback peer and gateway.auth.trustedProxy.allowLoopback is off: any process on this host could forge them, so they are refused.",
  "proxy-peer-is-own-address":
    "Identity headers came from one of this host's own non-loopback addresses: that is a local process, not the proxy, so they are refused.",
  "proxy-peer-trusted": "The socket peer is a trusted proxy (gateway.trustedProxies).",
  "proxy-peer-loopback-allowed":
    "The socket peer is a trusted proxy on this host, allowed by gateway.auth.trustedProxy.allowLoopback.",
  "proxy-forwarded-client-loopback":
    "The forwarding headers name a loopback client: a proxied user is never on this host, so the headers are refused.",
  "proxy-forwarded-client-unattributable":
    "The proxy's forwarding headers (X-Forwarded-For) are missing or name no client, so the request cannot be attributed and is refused.",
  "proxy-required-header-missing":
    "A header in gateway.auth.trustedProxy.requiredHeaders is missing or blank, so the request did not come through the proxy as configured.",
  "proxy-user-header-missing":
    "The user header (gateway.auth.trustedProxy.userHeader) is missing or blank: the proxy did not say who the user is.",
  "proxy-assertion-missing":
    "The proxy's signed assertion (gateway.auth.trustedProxy.assertion.header) is missing, so nothing proves the proxy sent this request.",
  "proxy-assertion-malformed": "The proxy's assertion is not a well-formed signed JWT.",
  "proxy-assertion-signature-invalid":
    "The proxy's assertion is not signed by a key of the configured JWKS (a foreign or forged token).",
  "proxy-assertion-unknown-key":
    "The proxy's assertion names a key (kid) the configured JWKS does not hold, even after fetching it again.",
  "proxy-assertion-algorithm-refused":
    "The proxy's assertion uses an algorithm other than RS256, ES256 or EdDSA (or none), which is refused.",
  "proxy-assertion-expired": "The proxy's assertion has expired (beyond the allowed clock skew).",
  "proxy-assertion-not-yet-valid": "The proxy's assertion is not valid yet (nbf or iat in the future).",
  "proxy-assertion-wrong-issuer":
    "The proxy's assertion was issued by someone other than gateway.auth.trustedProxy.assertion.issuer.",
  "proxy-assertion-wrong-audience":
    "The proxy's assertion is for another audience than gateway.auth.trustedProxy.assertion.audience: a token meant for another application.",
  "proxy-assertion-claim-missing":
    "The proxy's assertion verified but lacks the claim that names the user (assertion.userClaim).",
  "proxy-assertion-keys-unavailable":
    "The JWKS the assertion is verified with could not be read, so nothing could be verified (fail closed).",
  "proxy-assertion-verified":
    "The proxy's assertion verified against the JWKS: signature, issuer, audience and lifetime.",
  "proxy-user-header-disagrees":
    "The user header names another user than the verified assertion's claim, so the request is refused.",
  "proxy-user-not-allowed": "The verified user is not in gateway.auth.trustedProxy.allowUsers.",
  "proxy-user-allowed": "The verified user is in gateway.auth.trustedProxy.allowUsers.",
  "proxy-any-authenticated-user":
    "gateway.auth.trustedProxy.allowUsers is empty, so every user the proxy authenticated is admitted.",
  "credential-trusted-proxy":
    "The trusted proxy's verified identity is this connection's shared-secret proof (auth.mode trusted-proxy).",
  "trusted-proxy-password-off-host":
    "In trusted-proxy mode gateway.auth.password only counts from this host directly (no proxy, no forwarding headers); here it was ignored, right or wrong.",
  "trusted-proxy-needs-proxy-or-local-proof":
    "In trusted-proxy mode a connection proves itself through the proxy, from this host directly (owner key, runtime token, gateway.auth.password), or with a device's own token or setup code; this one did none of these.",
  "trusted-proxy-identity-scopes":
    "Without a device, a proxy-verified user gets the scopes it asked for that gateway.auth.identityScopes gives it, and nothing else; they are never written to a pairing record.",
  "trusted-proxy-auto-approve":
    "A proxy-verified user's device, operator role, same key, everything asked within gateway.auth.trustedProxy.deviceAutoApprove.scopes: approved silently.",
  "trusted-proxy-auto-approve-disabled":
    "gateway.auth.trustedProxy.deviceAutoApprove is off, so a proxy-verified user's device waits for an approval.",
  "trusted-proxy-auto-approve-node-role":
    "Auto-approval never gives a node role, so this request waits for an approval.",
  "trusted-proxy-auto-approve-exceeds-scopes":
    "The request asks for scopes beyond gateway.auth.trustedProxy.deviceAutoApprove.scopes, so it waits for an approval.",

  // Reading the presented credentials
  "shared-secret-wrong":
    "The shared token or password presented is wrong. It is charged to this address's failure budget, whatever else admits the connect.",
  "device-token-wrong":
    "The device token presented is unknown, was rotated or was revoked. It is charged to this address's failure budget.",
  "device-token-in-token-slot":
    "The token field held this device's own device token (older clients send it there), so it counts as a device token, not as a wrong shared secret.",
  "shared-secret-unused-beside-device-token":
    "The device token presented covers this request from a remote address, so it admits the connect on its own; the shared secret beside it decides nothing, and the reply does not tell whether it was right.",

  // Setup codes
  "setup-code-needs-device-identity":
    "A setup code pairs one device, so it needs a signed device identity to bind to; without one it admits nothing.",
  "setup-code-invalid":
    "The setup code is unknown, expired or already used by another device; a bad code admits nothing, whatever else was presented.",
  "own-spent-setup-code-ignored":
    "The setup code was already redeemed by this very device and came beside a credential that works (a restart with --pair still configured), so it adds nothing and is ignored.",
  "credential-setup-code": "The device presented a live setup code, the owner's approval given in advance.",
  "role-outside-setup-code": "The setup code's profile does not include the role asked for.",
  "request-exceeds-setup-code":
    "The scopes asked for exceed the setup code's profile; a code is never the first step of a wider grant, so this is refused, not pended.",
  "setup-code-cannot-revive-revoked-role":
    "This device's token for the role was revoked, and a setup code never revives a revoked role: the code approves nothing here (it stays unspent), and the rest of the connect decides.",
  "setup-code-waits-for-approval":
    "The setup code is proof enough to open a request, but not to approve one: the device waits for an approval by someone who covers the role's approved scopes.",
  "setup-code-approves-profile":
    "The setup code approves this device with exactly its profile; the device token it issues carries no more than the profile.",

  // Which credential proves the connect
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

  // Is the request covered by the device's approval?
  "covered-by-approval":
    "Everything asked for (role and scopes) is covered by what this device's key was approved for, so no pairing is needed.",
  "request-exceeds-device-token":
    "The scopes asked for exceed what the presented device token carries: refused with a reason instead of a pairing loop.",
  "uncovered-not-paired": "This device key has never been approved.",
  "uncovered-key-changed":
    "A known deviceId presented a different public key than the one approved: it is a new identity.",
  "uncovered-metadata-upgrade":
    "The device's platform or device family differs from what was pinned when it was approved.",
  "uncovered-role-upgrade": "The device asks for a role it is not approved for, or whose token was revoked.",
  "uncovered-scope-upgrade": "The device asks for scopes beyond its approved baseline.",

  // Silent approval, or a pending request
  "key-change-needs-approval": "A changed key is never approved silently, not even on loopback.",
  "remote-needs-approval":
    "The connection is not direct-local, and a remote connection is never approved silently, whatever client it claims to be.",
  "browser-origin-needs-approval":
    "The connection carries a browser Origin, and a browser page is never approved silently.",
  "auto-approve-local-disabled":
    "gateway.pairing.autoApproveLocal is false, so even proven local connections wait for an approval.",
  "device-token-is-not-owner-proof":
    "A device token only proves what was already approved, so it cannot approve an upgrade silently.",
  "silent-local-approval-owner-key":
    "Direct-local, no browser Origin, and proven by the owner key: approved silently, so it is admitted at once.",
  "silent-local-approval-token":
    "Direct-local, no browser Origin (or the gateway's own Control UI), and proven by the shared token: approved silently, so it is admitted at once.",
  "silent-local-approval-password":
    "Direct-local, no browser Origin (or the gateway's own Control UI), and proven by the shared password: approved silently, so it is admitted at once.",
  "silent-local-approval-none":
    "Direct-local, no browser Origin, and auth mode none on a direct-local connection: approved silently, so it is admitted at once.",

  // Connections without a device identity
  "device-token-without-device":
    "A device token was presented without a device identity to check it against.",
  "device-less-needs-operator-role": "A connection without a device identity may only use the operator role.",
  "browser-ui-needs-device": "The Control UI and webchat must connect with a device identity.",
  "device-less-local-cli-keeps-scopes":
    "A direct-local CLI (cli/cli) that proved the shared secret keeps the scopes it asked for without a device identity.",
  "device-less-local-backend-keeps-scopes":
    "A direct-local backend (gateway-client/backend) that proved the shared secret keeps the scopes it asked for without a device identity.",
  "local-backend-device-not-paired":
    "A direct-local backend (gateway-client/backend) that proved the shared secret keeps the scopes it asked for with or without a device identity; its device is neither paired nor given a device token (as on OpenClaw), so it never holds a narrow token that a later, wider connect of the same client would be refused with.",
  "device-less-no-scopes":
    "Without a device identity, and not a direct-local CLI or backend, the scopes a client declares are not bound to anything: it is admitted with none.",

  // Runtime tokens (work the gateway started)
  "runtime-token-invalid": "The runtime token is unknown, expired or revoked.",
  "runtime-token-from-browser": "A runtime token is never accepted from a browser page.",
  "runtime-token-is-operator-only": "A runtime token is only good for the operator role.",
  "request-exceeds-runtime-token": "The scopes asked for exceed what the runtime token carries.",
  "runtime-token-within-scopes":
    "The scopes asked for are within the runtime token's scopes; the job it belongs to is recorded with the session.",

  // Settlement: what applying the decision found (settle)
  "setup-code-redeemed-concurrently":
    "Another device redeemed the same setup code first (codes are single-use, spent in the approving transaction), so this approval was refused.",
  "pending-limit-reached":
    "Too many pending requests were already waiting (in total or from this address), so no new one was opened.",

  // Device management and the authority derived work rests on (decideManagement, authority.ts).
  // These read as clauses: error messages quote them after "…denied: ".
  "manage-caller-owner-on-host":
    "the caller is the owner on the gateway host (the owner key or the shared secret without a device, direct-local; or the state dir itself): it covers every device it takes rights away from",
  "manage-target-unknown": "there is no such paired device",
  "manage-token-session-own-device-only":
    "a device-token session without operator.admin may only manage its own device",
  "manage-own-device": "the caller acts on its own device",
  "manage-self-approval-refused":
    "a device cannot approve its own request; approve it from the gateway host or another authorized device",
  "manage-node-role-needs-admin": "managing the node role needs operator.admin",
  "manage-grant-within-caller": "the caller holds every scope it grants",
  "manage-grant-exceeds-caller": "nobody grants a scope their own session does not hold",
  "manage-revival-by-approval":
    "the approval revives a revoked role, and the approver covers that role's baseline",
  "manage-revival-needs-baseline-cover":
    "a revoked role comes back only through an approval by someone who covers that role's baseline",
  "manage-covers-target": "the caller covers the device's baseline and the token's scopes",
  "manage-target-wider-than-caller":
    "acting on another device's token or record needs covering that token's scopes and the device's whole baseline",
  "manage-owner-device-owner-key-only": "only the owner key touches the gateway owner device",
  "manage-owner-device-not-removable": "the gateway owner device cannot be removed",
  "manage-owner-roles-not-revocable": "the gateway owner device's roles cannot be revoked",
  "manage-role-not-approved": "the role is not approved for this device",
  "manage-revoked-slot-needs-approval":
    "a revoked role is revived only by an approval, never by rotating its token",
  "manage-rotation-outside-baseline":
    "a rotated token never carries scopes outside the device's approved baseline",
  "manage-see": "the caller may see this device",
  "manage-reject-allowed": "rejecting a request only drops it; the pairing scope suffices",
  "manage-rename-allowed": "renaming changes no rights",
  "manage-retire-not-browser": "only browser devices (the Control UI, webchat) are retired in bulk",
  "manage-retire-own-device": "the browser the caller is using is never retired with the stale ones",
  "manage-retire-connected": "a browser device with a live session is in use, not stale",
  "manage-retire-recently-active":
    "a browser device seen (or approved) within the idle limit is in use, not stale",
  "manage-retire-stale-browser":
    "a browser device idle past the limit, with no live session, is retired like a removal",
  "manage-mint-within-caller": "a setup code never grants more than its minter holds",
  "manage-mint-exceeds-caller":
    "a setup code of this profile needs the scopes it hands out (operator.admin for operator-full and node)",
  "authority-root":
    "the work rests on a root (the shared secret or the owner key), which no device revocation reaches",
  "authority-creator-removed": "the device the work rests on was removed",
  "authority-creator-role-revoked": "the operator role of the device the work rests on was revoked",
  "authority-creator-narrowed": "the device the work rests on is no longer approved for the work's scopes",
  "authority-creator-covers": "the device the work rests on still holds the work's scopes",
  // A node's command surface, approved and pinned apart from its device pairing (node-surface.ts).
  "surface-owner-key":
    "The node proved the gateway host's owner key, which holds operator.admin, so the commands it declares are pinned as its surface without a request.",
  "surface-setup-code-first":
    "The node was paired on this connect by a node setup code, which only operator.admin can mint, so the commands it declares now are pinned as its first surface.",
  "surface-covered":
    "Every command the node declares is within its approved surface, so it exposes exactly what it declares.",
  "surface-not-approved":
    "The node has no approved command surface yet, so it exposes no command until an operator approves the surface it declares.",
  "surface-widened":
    "The node declares commands beyond its approved surface: the wider surface pends for approval, and meanwhile only the approved commands it still declares are exposed.",
  "surface-approve-exec-needs-admin":
    "The surface holds exec-capable commands (system.run*, system.which, browser.proxy*, fs.*, system.execApprovals.*), so approving it needs operator.pairing and operator.admin.",
  "surface-approve-needs-write":
    "The surface holds node commands, none exec-capable, so approving it needs operator.pairing and operator.write.",
  "surface-approve-commandless":
    "The surface declares no commands, so approving it needs operator.pairing only.",
  "surface-approve-within-caller": "The approver holds every scope approving this surface needs.",
  "surface-reject-allowed":
    "Rejecting a surface request only drops it (the node keeps the surface approved before), so the pairing scope suffices.",
  "surface-self-approval-refused":
    "a node's device cannot approve its own command surface; approve it from the gateway host or another authorized device",
  "surface-command-not-declared": "The node did not declare this command when it connected.",
  "surface-command-not-approved":
    "The node declares this command, but its approved surface does not include it: it is refused until an operator approves the wider surface.",
  "surface-command-approved": "The node declares this command and its approved surface includes it.",

  // Who reads a session's command line and output (session-visibility.ts).
  "session-admin": "operator.admin sees every session whole",
  "session-self": "a session reads its own record whole",
  "session-creator-chain":
    "the reader started the session, or started whoever did (a parent session, a cron job's creator)",
  "session-summary-only":
    "anyone else sees that the session exists, who started it, its state and exit code — not its command line or output",
  // Method calls, node invocations and the scopes of work (work.ts).
  "call-allowed":
    "The connection has the role the method belongs to, and its scopes cover the scope the method needs.",
  "call-role-not-allowed":
    "The method belongs to the other role (operator methods need an operator connection, node methods a node's), so the call is refused.",
  "call-missing-scope":
    "The connection's scopes do not cover the scope the method needs (operator.admin covers every operator scope, operator.write covers operator.read), so the call is refused.",
  "invoke-exec-needs-admin":
    "The node command is exec-capable (system.run*, system.execApprovals.*, browser.proxy*, fs.*): running it on a node is exec on that machine, so it needs operator.admin.",
  "invoke-needs-write": "The node command is not exec-capable, so invoking it needs operator.write.",
  "invoke-covered": "The caller's scopes cover what invoking this node command needs.",
  "invoke-not-covered":
    "The caller's scopes do not cover what invoking this node command needs, so the invocation is refused.",
  "work-scopes-default-to-caller":
    "No scopes were asked for, so the work gets exactly the scopes of the session that starts it.",
  "work-within-caller":
    "Every scope the work carries is held by the session that starts, changes or runs it.",
  "work-exceeds-caller":
    "The work would carry a scope the caller's session does not hold, so it is refused: nobody starts, changes, runs or re-enables work wider than themselves.",
  "work-within-job-ceiling":
    "The cron job's scopes stay within what its creator held when creating it (its ceiling).",
  "work-exceeds-job-ceiling":
    "A cron job's scopes only move within what its creator held when creating it, and this change would carry one beyond that, so it is refused.",
  "work-enable-creator-covers":
    "The device the cron job rests on still holds its scopes, so it is enabled again and keeps resting there.",
  "work-enable-rests-on-caller":
    "The authority the cron job rested on has ended, but the caller holds its scopes on a live authority of its own, so it is enabled again as the caller's work: from now on it rests on the caller.",
  "work-enable-no-authority":
    "Neither the authority the cron job rested on nor the caller's own still holds its scopes, so it stays disabled until someone whose authority covers them enables it.",

  // Who hears a broadcast event (events.ts)
  "event-every-connection":
    "The heartbeat and the shutdown notice go to every connection, admitted or not: they carry nothing but the time.",
  "event-addressed-only":
    "This event is sent to the one connection it is addressed to (a node's invocation) and is never broadcast.",
  "event-before-hello":
    "The connection has not been admitted yet (no hello), so it hears no event that needs a scope.",
  "event-scope-held":
    "The connection holds the scope the event's audience needs (operator.pairing for pairing events, operator.read for session events and presence).",
  "event-scope-missing":
    "The connection does not hold the scope the event's audience needs, so the event is not sent to it.",
  "event-browser-ui":
    "The event goes only to the Control UI's sessions, and this connection is one (a browser UI client).",
  "event-subject-node":
    "The event resolves this node's own command-surface request, so its session hears it too (as an OpenClaw node host is told of its approval): it learns what it may be asked to run now without reconnecting.",
  "event-not-browser-ui":
    "The event goes only to the Control UI's sessions, and this connection is another kind of client, so it is not sent to it.",
  // What a client asks for when it connects to act (client-asks.ts).
  "ask-first-contact":
    "This device holds no approval yet, so it asks for what the command needs: its first connect pairs it for exactly that.",
  "ask-within-approval":
    "The device's approval covers what the command needs, so it asks for exactly that (least privilege): nothing can pend.",
  "ask-silent-upgrade":
    "The command needs scopes beyond the device's approval, but the device was approved silently and connects again straight to a loopback address with the shared secret, where the gateway approves the upgrade silently too, so it asks for them.",
  "ask-capped-at-approval":
    "The command needs scopes beyond the device's approval; asking for them would only open an upgrade request for this very device, which it cannot approve itself, so it does not ask and the command is refused.",
  "ask-management-needs":
    "The device-management command asks for the scope of the action itself plus every scope the gateway's management rules (named before this one) find missing for that action on that device: exactly what the gateway checks.",
  "ask-management-refused-anyway":
    "The gateway's management rules refuse this action whatever scopes the caller holds (the rule named before this one), so the command asks only for what it has collected and shows the gateway's own refusal.",
  "ask-redeem-profile":
    "Redeeming a setup code approves exactly its profile, so the command asks for the profile's scopes (those a CLI ever asks for) and nothing beyond them.",
  "ask-method-scopes":
    "The command only calls methods that need no more than their own scope, so it asks for exactly those scopes (the gateway's method table).",
  "ask-stated-by-gateway":
    "The gateway's own answer states the scopes the action needs (a node surface request says what approving it needs), so the command asks for those.",
  "ask-invoke-exec-admin":
    "The node command is exec-capable (system.run*, system.execApprovals.*, browser.proxy*, fs.*), so invoking it asks for operator.admin.",
  "ask-invoke-write": "The node command is not exec-capable, so invoking it asks for operator.write.",
  "ask-admin-covers-all":
    "What the command needs includes operator.admin, which covers every operator scope, so it asks for operator.admin alone.",
  "ask-status-pairing-list":
    "The status read may show the pairing list (the owner on the gateway host, or a device approved for operator.pairing), so it also asks for operator.pairing.",
  "ask-status-read-only":
    "The status read asks for operator.read only: asking for operator.pairing beyond the device's approval would open an upgrade request for it.",
} as const satisfies Record<string, string>;

/** A rule a decision trace can name: closed, one sentence each. */
export type RuleId = keyof typeof RULE_SENTENCES;

const RULE_IDS: ReadonlySet<string> = new Set(Object.keys(RULE_SENTENCES));

/** True when `id` is a rule id of this version of the policy. */
export function isRuleId(id: string): id is RuleId {
  return RULE_IDS.has(id);
}

/**
 * The sentence for a rule id. A recorded trace may hold ids of an older or newer version of the
 * gateway; those are shown as they are.
 */
export function ruleSentence(id: string): string {
  return isRuleId(id) ? RULE_SENTENCES[id] : id;
}

/** A trace with the sentence of each rule. */
export function explainTrace(trace: readonly string[]): Array<{ rule: string; explanation: string }> {
  return trace.map((rule) => ({ rule, explanation: ruleSentence(rule) }));
}

/** The sentences of the rule ids appearing in some traces (for a client that shows them). */
export function sentencesFor(traces: Iterable<readonly string[] | null>): Partial<Record<RuleId, string>> {
  const out: Partial<Record<RuleId, string>> = {};
  for (const trace of traces) {
    for (const id of trace ?? []) if (isRuleId(id)) out[id] = RULE_SENTENCES[id];
  }
  return out;
}
