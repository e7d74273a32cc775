/**
 * Issue 14 item 5, a LAN or custom bind is usable by its owner — as the owner does it, with the
 * real CLI and Debian's Chromium:
 *   - a gateway bound to a non-loopback address of this machine (the root end of a veth) with TLS:
 *     its own page opened on that address reaches "waiting for approval" (not refused) without
 *     any allowedOrigins, and connects once the owner approves it with the printed command;
 *   - a browser Origin that is not the gateway's is refused before the upgrade, and that refusal
 *     is in `gatehouse audit` and in `gatehouse status`' recent refusals;
 *   - without TLS, `gateway start` warns on the terminal and `status` says so, and the owner's CLI
 *     reaches its gateway there with no --allow-insecure.
 * Needs root with iproute2 for the veth, and /usr/bin/chromium for the page (skips with the reason).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { WebSocket } from "ws";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli } from "../helpers/gateway-process.js";
import {
  chromiumUnavailableReason,
  launchChromium,
  navigate,
  screenshot,
  waitForConnState,
} from "./chromium.js";
import {
  createLinkedNamespace,
  linkedNamespaceUnavailableReason,
  type LinkedNamespace,
} from "./netns-link.js";

const netnsSkip = linkedNamespaceUnavailableReason();
// The link exists before Chromium starts, so the browser never sees this file's own interface
// appear under a navigation (net::ERR_NETWORK_CHANGED).
const link: LinkedNamespace | null = netnsSkip ? null : createLinkedNamespace();
const chromiumReason = netnsSkip ?? chromiumUnavailableReason();
const browser: Browser | null = chromiumReason ? null : await launchChromium(["--ignore-certificate-errors"]);
const browserSkip = chromiumReason;
if (netnsSkip) process.stderr.write(`ui: LAN bind tests skipped: ${netnsSkip}\n`);
else if (browserSkip) process.stderr.write(`ui: LAN bind browser test skipped: ${browserSkip}\n`);
const needsNetns = netnsSkip ? { skip: netnsSkip } : {};
const needsBrowser = browserSkip ? { skip: browserSkip } : {};

const sandbox = createCliSandbox();
const env = { ...sandbox.env, DISPLAY: "", WAYLAND_DISPLAY: "" };
const TOKEN = "lan-owner-" + "q".repeat(40);
const started: string[] = [];

after(async () => {
  await browser?.close();
  for (const dir of started) await runCli(["gateway", "stop", "--state-dir", dir], env);
  link?.destroy();
  sandbox.cleanup();
});

async function startOn(tls: boolean): Promise<{ dir: string; port: number; start: string }> {
  const port = await freePort();
  const dir = sandbox.stateDir({
    gateway: {
      port,
      bind: "custom",
      customBindHost: link!.rootAddr,
      auth: { token: TOKEN },
      ...(tls ? { tls: { enabled: true } } : {}),
    },
  });
  started.push(dir);
  const r = await runCli(["gateway", "start", "--state-dir", dir], env, 30_000);
  assert.equal(r.code, 0, r.stderr);
  return { dir, port, start: r.stderr };
}

/** The HTTP status of a browser-like upgrade with this Origin (101 when it opens). */
function upgradeStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin, rejectUnauthorized: false });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

describe("a gateway on a LAN address, with TLS", () => {
  let dir = "";
  let port = 0;
  before(async () => {
    if (link) ({ dir, port } = await startOn(true));
  });

  it(
    "its own page on that address waits for approval, then connects once approved",
    needsBrowser,
    async () => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 860 } });
      try {
        const page = await context.newPage();
        await navigate(page, `https://${link!.rootAddr}:${port}/#token=${TOKEN}`);
        await waitForConnState(page, "pairing", 20_000);
        const requestId = await page.locator(".state-pairing").getAttribute("data-request-id");
        assert.ok(requestId, "the page shows its requestId");
        assert.equal(
          (await page.locator("#approve-command").innerText()).trim(),
          `gatehouse devices approve ${requestId}`,
        );
        await screenshot(page, "lan-own-origin-pairing");
        const approved = await runCli(["devices", "approve", requestId, "--state-dir", dir], env);
        assert.equal(approved.code, 0, approved.stderr);
        await waitForConnState(page, "connected", 20_000);
      } finally {
        await context.close();
      }
    },
  );

  it(
    "a foreign Origin is refused before the upgrade, and the refusal is in audit and status",
    needsNetns,
    async () => {
      const url = `wss://${link!.rootAddr}:${port}`;
      assert.equal(await upgradeStatus(url, "https://evil.example"), 403);
      // Its own address as the Origin opens (what the page above does).
      assert.equal(await upgradeStatus(url, `https://${link!.rootAddr}:${port}`), 101);

      const deadline = Date.now() + 10_000;
      let rows: Array<{ kind: string; decision: string; reason: string | null; client: string | null }> = [];
      while (Date.now() < deadline) {
        const audit = await runCli(["audit", "--json", "--state-dir", dir], env);
        assert.equal(audit.code, 0, audit.stderr);
        rows = (JSON.parse(audit.stdout) as { rows: typeof rows }).rows;
        if (rows.some((r) => r.kind === "upgrade")) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const refusal = rows.find((r) => r.kind === "upgrade");
      assert.ok(refusal, JSON.stringify(rows));
      assert.equal(refusal.decision, "reject");
      assert.equal(refusal.reason, "CONTROL_UI_ORIGIN_NOT_ALLOWED");
      assert.equal(refusal.client, "browser page https://evil.example");

      const status = await runCli(["status", "--state-dir", dir], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(
        status.stdout,
        /Recent refusals[^\n]*\n(?:.*\n)*?.*upgrade +reject +reason=CONTROL_UI_ORIGIN_NOT_ALLOWED client=browser page https:\/\/evil\.example/,
      );
    },
  );
});

describe("a gateway on a LAN address without TLS", () => {
  it(
    "start warns on the terminal, status says so, and the owner's CLI needs no --allow-insecure",
    needsNetns,
    async () => {
      const { dir, port, start } = await startOn(false);
      assert.match(
        start,
        new RegExp(`WARNING: the gateway listens on ${link!.rootAddr.replace(/\./g, "\\.")} without TLS`),
      );
      assert.match(start, /gatehouse config set gateway\.tls\.enabled true/);
      const status = await runCli(["status", "--state-dir", dir], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(
        status.stdout,
        new RegExp(`Gateway: running .* ws://${link!.rootAddr.replace(/\./g, "\\.")}:${port}`),
      );
      assert.match(status.stdout, /WARNING: the gateway listens on .* without TLS/);
      for (const args of [["health"], ["gateway", "status"], ["devices", "list"]]) {
        const r = await runCli([...args, "--state-dir", dir], env);
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /allowInsecure/);
      }
      // Another machine is still refused plain ws:// unless it says so, in the CLI's words.
      const remote = await link!.runCli(
        ["health", "--url", `ws://${link!.rootAddr}:${port}`, "--token", TOKEN],
        env,
      );
      assert.equal(remote.code, 2, remote.stderr);
      assert.match(remote.stderr, /--allow-insecure/);
      assert.doesNotMatch(remote.stderr, /allowInsecure/);
    },
  );
});
