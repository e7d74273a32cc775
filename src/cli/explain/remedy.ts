/**
 * What to do about a decision: the one command that would let the connection in, or why nothing
 * should. Pure: everything it needs is in {@link RemedyInput}.
 */
import { approveCommand } from "../output.js";

/** The decision kinds as `gatehouse explain` reports them (the policy's names). */
export type ExplainedDecision = "admit" | "approve-then-admit" | "pend" | "reject";

/** Where a live or recorded pending request stands now. */
export type RequestState =
  | { kind: "live"; requestId: string }
  | { kind: "approved"; requestId: string; by: string | null; atMs: number }
  | { kind: "rejected"; requestId: string; by: string | null; atMs: number }
  /** Expired, superseded, or removed with its device. */
  | { kind: "gone"; requestId: string }
  /** Hypothetical: the request it would refresh, or null for a new one. */
  | { kind: "would-wait"; refreshes: string | null; supersedes: string | null };

export interface RemedyInput {
  decision: ExplainedDecision;
  /** Pending reason, refusal code, or null for an admission. */
  reason: string | null;
  trace: readonly string[];
  /** Scopes admitted with (admit) or asked for (pend). */
  scopes: readonly string[] | null;
  request: RequestState | null;
  deviceId: string | null;
  role: string | null;
  /** The client address is one of this host's own non-loopback addresses. */
  fromThisHost?: boolean;
  /** The gateway's port, for "dial ws://127.0.0.1:PORT". */
  port?: number;
  configPath?: string;
}

export interface Remedy {
  /** The one command to run, when there is one. */
  command: string | null;
  explanation: string;
}

const has = (trace: readonly string[], rule: string) => trace.includes(rule);

/** Why the connection counts as remote, and what would legitimately make it local. */
function remoteNotes(input: RemedyInput): string[] {
  const { trace } = input;
  const local = `ws://127.0.0.1:${input.port ?? 18789}`;
  const notes: string[] = [];
  if (has(trace, "proxy-headers-from-untrusted-peer")) {
    notes.push(
      "If a reverse proxy on this host forwards these connections, list its exact address in gateway.trustedProxies (never a whole private range); otherwise forwarding headers are untrusted by design.",
    );
  }
  if (has(trace, "client-loopback") && has(trace, "host-not-loopback")) {
    notes.push(
      `A loopback socket with a non-loopback Host header is treated as remote: internal callers should dial ${local}; a same-host proxy belongs in gateway.trustedProxies.`,
    );
  }
  if (input.fromThisHost) {
    notes.push(
      `That address belongs to this host: a client on the gateway host dialed its LAN address, so the connection arrived from it rather than from loopback. Dial ${local} instead and it counts as local.`,
    );
  }
  return notes;
}

function pendRemedy(input: RemedyInput): Remedy {
  const { trace, request } = input;
  const why: string[] = [];
  if (has(trace, "remote-needs-approval")) {
    why.push(
      "Remote connections are never paired or upgraded silently, whatever client id they claim. That is deliberate: a position on the network is not proof, only an explicit approval is.",
      ...remoteNotes(input),
    );
  } else if (has(trace, "browser-origin-needs-approval")) {
    why.push(
      "A browser page is never paired silently, even on loopback: any web page can open a socket to a local port. Approve it only if it is your own Control UI.",
    );
  } else if (has(trace, "setup-code-cannot-revive-revoked-role")) {
    why.push(
      "The device's token for this role was revoked, and a setup code never brings a revoked role back. Approve the request only if the device should have the role again with everything it held; the approver must hold all of those scopes.",
    );
  } else if (has(trace, "key-change-needs-approval")) {
    why.push(
      "A known deviceId with a new key is never rebound silently. Approve it only if you know the device was reinstalled; the old key's tokens are dropped.",
    );
  } else if (has(trace, "auto-approve-local-disabled")) {
    why.push(
      "gateway.pairing.autoApproveLocal is false, so proven local clients wait for an approval too; set it to true to let them pair silently.",
    );
  } else if (has(trace, "device-token-is-not-owner-proof")) {
    why.push(
      "A device token cannot widen its own approval; connecting with the shared secret from the gateway host would approve it silently.",
    );
  }
  if (request?.kind === "live") {
    return {
      command: approveCommand(request.requestId),
      explanation: [`It waits for approval of request ${request.requestId}.`, ...why].join(" "),
    };
  }
  if (request?.kind === "approved") {
    return {
      command: null,
      explanation: `Request ${request.requestId} was approved${request.by ? ` by ${request.by}` : ""} at ${new Date(request.atMs).toISOString()}; the device is admitted on its next connect.`,
    };
  }
  if (request?.kind === "rejected") {
    return {
      command: null,
      explanation: [
        `Request ${request.requestId} was rejected${request.by ? ` by ${request.by}` : ""} at ${new Date(request.atMs).toISOString()}. The device's next connect opens a new request; approve that one only if you want it in.`,
        ...why,
      ].join(" "),
    };
  }
  if (request?.kind === "gone") {
    return {
      command: "gatehouse devices list",
      explanation: [
        `Request ${request.requestId} is no longer pending (it expired, was superseded by a newer request from the same device, or its device was removed). The device's next connect opens a new one: find it with gatehouse devices list, then approve that exact requestId.`,
        ...why,
      ].join(" "),
    };
  }
  let waits =
    "It would wait for approval: gatehouse devices list, then gatehouse devices approve <requestId>.";
  if (request?.kind === "would-wait" && request.refreshes) {
    waits = `It would wait for approval of the request already pending for this device: ${approveCommand(request.refreshes)}.`;
  } else if (request?.kind === "would-wait" && request.supersedes) {
    waits = `It would wait for approval of a new request for everything asked so far (superseding ${request.supersedes}): gatehouse devices list, then gatehouse devices approve <requestId>.`;
  }
  return { command: "gatehouse devices list", explanation: [waits, ...why].join(" ") };
}

function admitRemedy(input: RemedyInput): Remedy {
  if (input.decision === "approve-then-admit") {
    return {
      command: null,
      explanation:
        "Nothing to do: it is approved silently (direct-local, proven, no browser Origin) and admitted at once.",
    };
  }
  if (has(input.trace, "device-less-no-scopes")) {
    return {
      command: null,
      explanation:
        "It is admitted, but with no scopes: a client without a device identity cannot keep the scopes it declares unless it is a direct-local CLI or backend. Connect with a device identity (the gatehouse CLI always does) and approve it once; its scopes are then bound to its key.",
    };
  }
  const scopes = input.scopes && input.scopes.length > 0 ? input.scopes.join(", ") : "no scopes";
  return { command: null, explanation: `Nothing to do: it is admitted with ${scopes}.` };
}

const AUTH_REMEDIES: Readonly<Record<string, Remedy>> = {
  AUTH_TOKEN_MISSING: {
    command: null,
    explanation:
      "Present the shared gateway token: the value of gateway.auth.token (or GATEHOUSE_GATEWAY_TOKEN on the gateway), given to the client as --token or GATEHOUSE_GATEWAY_TOKEN.",
  },
  AUTH_TOKEN_MISMATCH: {
    command: null,
    explanation:
      "The token presented is not the gateway's: copy gateway.auth.token again. A stale GATEHOUSE_GATEWAY_TOKEN baked into a service unit or shell profile is the usual cause.",
  },
  AUTH_TOKEN_NOT_CONFIGURED: {
    command: "gatehouse doctor --fix",
    explanation:
      "The gateway has no shared token configured; gatehouse doctor --fix generates one into the config file (or set gateway.auth.token yourself).",
  },
  AUTH_PASSWORD_MISSING: {
    command: null,
    explanation:
      "Present the shared gateway password (gateway.auth.password), given to the client as --password or GATEHOUSE_GATEWAY_PASSWORD.",
  },
  AUTH_PASSWORD_MISMATCH: {
    command: null,
    explanation: "The password presented is not the gateway's: copy gateway.auth.password again.",
  },
  AUTH_PASSWORD_NOT_CONFIGURED: {
    command: null,
    explanation: "The gateway runs in password mode without a password: set gateway.auth.password.",
  },
  AUTH_UNAUTHORIZED: {
    command: null,
    explanation:
      "gateway.auth.mode none only admits direct-local connections. For anything else set gateway.auth.mode to token and present the token.",
  },
  AUTH_RUNTIME_TOKEN_INVALID: {
    command: null,
    explanation:
      "Runtime tokens are minted by the gateway for the jobs it starts and only work for them (operator role, no browser, before they expire). Start the work through the gateway, or connect with a paired device instead.",
  },
  AUTH_BOOTSTRAP_TOKEN_INVALID: {
    command: "gatehouse pair code",
    explanation:
      "The setup code was unknown, expired or already used by another device (codes are single-use). Mint a new one on the gateway host and pair with it once.",
  },
  AUTH_RATE_LIMITED: {
    command: null,
    explanation: "Too many failed attempts from this address: wait, then retry with the right credential.",
  },
  DEVICE_IDENTITY_REQUIRED: {
    command: null,
    explanation:
      "Only the operator role may connect without a device identity; a node must sign its connect with its own key and be approved once.",
  },
  CONTROL_UI_DEVICE_IDENTITY_REQUIRED: {
    command: null,
    explanation:
      "The Control UI needs a device identity: open it over HTTPS or from localhost (a secure context) so the browser can create one.",
  },
  CONTROL_UI_ORIGIN_NOT_ALLOWED: {
    command: null,
    explanation:
      'If that origin is your own Control UI, add it exactly to gateway.controlUi.allowedOrigins; never use "*" (any web page could then try the shared secret).',
  },
  HOST_NOT_ALLOWED: {
    command: null,
    explanation:
      "The page addressed the gateway by a name that is not one of its own (DNS rebinding looks like this). Open the Control UI at http://127.0.0.1:<port>/ or localhost, or list the page's origin in gateway.controlUi.allowedOrigins (its host then becomes a name of the gateway).",
  },
  DEVICE_AUTH_SIGNATURE_EXPIRED: {
    command: null,
    explanation: "The client's clock is more than 2 minutes off the gateway's: synchronize it (NTP).",
  },
  DEVICE_AUTH_SIGNATURE_INVALID: {
    command: null,
    explanation:
      "The signature does not match the fields sent (v3 or v2 payload): update the client, or check that it signs the credential it actually presents.",
  },
  DEVICE_AUTH_DEVICE_ID_MISMATCH: {
    command: null,
    explanation:
      "The deviceId is not the SHA-256 of the public key: the client's identity is damaged. Recreate it (it then pairs as a new device).",
  },
  DEVICE_AUTH_NONCE_REQUIRED: {
    command: null,
    explanation: "The client must sign the nonce from connect.challenge: update the client.",
  },
  DEVICE_AUTH_NONCE_MISMATCH: {
    command: null,
    explanation:
      "The client signed a nonce other than this connection's challenge (a replay, or a reused proof): update the client.",
  },
  DEVICE_AUTH_PUBLIC_KEY_INVALID: {
    command: null,
    explanation: "The public key is not a valid Ed25519 key: recreate the client's identity.",
  },
};

function rejectRemedy(input: RemedyInput): Remedy {
  const code = input.reason ?? "";
  const { trace } = input;
  if (code === "AUTH_DEVICE_TOKEN_MISMATCH") {
    return {
      command: null,
      explanation:
        "The device token is unknown, was rotated or was revoked. Present the shared token instead: a paired key is then admitted and issued a new device token; a revoked role needs an approval again.",
    };
  }
  if (code === "AUTH_SCOPE_MISMATCH") {
    if (has(trace, "node-scopes-outside-role")) {
      return { command: null, explanation: "Ask only for node.* scopes with the node role." };
    }
    if (has(trace, "request-exceeds-runtime-token")) {
      return {
        command: null,
        explanation:
          "Ask for no more than the runtime token carries; its scopes were fixed when the job was created.",
      };
    }
    const device = input.deviceId ?? "<deviceId>";
    return {
      command: `gatehouse devices rotate --device ${device} --role ${input.role ?? "operator"}${(input.scopes ?? []).map((s) => ` --scope ${s}`).join("")}`,
      explanation:
        "The device token does not carry the scopes asked for. Ask for fewer, present the shared token so the wider request can be approved as an upgrade, or (if the device is approved for them) rotate its token to carry them.",
    };
  }
  const known = AUTH_REMEDIES[code];
  if (known) return known;
  return { command: null, explanation: `No remedy is known for ${code || "this refusal"}.` };
}

/** The remedy for a decision. */
export function remedyFor(input: RemedyInput): Remedy {
  if (input.reason?.startsWith("pending-limit-")) {
    return {
      command: "gatehouse devices list",
      explanation:
        "Too many pending requests were waiting, so no new one was opened: approve or reject the ones you know (gatehouse devices list), or wait for them to expire, then retry.",
    };
  }
  switch (input.decision) {
    case "admit":
    case "approve-then-admit":
      return admitRemedy(input);
    case "pend":
      return pendRemedy(input);
    case "reject":
      return rejectRemedy(input);
  }
}
