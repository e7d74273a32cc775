/**
 * Usage errors at every level of the command tree: exit status 2 (README: 2 = bad usage), one
 * `error CODE: …` line with a "did you mean", and with --json a JSON error object on stdout and no prose.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/program.js";
import { runCli, tempStateDir } from "../helpers/gateway-process.js";

interface JsonError {
  error: { code: string; message: string; hint?: string; didYouMean?: string; commands?: string[] };
}

// Never reach a real gateway or the user's state dir.
const env = { GATEHOUSE_STATE_DIR: tempStateDir(), GATEHOUSE_GATEWAY_URL: "ws://127.0.0.1:9" };
const cli = (args: string[]) => runCli(args, env);

/** Every command that has subcommands, as its path under `gatehouse`. */
function groups(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.flatMap((c) =>
    c.commands.length > 0 ? [[...path, c.name()], ...groups(c, [...path, c.name()])] : [],
  );
}

describe("usage errors", () => {
  it("a misspelt subcommand exits 2 with a did-you-mean at every level", async () => {
    const top = await cli(["devics"]);
    assert.equal(top.code, 2);
    assert.equal(
      top.stderr,
      "error UNKNOWN_COMMAND: gatehouse: unknown command 'devics' — did you mean devices? (see: gatehouse --help)\n",
    );
    assert.equal(top.stdout, "");

    const program = await buildProgram(() => {});
    const all = groups(program);
    assert.ok(all.length >= 6, `command groups: ${all.map((p) => p.join(" ")).join(", ")}`);
    for (const path of all) {
      const group = path.reduce<Command>(
        (cmd, name) => cmd.commands.find((c) => c.name() === name)!,
        program,
      );
      const first = group.commands[0]!.name();
      // One letter dropped: close enough for a suggestion.
      const typo = first.slice(0, -1);
      const r = await cli([...path, typo]);
      assert.equal(r.code, 2, `gatehouse ${path.join(" ")} ${typo}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `^error UNKNOWN_COMMAND: gatehouse ${path.join(" ")}: unknown command '${typo}' — did you mean ${first}\\?`,
        ),
      );
    }
  });

  it("a word with no near match lists the commands there are", async () => {
    const r = await cli(["devices", "xyzzy"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error UNKNOWN_COMMAND: gatehouse devices: unknown command 'xyzzy' — gatehouse devices has: list, approve, reject/,
    );
  });

  it("unknown flags, missing arguments and extra arguments exit 2 naming the command", async () => {
    const flag = await cli(["devices", "list", "--bogus"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^error UNKNOWN_OPTION: gatehouse devices list: unknown option '--bogus'/);
    const missing = await cli(["devices", "reject"]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^error MISSING_ARGUMENT: gatehouse devices reject: missing required argument 'requestId'/,
    );
    const extra = await cli(["status", "now"]);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /^error TOO_MANY_ARGUMENTS: gatehouse status: too many arguments/);
  });

  it("a command group run bare prints its help and exits 2", async () => {
    const r = await cli(["cron"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Usage: gatehouse cron/);
    assert.match(
      r.stderr,
      /\nerror MISSING_COMMAND: gatehouse cron needs a command: add, list, remove, enable, disable, run/,
    );
  });

  it("with --json a usage error is one JSON object on stdout and nothing on stderr", async () => {
    const r = await cli(["devices", "lst", "--json"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "");
    const { error } = JSON.parse(r.stdout) as JsonError;
    assert.deepEqual(error, {
      code: "UNKNOWN_COMMAND",
      message: "gatehouse devices: unknown command 'lst'",
      hint: "did you mean list? (see: gatehouse devices --help)",
      didYouMean: "list",
    });

    const flag = await cli(["sessions", "list", "--json", "--limit"]);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "");
    assert.equal((JSON.parse(flag.stdout) as JsonError).error.code, "MISSING_ARGUMENT");

    const bare = await cli(["cron", "--json"]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stderr, "");
    assert.ok((JSON.parse(bare.stdout) as JsonError).error.code);
  });

  it("--json after -- belongs to the command being spawned, not to gatehouse", async () => {
    const r = await cli(["sessions", "spwn", "--", "echo", "--json"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /did you mean spawn\?/);
  });

  it("--help, help <command> and --version still exit 0", async () => {
    for (const args of [["--help"], ["help", "devices"], ["devices", "--help"], ["--version"]]) {
      const r = await cli(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0);
    }
  });
});
