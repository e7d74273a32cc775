/**
 * Issue 14, first Done-when: a newcomer's first minutes, exactly as the README writes them. A copy
 * of this checkout's files (what a clone holds, plus uncommitted work) in a temp dir, a temp HOME,
 * `npm start` doing the set-up (build, `gatehouse` on PATH) and starting the gateway, then the
 * quick tour with `gatehouse` found on PATH by the shell, and the printed Control UI URL opened in
 * Chromium to a connected page.
 *
 * Three shortcuts, each proven elsewhere: the installed dependencies are hard-linked from this
 * checkout instead of `npm ci` (CI runs `npm test` on a clean clone, which is that step); the
 * build of these very sources is copied in with its incremental state, so `npm start`'s tsc finds
 * nothing to compile (the same tsc -p tsconfig.json builds the clean clone in CI; a full build here
 * was 16 s of CPU for nothing new), and the test checks that `npm start` did run the build step;
 * and the port comes from `GATEHOUSE_PORT` (documented) so the test never fights a real gateway on
 * 18789.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { generateIdentity } from "../../src/identity/keys.js";
import { freePort, tempStateDir } from "../helpers/gateway-process.js";
import { openPeer, sendConnect } from "../helpers/raw-client.js";
import {
  chromiumUnavailableReason,
  launchChromium,
  navigate,
  screenshot,
  waitForConnState,
} from "../ui/chromium.js";

const checkout = fileURLToPath(new URL("../../../", import.meta.url));
const scratch = tempStateDir();
const clone = join(scratch, "clone");
const home = join(scratch, "home");
let port = 0;
let env: NodeJS.ProcessEnv = {};
const running: ChildProcess[] = [];

/** Copies the files a clone would hold (tracked and not ignored) into `clone`. */
function copyCheckout(): void {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: checkout,
    encoding: "utf8",
  });
  assert.equal(listed.status, 0, `git ls-files failed: ${listed.stderr}`);
  for (const rel of listed.stdout.split("\0")) {
    const from = join(checkout, rel);
    if (rel === "" || !existsSync(from)) continue;
    mkdirSync(dirname(join(clone, rel)), { recursive: true });
    copyFileSync(from, join(clone, rel));
  }
  const linked = spawnSync("cp", ["-al", join(checkout, "node_modules"), join(clone, "node_modules")]);
  assert.equal(linked.status, 0, String(linked.stderr));
  // A copy, not links: tsc rewrites what it emits in place, and the checkout's build must not change.
  cpSync(join(checkout, "dist"), join(clone, "dist"), { recursive: true });
  // Newer than the copied package-lock.json: the set-up sees the dependencies as installed.
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(clone, "node_modules", ".package-lock.json"), later, later);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one README line through the shell, as a user would type it. */
function sh(line: string, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", line], { cwd: home, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running README line; resolves with its output so far once `ready` matches it. */
function startLine(line: string, cwd: string, ready: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", `exec ${line}`], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    running.push(child);
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`${line}: not ready in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${line} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Stops a started line (its whole process group: npm, the set-up script, the gateway). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid!, "SIGTERM");
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The start paths' line about the Control UI: `Control UI: URL` on a terminal, `control ui url=URL` in a piped log. */
const READY = /(Control UI: |control ui url=)http:\/\/127\.0\.0\.1:\d+\//;

const chromiumReason = chromiumUnavailableReason();
let browser: Browser | null = null;

before(async () => {
  copyCheckout();
  mkdirSync(join(home, ".local", "bin"), { recursive: true });
  port = await freePort();
  // A newcomer's shell: HOME, a PATH with ~/.local/bin and the system's Node, nothing of ours.
  env = {
    HOME: home,
    PATH: `${join(home, ".local", "bin")}:${dirname(process.execPath)}:/usr/bin:/bin:/usr/sbin:/sbin`,
    GATEHOUSE_PORT: String(port),
    LANG: "C.UTF-8",
  };
  if (!chromiumReason) browser = await launchChromium();
});

after(async () => {
  for (const child of running) await stop(child).catch(() => undefined);
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the README from a fresh clone", () => {
  it("npm start sets up, puts gatehouse on PATH and starts the gateway, printing where the Control UI is", async () => {
    const out = await startLine("npm start", clone, READY, 300_000);
    assert.match(out, /^== building \(tsc\)$/m, "npm start builds before it starts the gateway");
    assert.match(out, new RegExp(`(Control UI: |control ui url=)http://127\\.0\\.0\\.1:${port}/`));
    assert.doesNotMatch(out, /#token=/, "the token is printed on a terminal only");
    const which = await sh("command -v gatehouse");
    assert.equal(which.stdout.trim(), join(home, ".local", "bin", "gatehouse"));
    assert.equal((await sh("gatehouse --version")).code, 0);
    await stop(running.pop()!);
  });

  it("the quick tour, line by line, with gatehouse from PATH", async () => {
    await startLine("gatehouse gateway run", home, READY, 60_000);

    const health = await sh("gatehouse health");
    assert.equal(health.code, 0, health.stderr);
    assert.match(health.stdout, /\bok\b/i);

    const status = await sh("gatehouse call status --json");
    assert.equal(status.code, 0, status.stderr);
    assert.equal(typeof JSON.parse(status.stdout), "object");

    // Another machine's device (seen through an untrusted relay, so not local) asks to pair.
    const token = (
      JSON.parse(readFileSync(join(home, ".gatehouse", "gatehouse.json"), "utf8")) as {
        gateway: { auth: { token: string } };
      }
    ).gateway.auth.token;
    const other = generateIdentity();
    const peer = await openPeer(`ws://127.0.0.1:${port}`, { "X-Forwarded-For": "203.0.113.7" });
    const refused = await sendConnect(peer, { auth: { token }, identity: other, scopes: ["operator.read"] });
    peer.ws.close();
    const requestId = (refused.error?.details as { requestId?: string } | undefined)?.requestId;
    assert.ok(requestId, `a pending request: ${JSON.stringify(refused.error)}`);

    const list = await sh("gatehouse devices list");
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(requestId.slice(0, 8)), `devices list shows the request:\n${list.stdout}`);

    const approve = await sh(`gatehouse devices approve ${requestId}`);
    assert.equal(approve.code, 0, approve.stderr);
    const approved = await sh("gatehouse devices list --json");
    assert.ok(approved.stdout.includes(other.deviceId), "the device is paired");

    const revoke = await sh(`gatehouse devices revoke ${other.deviceId}`);
    assert.equal(revoke.code, 0, revoke.stderr);
    const afterRevoke = await sh(`gatehouse devices list --json`);
    assert.match(afterRevoke.stdout, /revoked/i, "the revoke is visible");
  });

  it(
    "the Control UI URL gatehouse dashboard prints opens to a connected page",
    chromiumReason ? { skip: chromiumReason } : {},
    async () => {
      const printed = await sh("gatehouse dashboard --print");
      assert.equal(printed.code, 0, printed.stderr);
      const url = printed.stdout.trim();
      assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/#token=`));
      const context = await browser!.newContext({ viewport: { width: 1280, height: 860 } });
      try {
        const page = await context.newPage();
        await navigate(page, url);
        await waitForConnState(page, "connected", 20_000);
        await screenshot(page, "readme-tour-control-ui");
      } finally {
        await context.close();
      }
    },
  );
});
