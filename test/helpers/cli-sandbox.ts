/** Temp state dirs and an environment that keeps CLI test runs away from the user's own setup. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempStateDir } from "./gateway-process.js";

export interface CliSandbox {
  /** Environment overrides: a temp HOME, and no GATEHOUSE_* variables from the caller's shell. */
  env: NodeJS.ProcessEnv;
  /** A fresh state dir, with `gatehouse.json` written from `config` when given. */
  stateDir(config?: unknown): string;
  /** Removes every dir this sandbox made. */
  cleanup(): void;
}

/** One sandbox per test file; call `cleanup` in `after`. */
export function createCliSandbox(): CliSandbox {
  const home = tempStateDir();
  const dirs = [home];
  return {
    env: {
      HOME: home,
      GATEHOUSE_GATEWAY_TOKEN: "",
      GATEHOUSE_GATEWAY_PASSWORD: "",
      GATEHOUSE_GATEWAY_URL: "",
      GATEHOUSE_PORT: "",
      GATEHOUSE_STATE_DIR: "",
    },
    stateDir(config) {
      const dir = tempStateDir();
      dirs.push(dir);
      if (config !== undefined) writeFileSync(join(dir, "gatehouse.json"), JSON.stringify(config));
      return dir;
    },
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
