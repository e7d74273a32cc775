/** Reading what a CLI run printed, for tests that run the real `gatehouse` CLI. */
import assert from "node:assert/strict";
import type { PairList } from "../../src/cli/devices/types.js";
import type { CliResult } from "./gateway-process.js";

/** The run's stdout as JSON; fails the test, quoting the run's exit code and output, if it is not. */
export function cliJson<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** What `devices list --json` lists when `cli` runs it (the owner's CLI); fails unless it exits 0. */
export async function devicesList(cli: (args: string[]) => Promise<CliResult>): Promise<PairList> {
  const r = await cli(["devices", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return cliJson<PairList>(r);
}
