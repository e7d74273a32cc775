/** `gatehouse --help` and every subcommand's help: complete (everything described) and consistent. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/program.js";
import { runCli } from "../helpers/gateway-process.js";

function walk(cmd: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  return cmd.commands.flatMap((c) => [
    { path: [...path, c.name()], cmd: c },
    ...walk(c, [...path, c.name()]),
  ]);
}

const all = walk(buildProgram(() => {}));

describe("help texts", () => {
  it("every command and every option has a description", () => {
    assert.ok(all.length > 30, `expected the whole tree, got ${all.length} commands`);
    for (const { path, cmd } of all) {
      assert.ok(cmd.description().trim().length > 0, `gatehouse ${path.join(" ")} has no description`);
      for (const o of cmd.options) {
        assert.ok(
          o.description.trim().length > 0,
          `gatehouse ${path.join(" ")} ${o.flags} has no description`,
        );
      }
    }
  });

  it("a flag means the same everywhere: one wording per flag", () => {
    const wording = new Map<string, Set<string>>();
    // gateway run/start/restart take the gateway's OWN secret; every client command shares one text.
    const serverSide = (path: string[]) =>
      path[0] === "gateway" && ["run", "start", "restart"].includes(path[1] ?? "");
    for (const { path, cmd } of all) {
      if (serverSide(path)) continue;
      for (const o of cmd.options) {
        if (
          !["--url <url>", "--token <token>", "--password <password>", "--allow-insecure"].includes(o.flags)
        ) {
          continue;
        }
        if (!wording.has(o.flags)) wording.set(o.flags, new Set());
        wording.get(o.flags)!.add(o.description);
      }
    }
    // --json may say what shape it prints, but always that it is JSON.
    for (const { path, cmd } of all) {
      const json = cmd.options.find((o) => o.flags === "--json");
      if (json) assert.match(json.description, /JSON|\{/, `gatehouse ${path.join(" ")} --json`);
      const dir = cmd.options.find((o) => o.flags === "--state-dir <dir>");
      if (dir) {
        assert.match(
          dir.description,
          /GATEHOUSE_STATE_DIR, else ~\/\.gatehouse/,
          `gatehouse ${path.join(" ")} --state-dir`,
        );
      }
    }
    for (const [flag, texts] of wording) {
      assert.ok(texts.size === 1, `${flag} is described ${texts.size} ways: ${[...texts].join(" | ")}`);
    }
  });

  it("gatehouse --help and each top-level command's --help print usage and exit 0", async () => {
    const top = await runCli(["--help"]);
    assert.equal(top.code, 0);
    for (const name of buildProgram(() => {}).commands.map((c) => c.name())) {
      assert.match(top.stdout, new RegExp(`\\n  ${name}\\b`), `${name} missing from gatehouse --help`);
      const r = await runCli([name, "--help"]);
      assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: gatehouse ${name}`), name);
    }
  });
});
