/**
 * Issue 14 item 1 in Chromium: the URL `gatehouse dashboard --print` prints for a gateway started
 * with `gatehouse gateway start` opens to a connected Control UI; the same page opened without a
 * token says how to get in (paste the token, or the command that prints the URL) and pasting the
 * token connects it. Needs /usr/bin/chromium (skips with the reason otherwise).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli } from "../helpers/gateway-process.js";
import { browserForTests, navigate, screenshot, socketTrace, waitForConnState } from "./chromium.js";

const { browser, needsBrowser } = await browserForTests("dashboard browser tests");

const sandbox = createCliSandbox();
const env = { ...sandbox.env, DISPLAY: "", WAYLAND_DISPLAY: "" };
const TOKEN = "dashboard-ui-" + "z".repeat(36);
let dir = "";
let port = 0;

before(async () => {
  if (!browser) return;
  port = await freePort();
  dir = sandbox.stateDir({ gateway: { port, auth: { token: TOKEN } } });
  const r = await runCli(["gateway", "start", "--state-dir", dir], env);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (dir) await runCli(["gateway", "stop", "--state-dir", dir], env);
  sandbox.cleanup();
});

describe("Control UI from the printed URL", () => {
  it("the URL gatehouse dashboard --print prints opens to a connected page", needsBrowser, async () => {
    const printed = await runCli(["dashboard", "--print", "--state-dir", dir], env);
    assert.equal(printed.code, 0, printed.stderr);
    const url = printed.stdout.trim();
    assert.equal(url, `http://127.0.0.1:${port}/#token=${TOKEN}`);
    const context = await browser!.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      await navigate(page, url);
      await waitForConnState(page, "connected", 15_000);
      assert.ok(!page.url().includes(TOKEN), "the token left the address bar");
      await screenshot(page, "dashboard-url-connected");
    } finally {
      await context.close();
    }
  });

  it("without a token the page says how to get in, and a pasted token connects", needsBrowser, async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 860 } });
    try {
      const page = await context.newPage();
      await navigate(page, `http://127.0.0.1:${port}/`);
      await waitForConnState(page, "refused", 15_000);
      // A stall names where the page stopped (so a CI log shows it), and its trace holds no secret.
      await assert.rejects(waitForConnState(page, "connected", 300), (err: Error) => {
        assert.match(err.message, /did not show "connected" within 300 ms; it shows "refused"/);
        assert.match(err.message, /Gateway token needed/);
        assert.match(err.message, /ws open ws:\/\/127\.0\.0\.1:\d+/);
        assert.match(err.message, /ws sent req connect/);
        return true;
      });
      const main = await page.locator("main, body").first().innerText();
      assert.match(main, /Gateway token needed/);
      assert.match(main, /Or, on the gateway host, run gatehouse dashboard/);
      assert.match(main, /gatehouse dashboard --print prints the URL/);
      await screenshot(page, "dashboard-tokenless-narrow");
      await page.locator("#token-input").fill(TOKEN);
      await page.getByRole("button", { name: "Connect" }).click();
      await waitForConnState(page, "connected", 15_000);
      const trace = socketTrace(page).lines.join("\n");
      assert.match(trace, /ws received res connect ok=true|ws received res ok=true/);
      assert.ok(!trace.includes(TOKEN), "the page trace holds no token");
    } finally {
      await context.close();
    }
  });
});
