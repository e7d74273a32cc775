/**
 * What to do about a decision: the one command that would let the connection in, or why nothing
 * should. Pure: everything it needs is in {@link RemedyInput}.
 */
import { ERROR_TABLE, errorMeaning, isGatewayErrorCode } from "../../protocol/errors.js";
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
  /** The revoke a pending role upgrade asks to undo (recorded decisions only). */
  revoked?: { role: string; atMs: number; by: string | null } | null;
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
  const revoked = input.revoked;
  if (revoked && !has(trace, "setup-code-cannot-revive-revoked-role")) {
    // The revoke is the story: whatever else made it wait, the role comes back only by an approval.
    why.push(
      `The device's ${revoked.role} role was revoked${revoked.by ? ` by ${revoked.by}` : ""} at ${new Date(revoked.atMs).toISOString()}, so it asked again. Approve the request only if the device should have the role again with everything it held; the approver must cover that role's baseline (hold all of those scopes).`,
    );
  } else if (has(trace, "remote-needs-approval")) {
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

function rejectRemedy(input: RemedyInput): Remedy {
  const code = input.reason ?? "";
  const { trace } = input;
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
      explanation: ERROR_TABLE.AUTH_SCOPE_MISMATCH.remedy.explanation,
    };
  }
  const known = isGatewayErrorCode(code) ? errorMeaning(code).remedy : undefined;
  if (known) return { command: known.command, explanation: known.explanation };
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
