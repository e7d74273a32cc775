/**
 * Runs the real `gatehouse` CLI with its stdout on a pseudo-terminal, as a person at a terminal
 * sees it, through util-linux `script` (no native module needed). Output lines lose their `\r`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { CLI_MAIN } from "./gateway-process.js";

/** Null when `script` can give a child a terminal here; otherwise why not. */
export function terminalUnavailableReason(): string | null {
  const r = spawnSync("script", ["--version"], { stdio: "ignore" });
  return r.status === 0 ? null : "util-linux `script` is not installed (apt-get install bsdutils)";
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Starts `gatehouse ARGS` on a terminal; stdout and stderr both arrive on the child's stdout. */
export function spawnInTerminal(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const command = [process.execPath, CLI_MAIN, ...args].map(shellQuote).join(" ");
  return spawn("script", ["-qfec", command, "/dev/null"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
}

/** Runs `gatehouse ARGS` on a terminal to completion: its exit status and what it printed. */
export function runInTerminal(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnInTerminal(args, env);
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gatehouse ${args.join(" ")} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    // "close", not "exit": the exit can come before the last of the output has been read.
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r/g, "") });
    });
  });
}
