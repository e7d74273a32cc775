/** The live gateway: is it answering, and is any session still open on a revoked token (C08)? */
import type { Check, Finding, LiveClient, LiveToken } from "./types.js";

export const gatewayCheck: Check = {
  id: "gateway",
  title: "the gateway is reachable and answers health",
  run(facts) {
    const g = facts.gateway;
    switch (g.state) {
      case "skipped":
        return { skipped: g.reason };
      case "not-running":
        return [
          {
            id: "gateway-not-running",
            severity: "info",
            message: "the gateway for this state dir is not running; the checks that need it were skipped.",
            fix: "gatehouse gateway start (then run gatehouse doctor again for the live checks)",
          },
        ];
      case "unreachable":
        return [
          {
            id: "gateway-unreachable",
            severity: "error",
            message: `the gateway${g.pid ? ` (pid ${g.pid})` : ""} is running but did not answer health: ${g.error}.`,
            fix: "look at its log (gatehouse gateway logs), then restart it (gatehouse gateway restart)",
          },
        ];
      case "answering":
        return [];
    }
  },
};

/** Sessions of a (device, role) whose token is revoked: revocation must close them (C08). */
export function checkRevokedSessions(
  clients: readonly LiveClient[],
  tokens: readonly LiveToken[],
): Finding[] {
  const revoked = new Set(
    tokens.filter((t) => t.revokedAtMs !== null).map((t) => `${t.deviceId}\u0000${t.role}`),
  );
  const out: Finding[] = [];
  for (const c of clients) {
    if (!c.deviceId || !revoked.has(`${c.deviceId}\u0000${c.role}`)) continue;
    out.push({
      id: "revoked-token-session",
      severity: "warn",
      subject: c.deviceId,
      message: `device ${c.deviceId.slice(0, 12)} has an open ${c.role} session (${c.client}, ${c.connId}) although its ${c.role} token is revoked.`,
      fix: `gatehouse devices revoke --device ${c.deviceId} --role ${c.role} (revoking again closes that role's sessions)`,
    });
  }
  return out;
}

export const revokedSessionsCheck: Check = {
  id: "revoked-token-sessions",
  title: "no session stays open on a revoked device token",
  run(facts) {
    const g = facts.gateway;
    if (g.state !== "answering") return { skipped: "needs the running gateway" };
    return checkRevokedSessions(g.clients, g.tokens);
  },
};
