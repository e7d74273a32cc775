#!/usr/bin/env node
// Set-up and entry point behind the README's commands: installs dependencies when the lock file
// changed, builds, then starts the gateway, runs every check, or runs the benchmarks. Plain JS so
// it works before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { installCommandShim } from "./command-shim.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [command = "test", ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (res.error) {
    console.error(`gatehouse dev: could not run ${cmd}: ${res.error.message}`);
    process.exit(1);
  }
  if (res.status !== 0) process.exit(res.status ?? 1);
}

function step(label) {
  console.error(`\n== ${label}`);
}

function ensureDependencies() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  step("installing dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"], { env: { ...process.env, ...nodeHeaders() } });
}

/**
 * Offline, better-sqlite3 is built by node-gyp, which downloads Node's headers unless told where
 * they are; the running Node's own headers (Debian's nodejs puts them in /usr/include/node) are the
 * right ones, so npm is pointed at them unless the caller already chose a nodedir.
 */
function nodeHeaders() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = join(dirname(process.execPath), "..");
  return existsSync(join(prefix, "include", "node", "node_version.h")) ? { npm_config_nodedir: prefix } : {};
}

function build() {
  step("building (tsc)");
  run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
}

/** True when `cmd` is an executable on PATH. */
function onPath(cmd) {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      return dir !== "" && statSync(join(dir, cmd)).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Installs a Debian package a group of tests needs when `present()` says it is missing: as root
 * with apt-get; otherwise (or when that fails) says what happens to those tests and goes on.
 */
function ensurePackage({ pkg, present, missing, purpose, without }) {
  if (present()) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error(`gatehouse dev: ${missing} not found; ${without}`);
    return;
  }
  const command = `apt-get update -qq && apt-get install -y -qq ${pkg}`;
  step(`installing ${pkg} ${purpose} (${command})`);
  const res = spawnSync("sh", ["-c", command], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (res.error || res.status !== 0) {
    console.error(
      `gatehouse dev: installing ${pkg} failed (${res.error?.message ?? `exit ${res.status}`}); ${without}`,
    );
  }
}

/** The container tests (test/containers) need `ip` from iproute2 to make network namespaces. */
function ensureNetnsTool() {
  ensurePackage({
    pkg: "iproute2",
    present: () => onPath("ip"),
    missing: "`ip` (iproute2)",
    purpose: "for the network-namespace tests",
    without: "the network-namespace tests will be skipped",
  });
}

/**
 * The Control UI's browser tests (test/ui) drive Debian's Chromium at /usr/bin/chromium with
 * playwright-core — never a downloaded browser.
 */
function ensureChromium() {
  ensurePackage({
    pkg: "chromium",
    present: () => existsSync("/usr/bin/chromium"),
    missing: "/usr/bin/chromium",
    purpose: "for the Control UI browser tests",
    without: "the Control UI browser tests will be skipped",
  });
}

/**
 * The trusted-proxy tests (test/scenarios/trusted-proxy-nginx) put Debian's nginx in front of the
 * gateway; it runs in the foreground from a temp dir, never as a service.
 */
function ensureNginx() {
  ensurePackage({
    pkg: "nginx",
    present: () => existsSync("/usr/sbin/nginx"),
    missing: "/usr/sbin/nginx",
    purpose: "for the trusted-proxy tests",
    without: "the trusted-proxy tests will fail until it is installed (Debian/Ubuntu: apt-get install nginx)",
  });
}

/** Puts `gatehouse` on PATH (see command-shim.mjs); says where, or how to do it by hand. */
function ensureCommandOnPath() {
  const { lines } = installCommandShim({ root });
  for (const line of lines) console.error(`gatehouse dev: ${line}`);
}

/**
 * Every child the gateway starts runs under bubblewrap (`bwrap`), and the gateway refuses to start
 * children without it: the sub-agent and cron tests need it, and fail (never skip) without it.
 */
function ensureBubblewrap() {
  ensurePackage({
    pkg: "bubblewrap",
    present: () => onPath("bwrap"),
    missing: "bwrap (bubblewrap)",
    purpose: "(the sandbox of the gateway's children)",
    without:
      "the sub-agent and cron tests will fail until it is installed (Debian/Ubuntu: apt-get install bubblewrap)",
  });
}

/**
 * The interop tests (test/interop/openclaw-peer) drive the real OpenClaw: Node 24 and openclaw from
 * the npm registry, installed once into ~/.cache/gatehouse-test (scripts/openclaw-peer.mjs prints
 * its progress, or why the registry could not be reached; the tests then fail saying the same).
 */
function ensureOpenClawPeer() {
  const script = join(root, "scripts", "openclaw-peer.mjs");
  if (spawnSync(process.execPath, [script, "--check"]).status === 0) return;
  step("installing the OpenClaw peer for the interop tests (node scripts/openclaw-peer.mjs)");
  const res = spawnSync(process.execPath, [script], { stdio: ["ignore", "ignore", "inherit"] });
  if (res.status !== 0) console.error("gatehouse dev: the OpenClaw interop tests will fail without the peer");
}

function findTests(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith(".test.js")) out.push(p);
  }
  return out.sort();
}

ensureDependencies();
build();
if (command !== "bench") ensureCommandOnPath();

switch (command) {
  case "start":
    ensureBubblewrap();
    step("starting the gateway (Ctrl-C stops it)");
    run(process.execPath, [join(root, "dist", "src", "cli", "main.js"), "gateway", "run", ...rest]);
    break;
  case "test":
  case "test:stress": {
    step("format check (prettier)");
    run(process.execPath, [join(root, "node_modules", "prettier", "bin", "prettier.cjs"), "--check", "."]);
    step("lint (eslint)");
    run(process.execPath, [join(root, "node_modules", "eslint", "bin", "eslint.js"), "."]);
    ensureNetnsTool();
    ensureChromium();
    ensureBubblewrap();
    ensureNginx();
    const filter = rest.length > 0 ? rest : null;
    const files = findTests(join(root, "dist", "test")).filter(
      (f) => !filter || filter.some((needle) => f.includes(needle)),
    );
    // node --test with no files runs everything it finds: a filter that matches nothing is a mistake.
    if (filter && files.length === 0) {
      console.error(`gatehouse dev: no test file matches ${filter.join(", ")}`);
      process.exit(2);
    }
    if (files.some((f) => f.includes(join("interop", "openclaw-peer")))) ensureOpenClawPeer();
    step(`tests (${files.length} files)`);
    // A per-test ceiling, so a test that hangs fails with its name instead of holding the run.
    const testTimeoutMs = command === "test:stress" ? 3_600_000 : 600_000;
    const testArgs = [
      "--test",
      "--test-concurrency=4",
      `--test-timeout=${testTimeoutMs}`,
      "--test-reporter=spec",
    ];
    run(process.execPath, [...testArgs, ...files], {
      // test:stress runs the same suite with the long variants of the hardening tests.
      env: {
        ...process.env,
        GATEHOUSE_TEST: "1",
        ...(command === "test:stress" ? { GATEHOUSE_STRESS: "1" } : {}),
      },
    });
    break;
  }
  case "bench": {
    ensureBubblewrap();
    // BENCH_ONLY=paired,load runs only the bench files whose name holds one of those words.
    const only = (process.env.BENCH_ONLY ?? "").split(",").filter((w) => w !== "");
    const files = readdirSync(join(root, "dist", "bench"))
      .filter((f) => f.endsWith(".bench.js") && (only.length === 0 || only.some((w) => f.includes(w))))
      .sort();
    // Every bench file appends its figures here (bench/report.ts); the summary prints them together.
    const rowsDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-"));
    const rowsFile = join(rowsDir, "rows.jsonl");
    const env = { ...process.env, GATEHOUSE_BENCH_ROWS: rowsFile };
    const failed = [];
    for (const f of files) {
      step(`bench ${f}`);
      const res = spawnSync(process.execPath, [join(root, "dist", "bench", f), ...rest], {
        cwd: root,
        stdio: "inherit",
        env,
      });
      // One failing bench must not hide the figures of the others.
      if (res.status !== 0) failed.push(f);
    }
    step("summary");
    run(process.execPath, [join(root, "dist", "bench", "summary.js"), rowsFile]);
    rmSync(rowsDir, { recursive: true, force: true });
    if (failed.length > 0) {
      console.error(`gatehouse dev: bench failed: ${failed.join(", ")}`);
      process.exit(1);
    }
    break;
  }
  default:
    console.error(`usage: node scripts/dev.mjs start|test|test:stress|bench [args]`);
    process.exit(2);
}
