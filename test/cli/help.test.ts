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

const all = walk(await buildProgram(() => {}));

/** What `gatehouse <path> --help` prints, help texts added after the options included. */
function helpOf(cmd: Command): string {
  let text = "";
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

const CONNECTION_FLAGS = [
  "--url",
  "--token",
  "--password",
  "--timeout",
  "--state-dir",
  "--allow-insecure",
  "--tls-fingerprint",
  "--trust-fingerprint",
  "--wait",
];

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
    const program = await buildProgram(() => {});
    for (const name of program
      .createHelp()
      .visibleCommands(program)
      .map((c) => c.name())) {
      if (name === "help") continue;
      assert.match(top.stdout, new RegExp(`\\n  ${name}\\b`), `${name} missing from gatehouse --help`);
      const r = await runCli([name, "--help"]);
      assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: gatehouse ${name}`), name);
    }
  });

  it("every command's help ends with examples that start with gatehouse", () => {
    for (const { path, cmd } of all) {
      if (path[0] === "connection") continue;
      const text = helpOf(cmd);
      const section = text.split("\nExamples:\n")[1];
      assert.ok(section, `gatehouse ${path.join(" ")} --help has no Examples section`);
      // The section ends at the first blank line (a command may explain more after it).
      const lines = section
        .split("\n\n")[0]!
        .split("\n")
        .filter((l) => /^ {2}(\$ )?\S/.test(l));
      assert.ok(lines.length > 0, `gatehouse ${path.join(" ")}: no example commands`);
      for (const line of lines)
        assert.match(line, /^ {2}(\$ )?(\S+=\S+ )?gatehouse /, `gatehouse ${path.join(" ")}`);
    }
  });

  it("connection flags are listed once (gatehouse help connection), not under every command", async () => {
    let withConnection = 0;
    for (const { path, cmd } of all) {
      const takes = cmd.options.some((o) => o.long === "--url");
      if (!takes) continue;
      withConnection++;
      const text = helpOf(cmd);
      const options = text.split("\nOptions:\n")[1]!.split("\n\n")[0]!;
      for (const flag of CONNECTION_FLAGS) {
        assert.doesNotMatch(
          options,
          new RegExp(`^  ${flag}\\b`, "m"),
          `gatehouse ${path.join(" ")} lists ${flag}`,
        );
      }
      assert.match(text, /\nConnection options: --url, --token, .*\n.*\(see: gatehouse help connection\)/);
    }
    assert.ok(withConnection > 20, `${withConnection} commands take the connection flags`);

    const top = await runCli(["--help"]);
    assert.match(top.stdout, /Connection options: --url/);
    const r = await runCli(["help", "connection"]);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of CONNECTION_FLAGS) {
      assert.match(r.stdout, new RegExp(`^  ${flag}\\b.* \\S`, "m"), `help connection describes ${flag}`);
    }
    assert.match(r.stdout, /GATEHOUSE_GATEWAY_URL/);
  });

  it("one name per meaning: --time-limit wherever work runs; old spellings work but are not shown", () => {
    for (const path of [
      ["sessions", "spawn"],
      ["cron", "add"],
      ["nodes", "invoke"],
    ]) {
      const cmd = all.find((c) => c.path.join(" ") === path.join(" "))!.cmd;
      const text = helpOf(cmd);
      assert.match(text, /--time-limit <duration>/, path.join(" "));
      assert.doesNotMatch(text, /--timeout-ms|--invoke-timeout/, path.join(" "));
      assert.ok(
        cmd.options.some((o) => (o.long === "--timeout-ms" || o.long === "--invoke-timeout") && o.hidden),
      );
    }
    for (const name of ["rename", "rotate", "revoke", "remove"]) {
      const cmd = all.find((c) => c.path.join(" ") === `devices ${name}`)!.cmd;
      assert.match(
        helpOf(cmd),
        new RegExp(`^Usage: gatehouse devices ${name} \\[options\\] [<\\[]deviceId[>\\]]`),
        name,
      );
      assert.doesNotMatch(helpOf(cmd), /--device/, name);
    }
  });

  it("call --list lists every built-in method with the scope it needs, without a gateway", async () => {
    const r = await runCli(["call", "--list"], { GATEHOUSE_GATEWAY_URL: "ws://127.0.0.1:9" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^METHOD +NEEDS +WHAT$/m);
    assert.match(r.stdout, /^health +operator\.read +is the gateway up$/m);
    assert.match(r.stdout, /^sessions\.spawn +operator\.admin +start a sub-agent/m);
    assert.match(r.stdout, /^node\.invoke\.result +role node/m);
    const j = await runCli(["call", "--list", "--json"]);
    const { methods } = JSON.parse(j.stdout) as { methods: Array<{ method: string; scope: string | null }> };
    assert.ok(methods.length > 20);
    assert.deepEqual(methods.find((m) => m.method === "device.pair.approve")?.scope, "operator.pairing");
  });
});
