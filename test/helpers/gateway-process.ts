/** Runs the real `gatehouse` CLI in child processes: the gateway, and one-shot commands. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The compiled CLI entry point. */
export const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Every stdout line so far (the gateway's log). */
  log: string[];
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** The dirs {@link tempStateDir} made in this process: whatever a test left of them goes at its exit. */
const madeDirs: string[] = [];
process.once("exit", () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary state dir; removed when the test process exits, if the test did not remove it. */
export function tempStateDir(prefix = "gatehouse-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** A port that was free a moment ago (for tests that need the port in a config file). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts `gatehouse gateway run ARGS --log-format json` and resolves once it logs that it is
 * listening; rejects with its stderr if it exits first.
 */
export async function spawnGateway(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { keepLog?: boolean; startTimeoutMs?: number } = {},
): Promise<GatewayProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const child = spawn(process.execPath, [CLI_MAIN, "gateway", "run", "--log-format", "json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const log: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // A gateway that comes up after the deadline must not outlive the test: its pipes would keep
    // the test file running forever (seen under heavy load).
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway did not start within ${startTimeoutMs / 1000} s: ${stderr}`));
    }, startTimeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      log.push(line);
      try {
        const rec = JSON.parse(line) as { event?: string; urls?: string[] };
        if (rec.event === "gateway listening" && rec.urls?.length) {
          clearTimeout(timer);
          if (options.keepLog === false) {
            // Benchmarks: drain the log unread so parsing it costs this process nothing.
            lines.close();
            child.stdout!.resume();
          }
          resolve(rec.urls.find((u) => u.includes("127.0.0.1")) ?? rec.urls[0]!);
        }
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    url,
    child,
    log,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse ARGS` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gatehouse ${args.join(" ")} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    // "close", not "exit": the exit can come before the last of stdout has been read.
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
