/** Where the gateway's children run: sandboxed (a probe proved the secrets hidden), or a finding. */
import type { Check } from "./types.js";

export const sandboxCheck: Check = {
  id: "sandbox",
  title: "sub-agents and cron runs run in a sandbox that hides the state dir and the gateway's process",
  run(facts) {
    const s = facts.sandbox;
    switch (s.state) {
      case "skipped":
        return { skipped: s.reason };
      case "off":
        return [
          {
            id: "sandbox-off",
            severity: "warn",
            subject: "gateway.sandbox.mode",
            message:
              'gateway.sandbox.mode is "none": sub-agents and cron runs run unsandboxed, as the gateway\'s user, ' +
              "and can read the owner key, the store and the shared secret — a runtime token's scopes bind only cooperative children.",
            fix: `install bubblewrap (apt-get install bubblewrap), then remove gateway.sandbox.mode from ${s.configPath} and restart the gateway`,
          },
        ];
      case "unavailable":
        return [
          {
            id: s.reason === "probe-leak" ? "sandbox-leak" : "sandbox-unavailable",
            severity: "error",
            subject: "gateway.sandbox",
            message: `${s.message.replace(/\. Fix: .*$/s, "")}; the gateway refuses to start sub-agents and cron runs until this is fixed.`,
            fix:
              s.fix ||
              `install bubblewrap (apt-get install bubblewrap) or set gateway.sandbox.mode to "none" in ${s.configPath}`,
          },
        ];
      case "ready":
        return [];
    }
  },
};
