/** Session rows for tests that put a session into a store directly (store tests, crash leftovers). */
import type { SessionRecord } from "../../src/store/index.js";

/**
 * A session row as the store holds it while the session runs (started, not ended, no pid yet):
 * `node -e 1` with operator.read, started by the CLI at 1,000 ms; `over` sets any other field.
 */
export function sessionRow(id: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    label: null,
    command: ["node", "-e", "1"],
    cwd: null,
    scopes: ["operator.read"],
    parentSessionId: null,
    cronJobId: null,
    createdBy: "cli/cli",
    authorityDeviceId: null,
    status: "running",
    exitCode: null,
    signal: null,
    pid: null,
    startedAtMs: 1_000,
    endedAtMs: null,
    stdoutTail: null,
    stderrTail: null,
    endReason: null,
    ...over,
  };
}
