/**
 * The only part of doctor that changes anything, and only what is safe: file modes, expired
 * pending requests, and a token for a token-mode gateway that has none anywhere. A damaged store
 * or an invalid config file never gets here (their findings carry no repair).
 */
import { chmodSync, existsSync } from "node:fs";
import { ensureGatewayToken, loadConfig } from "../config/index.js";
import { openStore } from "../store/index.js";
import type { AppliedRepair, Finding } from "./types.js";

/** Audit actor of doctor's own changes. */
export const DOCTOR_ACTOR = "doctor";

const octal = (mode: number) => mode.toString(8).padStart(3, "0");

/** Applies the repairs of `findings` (each at most once) and says what was done. */
export function applyRepairs(findings: readonly Finding[], stateDir: string, nowMs: number): AppliedRepair[] {
  const done: AppliedRepair[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    const r = f.repair;
    if (!r) continue;
    const key = JSON.stringify(r);
    if (seen.has(key)) continue;
    seen.add(key);
    const base = { id: f.id, ...(f.subject !== undefined ? { subject: f.subject } : {}) };
    try {
      switch (r.kind) {
        case "chmod": {
          const paths = [r.path, ...(r.siblings ?? []).filter((p) => existsSync(p))];
          for (const p of paths) chmodSync(p, r.mode);
          done.push({ ...base, ok: true, action: `chmod ${octal(r.mode)} ${paths.join(" ")}` });
          break;
        }
        case "prune-expired-pending": {
          const store = openStore(r.storePath);
          try {
            const ids = store.transaction(() => {
              const pruned = store.pending.pruneExpired(nowMs);
              store.audit.append(
                {
                  kind: "doctor",
                  decision: "pruned",
                  reason: `${pruned.length} expired pending request${pruned.length === 1 ? "" : "s"}`,
                  actor: DOCTOR_ACTOR,
                },
                nowMs,
              );
              return pruned;
            });
            done.push({
              ...base,
              ok: true,
              action: `deleted ${ids.length} expired pending request${ids.length === 1 ? "" : "s"} (${ids.join(", ")})`,
            });
          } finally {
            store.close();
          }
          break;
        }
        case "generate-token": {
          const ensured = ensureGatewayToken(loadConfig({ stateDir }));
          done.push({
            ...base,
            ok: true,
            action: ensured.generated
              ? `generated a gateway token into ${ensured.savedTo} (clients on this host read it from there)`
              : "a token is already set; nothing generated",
          });
          break;
        }
      }
    } catch (err) {
      done.push({
        ...base,
        ok: false,
        action: r.kind,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return done;
}
