#!/usr/bin/env node
// Set-up and entry point behind the README's commands: installs dependencies when the lock file
// changed, builds, then starts the gateway, runs every check, or runs the benchmarks. Plain JS so
// it works before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
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
  run("npm", ["ci", "--no-audit", "--no-fund"]);
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
 * The container tests (test/containers) need `ip` from iproute2 to make network namespaces. As
 * root with apt-get, install it when missing; if that fails, go on: those tests skip with a reason.
 */
function ensureNetnsTool() {
  if (onPath("ip")) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error("gatehouse dev: `ip` (iproute2) not found; the network-namespace tests will be skipped");
    return;
  }
  step(
    "installing iproute2 for the network-namespace tests (apt-get update -qq && apt-get install -y -qq iproute2)",
  );
  const res = spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq iproute2"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (res.error || res.status !== 0) {
    console.error(
      `gatehouse dev: installing iproute2 failed (${res.error?.message ?? `exit ${res.status}`}); ` +
        "the network-namespace tests will be skipped",
    );
  }
}

/**
 * The Control UI's browser tests (test/ui) drive Debian's Chromium at /usr/bin/chromium with
 * playwright-core — never a downloaded browser. As root with apt-get, install it when missing; if
 * that fails, go on: those tests skip with the reason.
 */
function ensureChromium() {
  if (existsSync("/usr/bin/chromium")) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error("gatehouse dev: /usr/bin/chromium not found; the Control UI browser tests will be skipped");
    return;
  }
  step(
    "installing Chromium for the Control UI browser tests (apt-get update -qq && apt-get install -y -qq chromium)",
  );
  const res = spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq chromium"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (res.error || res.status !== 0) {
    console.error(
      `gatehouse dev: installing chromium failed (${res.error?.message ?? `exit ${res.status}`}); ` +
        "the Control UI browser tests will be skipped",
    );
  }
}

/** Puts `gatehouse` on PATH (see command-shim.mjs); says where, or how to do it by hand. */
function ensureCommandOnPath() {
  const { lines } = installCommandShim({ root });
  for (const line of lines) console.error(`gatehouse dev: ${line}`);
}

/**
 * Every child the gateway starts runs under bubblewrap (`bwrap`), and the gateway refuses to start
 * children without it, so the runtime tests need it. As root with apt-get, install it when missing;
 * otherwise say how — those tests then fail with the same install hint (they never skip).
 */
function ensureBubblewrap() {
  if (onPath("bwrap")) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error(
      "gatehouse dev: bwrap (bubblewrap) not found; the sub-agent and cron tests will fail until it is installed " +
        "(Debian/Ubuntu: sudo apt-get install bubblewrap)",
    );
    return;
  }
  step(
    "installing bubblewrap, the children's sandbox (apt-get update -qq && apt-get install -y -qq bubblewrap)",
  );
  const res = spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq bubblewrap"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (res.error || res.status !== 0) {
    console.error(
      `gatehouse dev: installing bubblewrap failed (${res.error?.message ?? `exit ${res.status}`}); ` +
        "the sub-agent and cron tests will fail until it is installed",
    );
  }
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
    const filter = rest.length > 0 ? rest : null;
    const files = findTests(join(root, "dist", "test")).filter(
      (f) => !filter || filter.some((needle) => f.includes(needle)),
    );
    step(`tests (${files.length} files)`);
    run(process.execPath, ["--test", "--test-concurrency=4", "--test-reporter=spec", ...files], {
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
    const files = readdirSync(join(root, "dist", "bench"))
      .filter((f) => f.endsWith(".bench.js"))
      .sort();
    for (const f of files) {
      step(`bench ${f}`);
      run(process.execPath, [join(root, "dist", "bench", f), ...rest]);
    }
    break;
  }
  default:
    console.error(`usage: node scripts/dev.mjs start|test|test:stress|bench [args]`);
    process.exit(2);
}
