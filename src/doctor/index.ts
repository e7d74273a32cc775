/** `gatehouse doctor`: every check, in order, over facts gathered once. */
import { authTokenCheck, configCheck, exposureCheck, trustedProxyCheck } from "./config.js";
import { devicesCheck, pendingCheck } from "./devices.js";
import { permissionsCheck } from "./files.js";
import { gatewayCheck, revokedSessionsCheck } from "./gateway.js";
import { originsCheck, trustedProxiesCheck } from "./network.js";
import { sandboxCheck } from "./sandbox.js";
import { storeCheck } from "./store.js";
import type { Check, CheckStatus, DoctorFacts, Finding, Severity } from "./types.js";

export { applyRepairs, DOCTOR_ACTOR } from "./repair.js";
export { gatherConfig, gatherFiles, gatherSandbox, gatherStore, storePath } from "./facts.js";
export type * from "./types.js";

/** Every check, in the order they are reported. */
export const CHECKS: readonly Check[] = [
  permissionsCheck,
  configCheck,
  authTokenCheck,
  exposureCheck,
  trustedProxiesCheck,
  trustedProxyCheck,
  originsCheck,
  storeCheck,
  devicesCheck,
  pendingCheck,
  gatewayCheck,
  revokedSessionsCheck,
  sandboxCheck,
];

const ORDER: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/** Runs every check; findings sorted by severity (stable within one). */
export function runChecks(facts: DoctorFacts): { findings: Finding[]; checks: CheckStatus[] } {
  const findings: Finding[] = [];
  const checks: CheckStatus[] = [];
  for (const check of CHECKS) {
    const result = check.run(facts);
    if (!Array.isArray(result)) {
      checks.push({ id: check.id, status: "skipped", note: result.skipped });
      continue;
    }
    findings.push(...result);
    const problem = result.some((f) => f.severity !== "info");
    checks.push({ id: check.id, status: problem ? "problem" : "pass" });
  }
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  return { findings, checks };
}

/** Counts by severity. */
export function summarize(findings: readonly Finding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warn: 0, info: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}
