#!/usr/bin/env node
// Set-up and entry point behind the README's commands: installs dependencies when the lock file
// changed, builds, then starts the gateway, runs every check, or runs the benchmarks. Plain JS so
// it works before anything is installed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { installCommandShim } from "./command-shim.mjs";
import { keepPrebuild, withKeptPrebuilds } from "./native-cache.mjs";
import { runWithLimit } from "./process-tree.mjs";

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

/** Where `npm test`'s time went, printed at its end: [label, seconds, detail lines]. */
const phases = [];

const seconds = (s) => `${s.toFixed(1)} s`;

/** Prints the phases and their times (and each phase's detail lines). */
function printPhases() {
  step("where the time went");
  const total = phases.reduce((sum, [, s]) => sum + s, 0);
  for (const [label, s, details] of phases) {
    console.error(`  ${label.padEnd(56)} ${seconds(s).padStart(8)}`);
    for (const d of details) console.error(`      ${d}`);
  }
  console.error(`  ${"total".padEnd(56)} ${seconds(total).padStart(8)}`);
}

/**
 * Starts `cmd args` with its output captured; resolves with its exit status, output and time.
 * Used for the steps that run side by side, so their outputs do not interleave.
 */
function runCaptured(label, cmd, args, opts = {}) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...opts });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.once("error", (err) => {
      output += `could not run ${cmd}: ${err.message}\n`;
    });
    child.once("close", (code, signal) => {
      resolve({
        label,
        ok: code === 0,
        status: code ?? signal,
        output,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/**
 * npm ci when the lock file changed since the last install. Asynchronous, so that what was started
 * beside it (the tests' Debian packages and OpenClaw peer) goes on meanwhile.
 */
async function ensureDependencies() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) {
    phases.push(["dependencies (installed already: no npm ci)", 0, []]);
    return;
  }
  step("installing dependencies (npm ci)");
  const started = performance.now();
  const outcome = await withKeptPrebuilds(root, () =>
    runWithLimit("npm", ["ci", "--no-audit", "--no-fund"], {
      cwd: root,
      env: { ...process.env, ...nodeHeaders() },
    }),
  );
  if (outcome !== "ok") {
    console.error("gatehouse dev: npm ci failed (its output is above)");
    process.exit(1);
  }
  // SQLite compiled from source this time: kept, so the next fresh clone's install skips it.
  const kept = keepPrebuild(root);
  phases.push([
    "dependencies (npm ci)",
    (performance.now() - started) / 1000,
    kept ? [`better-sqlite3's compiled addon kept for later installs: ${kept}`] : [],
  ]);
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
  step("bundling the client entries (esbuild)");
  run(process.execPath, [join(root, "scripts", "bundle.mjs")]);
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
const NETNS_TOOL = {
  pkg: "iproute2",
  present: () => onPath("ip"),
  missing: "`ip` (iproute2)",
  purpose: "for the network-namespace tests",
  without: "the network-namespace tests will be skipped",
};

/**
 * The Control UI's browser tests (test/ui) drive Debian's Chromium at /usr/bin/chromium with
 * playwright-core — never a downloaded browser.
 */
const CHROMIUM = {
  pkg: "chromium",
  present: () => existsSync("/usr/bin/chromium"),
  missing: "/usr/bin/chromium",
  purpose: "for the Control UI browser tests",
  without: "the Control UI browser tests will be skipped",
};

/**
 * The trusted-proxy tests (test/scenarios/trusted-proxy-nginx) put Debian's nginx in front of the
 * gateway; it runs in the foreground from a temp dir, never as a service.
 */
const NGINX = {
  pkg: "nginx",
  present: () => existsSync("/usr/sbin/nginx"),
  missing: "/usr/sbin/nginx",
  purpose: "for the trusted-proxy tests",
  without: "the trusted-proxy tests will fail until it is installed (Debian/Ubuntu: apt-get install nginx)",
};

/**
 * Every child the gateway starts runs under bubblewrap (`bwrap`), and the gateway refuses to start
 * children without it: the sub-agent and cron tests need it, and fail (never skip) without it.
 */
const BUBBLEWRAP = {
  pkg: "bubblewrap",
  present: () => onPath("bwrap"),
  missing: "bwrap (bubblewrap)",
  purpose: "(the sandbox of the gateway's children)",
  without:
    "the sub-agent and cron tests will fail until it is installed (Debian/Ubuntu: apt-get install bubblewrap)",
};

function ensureBubblewrap() {
  ensurePackage(BUBBLEWRAP);
}

/** Puts `gatehouse` on PATH (see command-shim.mjs); says where, or how to do it by hand. */
function ensureCommandOnPath() {
  const { lines } = installCommandShim({ root });
  for (const line of lines) console.error(`gatehouse dev: ${line}`);
}

/*
 * The interop tests (test/interop/openclaw-peer) drive the real OpenClaw: Node 24 and openclaw from
 * the npm registry, installed once into ~/.cache/gatehouse-test (scripts/openclaw-peer.mjs prints
 * its progress, or why the registry could not be reached; the tests then fail saying the same):
 * installOpenClawPeer below.
 */

function findTests(dir, suffix = ".test.js") {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p, suffix));
    else if (entry.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

/** The Debian packages groups of tests need (each one's why is above). */
const TEST_PACKAGES = [NETNS_TOOL, CHROMIUM, BUBBLEWRAP, NGINX];

/**
 * Installs the missing TEST_PACKAGES with one apt-get update and one apt-get install (it was one of
 * each per package); when that install fails, each package is tried alone, so one the distribution
 * lacks does not cost the others. Resolves with the step's result, or null when nothing was run.
 */
async function installTestPackages() {
  const missing = TEST_PACKAGES.filter((p) => !p.present());
  if (missing.length === 0) return null;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    for (const p of missing) console.error(`gatehouse dev: ${p.missing} not found; ${p.without}`);
    return null;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const names = missing.map((p) => p.pkg).join(" ");
  const label = `packages (apt-get install ${names})`;
  const all = await runCaptured(
    label,
    "sh",
    ["-c", `apt-get update -qq && apt-get install -y -qq ${names}`],
    {
      env,
    },
  );
  if (!all.ok && missing.length > 1) {
    for (const p of missing) {
      const one = await runCaptured(label, "apt-get", ["install", "-y", "-qq", p.pkg], { env });
      all.output += one.output;
      all.seconds += one.seconds;
    }
  }
  const still = missing.filter((p) => !p.present());
  for (const p of still) all.output += `gatehouse dev: installing ${p.pkg} failed; ${p.without}\n`;
  // A package that could not be installed is reported, not fatal: its tests say what they lack.
  all.ok = true;
  return all;
}

/**
 * The OpenClaw peer for the interop tests, installed when missing (a cached peer is a quick check).
 * Its progress lines go straight to stderr: a first install takes a minute or more.
 */
async function installOpenClawPeer() {
  const script = join(root, "scripts", "openclaw-peer.mjs");
  if (spawnSync(process.execPath, [script, "--check"]).status === 0) return null;
  console.error(
    "gatehouse dev: installing the OpenClaw peer for the interop tests (node scripts/openclaw-peer.mjs)",
  );
  const started = performance.now();
  const outcome = await runWithLimit(process.execPath, [script], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const output =
    outcome === "ok" ? "" : "gatehouse dev: the OpenClaw interop tests will fail without the peer\n";
  return {
    label: "OpenClaw peer (node scripts/openclaw-peer.mjs)",
    ok: true,
    status: outcome,
    output,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Test files that take longest (wall time, most of it waiting on real processes: OpenClaw's CLI and
 * node host, npm, Chromium, real cron seconds), started first so that no long file starts last and
 * holds the run alone at its end. Path fragments under dist/test, longest first; `npm test` prints
 * the slowest files at its end, which is where to look when this list goes stale. A file missing
 * from here only starts later; one listed that no longer exists is ignored.
 */
const SLOW_FIRST = [
  "interop/openclaw-peer.test.js",
  "model/authority-lifecycle.model.test.js",
  "tour/readme-tour.test.js",
  "cli/devices.test.js",
  "cli/lifecycle.test.js",
  "interop/openclaw-wss.test.js",
  "containers/remote-devices.test.js",
  "hardening/methods-fuzz.test.js",
  "ui/browser.test.js",
  "ui/admin-pages.test.js",
  "library/packed.test.js",
  "cli/devices-reask.test.js",
  "cli/status-audit.test.js",
  "policy/admission.test.js",
  "cli/cli.test.js",
  "containers/containers.test.js",
  "scenarios/trusted-proxy-nginx.test.js",
  "cli/dashboard.test.js",
  "hardening/handshake-fuzz.test.js",
];

/** `files` with the SLOW_FIRST ones first, in that list's order; the rest stay sorted. */
function slowFirst(files) {
  const rank = (f) => {
    const i = SLOW_FIRST.findIndex((s) => f.endsWith(join("dist", "test", s)));
    return i < 0 ? SLOW_FIRST.length : i;
  };
  return files
    .map((f, i) => [rank(f), i, f])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, , f]) => f);
}

const filter = rest.length > 0 ? rest : null;
const selected = (f) => !filter || filter.some((needle) => f.includes(needle));

/** The files `npm test` runs (with a filter: those whose path holds one of the words), in run order. */
function selectTests() {
  const files = findTests(join(root, "dist", "test")).filter(selected);
  // node --test with no files runs everything it finds: a filter that matches nothing is a mistake.
  if (filter && files.length === 0) {
    console.error(`gatehouse dev: no test file matches ${filter.join(", ")}`);
    process.exit(2);
  }
  return slowFirst(files);
}

/**
 * Everything the tests need, side by side: the build (tsc), the format check and lint (neither reads
 * the build), the Debian packages and the OpenClaw peer. Each prints its output when it ends; the
 * run stops after all have ended if the build, the format check or lint failed.
 */
async function prepareTests(installs) {
  const tool = (label, path, args) =>
    runCaptured(label, process.execPath, [join(root, "node_modules", ...path), ...args]);
  step("building, checking format and lint, installing what the tests need (side by side)");
  const started = performance.now();
  const built = tool("build (tsc)", ["typescript", "bin", "tsc"], ["-p", "tsconfig.json"]);
  // The client's bundle is made from tsc's output, so it waits for it (scripts/bundle.mjs).
  const bundled = built.then((r) =>
    r.ok ? runCaptured("bundle (esbuild)", process.execPath, [join(root, "scripts", "bundle.mjs")]) : null,
  );
  const steps = [
    built,
    bundled,
    tool("format check (prettier)", ["prettier", "bin", "prettier.cjs"], ["--check", "."]),
    tool("lint (eslint)", ["eslint", "bin", "eslint.js"], ["."]),
    ...installs,
  ].map((p) =>
    p.then((r) => {
      if (r) {
        step(`${r.label}: ${r.ok ? "done" : `FAILED (${r.status})`} in ${seconds(r.seconds)}`);
        if (r.output.trim() !== "")
          process.stderr.write(r.output.endsWith("\n") ? r.output : `${r.output}\n`);
      }
      return r;
    }),
  );
  const results = (await Promise.all(steps)).filter((r) => r !== null);
  phases.push([
    "build, format check, lint, packages, peer (side by side)",
    (performance.now() - started) / 1000,
    results.map((r) => `${r.label.padEnd(50)} ${seconds(r.seconds).padStart(8)}`),
  ]);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    printPhases();
    console.error(`gatehouse dev: ${failed.map((r) => r.label).join(", ")} failed`);
    process.exit(1);
  }
  ensureCommandOnPath();
  testFiles = selectTests();
}

let testFiles = [];

/** Runs the selected test files with node --test; prints where the time went, then exits with its status. */
function runTests() {
  const files = testFiles;
  // Files run side by side; most of their time is spent waiting on real processes and sockets, so
  // twice the cores keeps both cores busy without starving a file of CPU.
  const concurrency = 4;
  step(`tests (${files.length} files, ${concurrency} at a time, longest first)`);
  // A per-test ceiling, so a test that hangs fails with its name instead of holding the run.
  const testTimeoutMs = command === "test:stress" ? 3_600_000 : 600_000;
  const timesDir = mkdtempSync(join(tmpdir(), "gatehouse-test-times-"));
  const timesFile = join(timesDir, "times.jsonl");
  const testArgs = [
    "--test",
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${testTimeoutMs}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${join(root, "scripts", "test-times.mjs")}`,
    `--test-reporter-destination=${timesFile}`,
  ];
  const started = performance.now();
  const res = spawnSync(process.execPath, [...testArgs, ...files], {
    cwd: root,
    stdio: "inherit",
    // test:stress runs the same suite with the long variants of the hardening tests.
    env: {
      ...process.env,
      GATEHOUSE_TEST: "1",
      ...(command === "test:stress" ? { GATEHOUSE_STRESS: "1" } : {}),
    },
  });
  const times = existsSync(timesFile)
    ? readFileSync(timesFile, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l))
        .sort((a, b) => b.seconds - a.seconds)
    : [];
  rmSync(timesDir, { recursive: true, force: true });
  const testDir = join(root, "dist", "test") + "/";
  phases.push([
    `tests (${files.length} files, ${concurrency} at a time)`,
    (performance.now() - started) / 1000,
    times.length === 0
      ? []
      : [
          "slowest files:",
          ...times
            .slice(0, 8)
            .map((t) => `  ${t.file.replace(testDir, "").padEnd(46)} ${seconds(t.seconds).padStart(8)}`),
        ],
  ]);
  printPhases();
  if (res.error) {
    console.error(`gatehouse dev: could not run the tests: ${res.error.message}`);
    process.exit(1);
  }
  process.exit(res.status ?? 1);
}

/**
 * What the tests need from outside npm: the Debian packages, and the OpenClaw peer when an interop
 * test is selected. Neither needs the project's dependencies, so both start before npm ci and run
 * beside it (a first run's peer is minutes of downloading).
 */
function startTestInstalls() {
  // Before the build, the test files to be are their sources' built names.
  const wantsPeer = findTests(join(root, "test"), ".test.ts")
    .map((f) => join(root, "dist", f.slice(root.length + 1).replace(/\.ts$/, ".js")))
    .some((f) => selected(f) && f.includes(join("interop", "openclaw-peer")));
  return [installTestPackages(), wantsPeer ? installOpenClawPeer() : Promise.resolve(null)];
}

const testing = command === "test" || command === "test:stress";
const installs = testing ? startTestInstalls() : [];
await ensureDependencies();
if (testing) {
  await prepareTests(installs);
} else {
  build();
  if (command !== "bench") ensureCommandOnPath();
}

/**
 * The environment the benchmarks run in. NODE_EXTRA_CA_CERTS makes Node read and parse the named
 * certificates before any code runs, in every process (about 40 ms per start with Debian's whole
 * bundle): a property of the shell, not of what is measured, that moves every start-up row and bare
 * Node's alike. Issue 15's goals were set beside `node -e 0` at 0.07 s, which is Node without it,
 * so the benches run without it; the summary prints what it costs on this machine.
 * BENCH_KEEP_ENV=1 keeps the environment as it is.
 */
function benchEnv(base) {
  if (process.env.BENCH_KEEP_ENV === "1" || !base.NODE_EXTRA_CA_CERTS) return base;
  const { NODE_EXTRA_CA_CERTS, ...rest } = base;
  return { ...rest, GATEHOUSE_BENCH_REMOVED_CA_CERTS: NODE_EXTRA_CA_CERTS };
}

switch (command) {
  case "start":
    ensureBubblewrap();
    step("starting the gateway (Ctrl-C stops it)");
    run(process.execPath, [join(root, "dist", "src", "cli", "main.js"), "gateway", "run", ...rest]);
    break;
  case "test":
  case "test:stress":
    runTests();
    break;
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
    const env = { ...benchEnv(process.env), GATEHOUSE_BENCH_ROWS: rowsFile };
    const limitS = Number(process.env.BENCH_FILE_TIMEOUT_S ?? 600);
    if (!(limitS > 0)) {
      console.error(`gatehouse dev: BENCH_FILE_TIMEOUT_S must be a number of seconds above 0`);
      process.exit(2);
    }
    const failed = [];
    for (const f of files) {
      step(`bench ${f}`);
      // A bench that hangs (as one did, in Node's key export) must not stop the run: it is killed
      // with everything it started, and the run goes on to the next bench and the summary.
      const outcome = await runWithLimit(process.execPath, [join(root, "dist", "bench", f), ...rest], {
        cwd: root,
        env,
        limitS,
      });
      if (outcome === "timed out") {
        console.error(
          `gatehouse dev: ${f} did not finish within ${limitS} s (BENCH_FILE_TIMEOUT_S); ` +
            `stopped it and every process it started`,
        );
      }
      // One failing bench must not hide the figures of the others.
      if (outcome !== "ok") failed.push(`${f} (${outcome})`);
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
