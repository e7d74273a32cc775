/**
 * `gatehouse <command>` builds only that command's part of the tree: the part it builds must be
 * the same as in the whole tree (same subcommands, options and help), or a user would see a
 * different command depending on how it was reached.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { buildProgram, commandsNeeded, TOP_LEVEL_COMMANDS } from "../../src/cli/program.js";

/** Every command's help text under `cmd`, keyed by its path. */
function helps(cmd: Command, path: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of cmd.commands) {
    const p = [...path, c.name()];
    let text = "";
    c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    c.outputHelp();
    out.set(p.join(" "), text);
    for (const [k, v] of helps(c, p)) out.set(k, v);
  }
  return out;
}

describe("per-command program", () => {
  it("names every top-level command of the whole tree", async () => {
    const all = await buildProgram(() => {});
    const names = all.commands.map((c) => c.name()).filter((n) => n !== "connection");
    assert.deepEqual([...names].sort(), [...TOP_LEVEL_COMMANDS].sort());
  });

  it("each top-level command, built alone, has the same subcommands, options and help", async () => {
    const whole = helps(await buildProgram(() => {}));
    for (const name of TOP_LEVEL_COMMANDS) {
      const under = (p: string) => p === name || p.startsWith(`${name} `);
      const alone = helps(await buildProgram(() => {}, commandsNeeded([name, "--help"])));
      for (const [path, text] of alone) {
        if (under(path))
          assert.equal(text, whole.get(path), `gatehouse ${path} --help differs when built alone`);
      }
      assert.deepEqual([...alone.keys()].filter(under).sort(), [...whole.keys()].filter(under).sort());
    }
  });

  it("top-level help, help topics and unknown commands get the whole tree", () => {
    assert.equal(commandsNeeded([]), "all");
    assert.equal(commandsNeeded(["--help"]), "all");
    assert.equal(commandsNeeded(["help", "devices"]), "all");
    assert.equal(commandsNeeded(["devics"]), "all");
    assert.deepEqual(commandsNeeded(["--version"]), []);
    assert.deepEqual(commandsNeeded(["devices", "list"]), ["devices"]);
  });
});
