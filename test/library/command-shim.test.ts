/**
 * The README's set-up puts `gatehouse` on PATH (scripts/command-shim.mjs, run by scripts/dev.mjs):
 * where it writes, what it never overwrites, what it says when it cannot, and that the command it
 * leaves runs this checkout. Also `npx gatehouse` inside the checkout.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { packageJson, ROOT } from "./package-entries.js";

interface ShimResult {
  ok: boolean;
  path?: string;
  lines: string[];
}
interface ShimModule {
  installCommandShim(opts: {
    root: string;
    env: NodeJS.ProcessEnv;
    uid: number;
    execPath?: string;
    systemBinDir?: string;
  }): ShimResult;
  shimText(root: string, execPath: string): string;
}

const shim = (await import(pathToFileURL(join(ROOT, "scripts", "command-shim.mjs")).href)) as ShimModule;
const version = packageJson().version;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const d = mkdtempSync(join(tmpdir(), "gatehouse-home-"));
  dirs.push(d);
  return d;
}

/** Runs `gatehouse --version` found through PATH, as a shell would. */
function runFromPath(path: string, home: string) {
  return spawnSync("sh", ["-c", "gatehouse --version"], {
    encoding: "utf8",
    env: { PATH: path, HOME: home },
  });
}

describe("set-up: the gatehouse command on PATH", () => {
  it("a user with ~/.local/bin on PATH gets a shim there that runs this checkout; a rerun changes nothing", () => {
    const h = home();
    const path = `${join(h, ".local", "bin")}:/usr/bin:/bin`;
    const res = shim.installCommandShim({ root: ROOT, env: { HOME: h, PATH: path }, uid: 1000 });
    assert.equal(res.ok, true, res.lines.join("\n"));
    assert.equal(res.path, join(h, ".local", "bin", "gatehouse"));
    assert.match(res.lines[0]!, /gatehouse` on PATH: .*\.local\/bin\/gatehouse runs this checkout's build/);
    assert.equal(statSync(res.path!).mode & 0o777, 0o755);
    const run = runFromPath(path, h);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), version);
    const before = readFileSync(res.path!, "utf8");
    const again = shim.installCommandShim({ root: ROOT, env: { HOME: h, PATH: path }, uid: 1000 });
    assert.equal(again.path, res.path);
    assert.equal(readFileSync(res.path!, "utf8"), before);
  });

  it("root without a per-user bin dir on PATH gets it in the system bin dir", () => {
    const h = home();
    const system = join(h, "usr-local-bin");
    mkdirSync(system);
    const path = `/usr/bin:${system}:/bin`;
    const res = shim.installCommandShim({
      root: ROOT,
      env: { HOME: h, PATH: path },
      uid: 0,
      systemBinDir: system,
    });
    assert.equal(res.path, join(system, "gatehouse"));
    assert.equal(runFromPath(path, h).stdout.trim(), version);
    // A non-root user may not use the system dir: nothing is written, the set-up says how instead.
    const other = home();
    const refused = shim.installCommandShim({
      root: ROOT,
      env: { HOME: other, PATH: `/usr/bin:${join(other, "sys")}` },
      uid: 1000,
      systemBinDir: join(other, "sys"),
    });
    assert.equal(refused.ok, false);
    assert.equal(existsSync(join(other, "sys", "gatehouse")), false);
    const text = refused.lines.join("\n");
    assert.match(text, /is not on PATH/);
    assert.match(text, /npm link/);
    assert.match(text, /export PATH="\$HOME\/\.local\/bin:\$PATH"/);
    assert.match(text, /npx gatehouse/);
  });

  it("never overwrites a gatehouse it did not write, and says which one is on PATH", () => {
    const h = home();
    const foreign = join(h, "bin");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "gatehouse"), "#!/bin/sh\necho someone-else\n", { mode: 0o755 });
    const path = `${foreign}:${join(h, ".local", "bin")}:/usr/bin:/bin`;
    const res = shim.installCommandShim({ root: ROOT, env: { HOME: h, PATH: path }, uid: 1000 });
    assert.equal(res.ok, false);
    assert.match(res.lines[0]!, /gatehouse` on PATH is .*\/bin\/gatehouse, which this set-up did not write/);
    assert.equal(readFileSync(join(foreign, "gatehouse"), "utf8"), "#!/bin/sh\necho someone-else\n");
    assert.equal(existsSync(join(h, ".local", "bin", "gatehouse")), false);
  });

  it("moves its own shim left by another checkout to this one, wherever it is on PATH", () => {
    const h = home();
    const anywhere = join(h, "tools");
    mkdirSync(anywhere);
    writeFileSync(join(anywhere, "gatehouse"), shim.shimText("/gone/checkout", process.execPath), {
      mode: 0o755,
    });
    const stale = runFromPath(`${anywhere}:/usr/bin:/bin`, h);
    assert.equal(stale.status, 127, "a shim whose checkout is gone says so");
    assert.match(
      stale.stderr,
      /\/gone\/checkout\/dist\/src\/cli\/main\.js is missing; .*npm install -g gatehouse-gateway/,
    );
    const res = shim.installCommandShim({
      root: ROOT,
      env: { HOME: h, PATH: `${anywhere}:/usr/bin:/bin` },
      uid: 1000,
    });
    assert.equal(res.path, join(anywhere, "gatehouse"));
    assert.equal(runFromPath(`${anywhere}:/usr/bin:/bin`, h).stdout.trim(), version);
  });

  it("can be turned off with GATEHOUSE_NO_COMMAND_SHIM=1", () => {
    const h = home();
    const res = shim.installCommandShim({
      root: ROOT,
      env: { HOME: h, PATH: join(h, ".local", "bin"), GATEHOUSE_NO_COMMAND_SHIM: "1" },
      uid: 1000,
    });
    assert.equal(res.ok, false);
    assert.equal(existsSync(join(h, ".local", "bin", "gatehouse")), false);
  });

  it("npx gatehouse --version inside the checkout prints Gatehouse's version", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home() };
    for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
    const run = spawnSync("npx", ["--no-install", "gatehouse", "--version"], {
      cwd: ROOT,
      encoding: "utf8",
      env,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), version);
  });
});
