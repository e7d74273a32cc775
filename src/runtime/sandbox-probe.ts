/**
 * The proof that a sandbox holds: a probe job started exactly as jobs are, which looks for every
 * secret path, checks that `/proc` belongs to the sandbox (its PID 1 is bubblewrap's init, not the
 * host's) and reports the user it runs as. Used by the gateway before its first spawn and by
 * `gatehouse doctor`.
 */
import { spawn } from "node:child_process";

/** What the probe found. */
export type ProbeResult =
  | { ok: true; uid: number }
  /** bubblewrap could not set the sandbox up (its own message). */
  | { ok: false; reason: "bwrap-failed"; message: string }
  /** The sandbox came up but shows what it must not. */
  | { ok: false; reason: "leak"; message: string; visible: string[] };

// Arguments are the secret paths. A directory leaks if anything in it can be listed, a file if
// it can be read and is not empty; `/proc/1` must be bubblewrap's init.
const PROBE_SCRIPT = `status=0
for p in "$@"; do
  if [ -d "$p" ]; then
    if ls -A "$p" 2>/dev/null | grep -q .; then echo "visible $p"; status=1; fi
  elif [ -r "$p" ] && [ -s "$p" ]; then echo "visible $p"; status=1
  fi
done
case "$(tr '\\000' ' ' < /proc/1/cmdline 2>/dev/null)" in
  "bwrap "*|*"/bwrap "*) ;;
  *) echo "visible /proc (the host's processes)"; status=1 ;;
esac
echo "uid $(id -u)"
exit $status`;

/** The shell command the probe runs inside the sandbox, given the secret paths. */
export function probeCommand(secretPaths: readonly string[]): { command: string; args: string[] } {
  return { command: "/bin/sh", args: ["-c", PROBE_SCRIPT, "gatehouse-sandbox-probe", ...secretPaths] };
}

const PROBE_TIMEOUT_MS = 15_000;

/**
 * Runs the probe: `file`/`args` are the launcher's full command line (bubblewrap wrapping
 * {@link probeCommand}); `expectUid` is the user the job must run as (never root when given).
 */
export function runProbe(
  file: string,
  args: readonly string[],
  options: { uid?: number; gid?: number; expectUid: number },
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child;
    try {
      child = spawn(file, args, {
        cwd: "/",
        env: { PATH: "/usr/bin:/bin" },
        stdio: ["ignore", "pipe", "pipe"],
        ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
      });
    } catch (err) {
      resolve({ ok: false, reason: "bwrap-failed", message: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), PROBE_TIMEOUT_MS);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: "bwrap-failed", message: err.message });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve(interpret(stdout, stderr, code, signal, options.expectUid));
    });
  });
}

function interpret(
  stdout: string,
  stderr: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  expectUid: number,
): ProbeResult {
  const lines = stdout.split("\n");
  const uidLine = lines.find((l) => l.startsWith("uid "));
  if (uidLine === undefined) {
    const why = stderr.trim().split("\n").slice(-3).join("; ") || `exit ${signal ?? code}`;
    return { ok: false, reason: "bwrap-failed", message: why };
  }
  const uid = Number(uidLine.slice(4));
  const visible = lines.filter((l) => l.startsWith("visible ")).map((l) => l.slice(8));
  if (uid !== expectUid) visible.push(`the job runs as uid ${uid}, not ${expectUid}`);
  if (visible.length > 0) {
    return {
      ok: false,
      reason: "leak",
      message: `the sandbox does not hide what it must: ${visible.join(", ")}`,
      visible,
    };
  }
  return { ok: true, uid };
}
