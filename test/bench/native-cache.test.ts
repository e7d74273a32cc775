/**
 * A fresh clone's `npm ci` takes better-sqlite3's addon from the build kept by an earlier install
 * (scripts/native-cache.mjs) instead of compiling SQLite for a minute: the kept file has the name
 * prebuild-install asks for, and prebuild-install itself, run as npm runs better-sqlite3's install
 * script (through sh, from the package's folder; offline), puts back the very addon that was kept.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT } from "../library/package-entries.js";

interface NativeCache {
  prebuildsDir(env?: NodeJS.ProcessEnv): string;
  prebuildName(version: string): string;
  withKeptPrebuilds<T>(root: string, install: () => T | Promise<T>, env?: NodeJS.ProcessEnv): Promise<T>;
  PREBUILD_RC: string;
  keepPrebuild(root: string, env?: NodeJS.ProcessEnv): string | null;
}

const cache = (await import(pathToFileURL(join(ROOT, "scripts", "native-cache.mjs")).href)) as NativeCache;
const require = createRequire(import.meta.url);
const realPkg = join(ROOT, "node_modules", "better-sqlite3");
const realAddon = join(realPkg, "build", "Release", "better_sqlite3.node");
const version = (JSON.parse(readFileSync(join(realPkg, "package.json"), "utf8")) as { version: string })
  .version;

const dir = mkdtempSync(join(tmpdir(), "gatehouse-native-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A project whose better-sqlite3 is the checkout's (its package.json and compiled addon only). */
function project(name: string, withAddon: boolean): { root: string; pkg: string; env: NodeJS.ProcessEnv } {
  const root = join(dir, name);
  const pkg = join(root, "node_modules", "better-sqlite3");
  mkdirSync(join(pkg, "build", "Release"), { recursive: true });
  copyFileSync(join(realPkg, "package.json"), join(pkg, "package.json"));
  if (withAddon) copyFileSync(realAddon, join(pkg, "build", "Release", "better_sqlite3.node"));
  return { root, pkg, env: { ...process.env, GATEHOUSE_BUILD_CACHE: join(dir, `${name}-cache`) } };
}

describe("better-sqlite3's kept build", () => {
  it("is named as prebuild-install names the release asset for this Node", () => {
    const util = require(join(ROOT, "node_modules", "prebuild-install", "util.js")) as {
      getDownloadUrl(opts: object): string;
    };
    const pkg = JSON.parse(readFileSync(join(realPkg, "package.json"), "utf8")) as object;
    const url = util.getDownloadUrl({ pkg, runtime: "node", platform: process.platform, arch: process.arch });
    assert.equal(cache.prebuildName(version), basename(url));
  });

  it("is kept once after an install that compiled, and not without an addon", () => {
    const { root, env } = project("keep", true);
    const file = cache.keepPrebuild(root, env);
    assert.equal(file, join(cache.prebuildsDir(env), cache.prebuildName(version)));
    assert.ok(existsSync(file!));
    const listing = spawnSync("tar", ["-tzf", file!], { encoding: "utf8" }).stdout.trim();
    assert.equal(listing, "build/Release/better_sqlite3.node");
    assert.equal(cache.keepPrebuild(root, env), null, "kept already: not written again");
    const bare = project("bare", false);
    assert.equal(cache.keepPrebuild(bare.root, bare.env), null);
    assert.ok(!existsSync(cache.prebuildsDir(bare.env)));
  });

  it("is what better-sqlite3's install script unpacks, offline, instead of compiling", async () => {
    const from = project("from", true);
    cache.keepPrebuild(from.root, from.env);
    const to = project("to", false);
    const installed = join(to.pkg, "build", "Release", "better_sqlite3.node");
    // As npm runs an install script: through sh, from the package's folder, in the project's tree.
    const script = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "node_modules", "prebuild-install", "bin.js"))} --verbose`;
    const res = await cache.withKeptPrebuilds(
      to.root,
      () => spawnSync("sh", ["-c", script], { cwd: to.pkg, encoding: "utf8", env: from.env }),
      from.env,
    );
    assert.equal(res.status, 0, res.stderr);
    // Taken from the kept folder, not downloaded (which offline fails anyway).
    assert.match(res.stderr, /found local prebuild/);
    assert.deepEqual(readFileSync(installed), readFileSync(realAddon));
    assert.ok(!existsSync(join(to.root, cache.PREBUILD_RC)), "the installer's config is gone afterwards");
  });
});
