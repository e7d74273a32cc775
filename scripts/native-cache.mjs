// better-sqlite3's compiled addon, kept between installs. Offline (no GitHub for its prebuilt
// binaries), `npm ci` compiles SQLite from source: about a minute of one core, most of a fresh
// clone's install. Its install script (`prebuild-install || node-gyp rebuild`) first looks for a
// "local prebuild" under the name of the release asset it would download; npm ci is pointed at a
// folder of such files (withKeptPrebuilds), and after an install that compiled, the addon is kept
// there for the next fresh clone. prebuild-install `require`s what it unpacks, and falls back to
// compiling when that fails, so a damaged file costs the compile and nothing else. Plain JS:
// scripts/dev.mjs runs it before anything is built.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where kept builds live (GATEHOUSE_BUILD_CACHE overrides ~/.cache/gatehouse-build). */
export function prebuildsDir(env = process.env) {
  return join(env.GATEHOUSE_BUILD_CACHE || join(homedir(), ".cache", "gatehouse-build"), "prebuilds");
}

/**
 * The file prebuild-install looks for: better-sqlite3's release asset name for this Node's ABI,
 * platform and architecture (glibc; musl's names differ and are not kept).
 */
export function prebuildName(version) {
  return `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
}

/**
 * Runs `install` (npm ci) with better-sqlite3's installer pointed at the kept builds: a
 * `.prebuild-installrc` in the project root, which prebuild-install's `rc` finds walking up from
 * the package's folder. Not an environment variable: npm warns of an `npm_config_*` name it does
 * not know, and `sh`, which runs the install script, drops a `prebuild-install_*` one (not a valid
 * shell name). The file is removed afterwards, and ignored by git should a crash leave it; one the
 * user wrote is left alone (and used as it is).
 */
export async function withKeptPrebuilds(root, install, env = process.env) {
  const rcFile = join(root, PREBUILD_RC);
  if (existsSync(rcFile)) return install();
  writeFileSync(rcFile, `local-prebuilds=${prebuildsDir(env)}\n`);
  try {
    return await install();
  } finally {
    rmSync(rcFile, { force: true });
  }
}

/** The installer's own config file, in the project root while npm ci runs. */
export const PREBUILD_RC = ".prebuild-installrc";

/** Whether this Node runs on glibc (the only libc whose asset name {@link prebuildName} spells). */
function onGlibc() {
  return Boolean(process.report?.getReport().header.glibcVersionRuntime);
}

/**
 * Keeps the addon of the better-sqlite3 installed under `root` for later installs, unless one is
 * kept already for its version and this Node; returns the file written, or null.
 */
export function keepPrebuild(root, env = process.env) {
  const pkgDir = join(root, "node_modules", "better-sqlite3");
  const addon = join(pkgDir, "build", "Release", "better_sqlite3.node");
  if (!existsSync(addon)) return null;
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const dir = prebuildsDir(env);
  const file = join(dir, prebuildName(version));
  // Kept already (the install just unpacked it, as a fresh clone's does): nothing to write or ask.
  if (existsSync(file) || !onGlibc()) return null;
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed, so a concurrent install never unpacks half a file.
  const partial = `${file}.${process.pid}.partial`;
  try {
    execFileSync("tar", ["-czf", partial, "-C", pkgDir, "build/Release/better_sqlite3.node"], {
      stdio: "ignore",
    });
    renameSync(partial, file);
    return file;
  } catch {
    rmSync(partial, { force: true });
    return null;
  }
}
