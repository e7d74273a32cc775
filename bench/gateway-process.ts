/** Starts the real `gatehouse gateway run` in its own process for benchmarks and waits for its URL. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface GatewayProcess {
  url: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Spawns a gateway on a free loopback port with a fresh state dir. */
export async function spawnGateway(extraArgs: string[] = []): Promise<GatewayProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-"));
  const token = "bench-token-" + "x".repeat(32);
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "gateway",
      "run",
      "--port",
      "0",
      "--bind",
      "loopback",
      "--state-dir",
      stateDir,
      "--token",
      token,
      "--log-format",
      "json",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("gateway did not start within 15 s")), 15_000);
    lines.on("line", (line) => {
      try {
        const rec = JSON.parse(line) as { event?: string; urls?: string[] };
        if (rec.event === "gateway listening" && rec.urls?.[0]) {
          clearTimeout(timer);
          // Keep draining stdout so the gateway never blocks on a full pipe.
          resolve(rec.urls.find((u) => u.includes("127.0.0.1")) ?? rec.urls[0]);
        }
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => reject(new Error(`gateway exited early (${code})`)));
  });
  return {
    url,
    token,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => {
          rmSync(stateDir, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
