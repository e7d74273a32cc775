/** Where Gatehouse keeps its state: `--state-dir` > `GATEHOUSE_STATE_DIR` > `~/.gatehouse`. */
import { homedir as osHomedir } from "node:os";
import { join, resolve } from "node:path";
import { ENV, envValue } from "./env.js";

export const CONFIG_FILE_NAME = "gatehouse.json";

export interface StatePaths {
  stateDir: string;
  /** `<state>/gatehouse.json` */
  configPath: string;
  /** `<state>/identity`: device identity files. */
  identityDir: string;
  /** `<state>/state`: the SQLite pairing store. */
  stateDbDir: string;
}

/** Resolves the state directory to an absolute path; an empty flag or variable counts as unset. */
export function resolveStateDir(
  opts: { flag?: string; env?: NodeJS.ProcessEnv; homedir?: string } = {},
): string {
  const home = opts.homedir ?? osHomedir();
  const chosen = opts.flag || envValue(opts.env ?? process.env, ENV.stateDir);
  if (chosen === undefined) return join(home, ".gatehouse");
  // Env values and quoted flags reach us without shell tilde expansion.
  if (chosen === "~") return home;
  if (chosen.startsWith("~/")) return join(home, chosen.slice(2));
  return resolve(chosen);
}

/** The well-known paths inside a state directory. */
export function statePaths(stateDir: string): StatePaths {
  return {
    stateDir,
    configPath: join(stateDir, CONFIG_FILE_NAME),
    identityDir: join(stateDir, "identity"),
    stateDbDir: join(stateDir, "state"),
  };
}
