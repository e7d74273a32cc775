#!/usr/bin/env node
// Set-up and entry point behind the README's commands: installs dependencies when the lock file
// changed, builds, then starts the gateway, runs every check, or runs the benchmarks. Plain JS so
// it works before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

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

switch (command) {
  case "start":
    step("starting the gateway (Ctrl-C stops it)");
    run(process.execPath, [join(root, "dist", "src", "cli", "main.js"), "gateway", "run", ...rest]);
    break;
  case "test": {
    step("format check (prettier)");
    run(process.execPath, [join(root, "node_modules", "prettier", "bin", "prettier.cjs"), "--check", "."]);
    step("lint (eslint)");
    run(process.execPath, [join(root, "node_modules", "eslint", "bin", "eslint.js"), "."]);
    const filter = rest.length > 0 ? rest : null;
    const files = findTests(join(root, "dist", "test")).filter(
      (f) => !filter || filter.some((needle) => f.includes(needle)),
    );
    step(`tests (${files.length} files)`);
    run(process.execPath, ["--test", "--test-concurrency=4", "--test-reporter=spec", ...files], {
      env: { ...process.env, GATEHOUSE_TEST: "1" },
    });
    break;
  }
  case "bench": {
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
    console.error(`usage: node scripts/dev.mjs start|test|bench [args]`);
    process.exit(2);
}
