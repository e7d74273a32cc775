/**
 * Issue 14 item 6, last sentence: after a revoke, the re-request, the UI badge and `explain` tell
 * the same story. A Control UI page in Chromium is approved and connected; the owner revokes its
 * operator role with `gatehouse devices revoke`; the page is disconnected, and its reconnect asks
 * again. What the user sees must agree: the page's badge and panel wait for approval of one
 * requestId, `devices list` lists that requestId for the page's device, and `gatehouse explain`
 * of it names the revoke as the reason (and who may approve it). Approving it reconnects the page.
 * Real gateway process and CLI; local pairing is not silent here (`autoApproveLocal: false`), so
 * the page's first pairing and its re-request both wait for the owner. Screenshots at 1280 and
 * 390 px wide. Needs /usr/bin/chromium (skips with the reason otherwise).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { devicesList } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import {
  freePort,
  runCli,
  spawnGateway,
  type CliResult,
  type GatewayProcess,
} from "../helpers/gateway-process.js";
import { browserForTests, navigate, screenshot, waitForConnState } from "./chromium.js";

const { browser, needsBrowser, cleanups } = await browserForTests("revoke story browser test");

const sandbox = createCliSandbox();
const env = { ...sandbox.env, DISPLAY: "", WAYLAND_DISPLAY: "" };
const TOKEN = "revoke-story-" + "r".repeat(36);
const CLI_TIMEOUT_MS = 60_000;
let gw: GatewayProcess | null = null;
let dir = "";
let port = 0;

before(async () => {
  if (!browser) return;
  port = await freePort();
  dir = sandbox.stateDir({
    gateway: { port, auth: { token: TOKEN }, pairing: { autoApproveLocal: false } },
  });
  gw = await spawnGateway(["--state-dir", dir], sandbox.env);
});
after(async () => {
  await gw?.stop();
  sandbox.cleanup();
});

/** The owner's CLI on the gateway host. */
const owner = (args: string[]): Promise<CliResult> =>
  runCli([...args, "--state-dir", dir], env, CLI_TIMEOUT_MS);

/** The page waits for approval: its badge says so, and its panel names one requestId; returns it. */
async function waitingRequest(page: Page): Promise<string> {
  await waitForConnState(page, "pairing", 30_000);
  assert.equal((await page.locator("#conn").innerText()).trim(), "Waiting for approval");
  const requestId = await page.locator(".state-pairing").getAttribute("data-request-id");
  assert.ok(requestId, "the page shows the requestId it waits on");
  assert.equal(
    (await page.locator("#approve-command").innerText()).trim(),
    `gatehouse devices approve ${requestId}`,
  );
  return requestId;
}

/** Screenshots at 1280 and 390 px wide (where nothing may widen the page), back to 1280. */
async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `${name}-1280`);
  await page.setViewportSize({ width: 390, height: 860 });
  assert.ok(
    (await page.evaluate("document.documentElement.scrollWidth")) === 390,
    "nothing scrolls sideways at 390 px",
  );
  await screenshot(page, `${name}-390`);
  await page.setViewportSize({ width: 1280, height: 860 });
}

describe("issue 14 item 6: after a revoke, the re-request, the UI badge and explain tell the same story", () => {
  let page: Page;
  let deviceId = "";
  let first = "";
  let again = "";

  it("the page is approved by the owner and connects", needsBrowser, async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 860 } });
    cleanups.push(() => context.close());
    page = await context.newPage();
    await navigate(page, `http://127.0.0.1:${port}/#token=${TOKEN}`);
    first = await waitingRequest(page);
    const list = await devicesList(owner);
    const request = list.pending.find((p) => p.requestId === first);
    assert.ok(request, `request ${first} is listed: ${JSON.stringify(list.pending)}`);
    deviceId = request.deviceId;
    const approved = await owner(["devices", "approve", first]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitForConnState(page, "connected", 30_000);
    assert.equal((await page.locator("#conn").innerText()).trim(), "Connected");
  });

  it(
    "the owner revokes its operator role: the page is disconnected and asks again",
    needsBrowser,
    async () => {
      // Every state the badge shows from here on, in order.
      await page.evaluate(`(() => {
        const conn = document.getElementById("conn");
        window.__states = [];
        new MutationObserver(() => window.__states.push(conn.dataset.state)).observe(conn, {
          attributes: true,
          attributeFilter: ["data-state"],
        });
      })()`);
      const revoked = await owner(["devices", "revoke", deviceId, "--role", "operator"]);
      assert.equal(revoked.code, 0, revoked.stderr);
      again = await waitingRequest(page);
      assert.notEqual(again, first, "a new request, not the approved one");
      // The observer also sees the attribute re-set to its current value: keep only the changes.
      const seen = (await page.evaluate("window.__states")) as string[];
      const states = seen.filter((s, i) => s !== (i === 0 ? "connected" : seen[i - 1]));
      assert.deepEqual(
        states.slice(0, 1),
        ["disconnected"],
        `the page was disconnected first: ${states.join(" → ")}`,
      );
      assert.equal(states.at(-1), "pairing");
      const panel = await page.locator(".state-pairing").innerText();
      assert.equal(
        (await page.locator("#pairing-reason").innerText()).trim(),
        "This browser's operator role was revoked on the gateway, so it has asked again. " +
          "It comes back only when someone who holds every scope it had approves the new request.",
      );
      assert.doesNotMatch(panel, /higher role|Approved now/, "nothing says the role is still approved");
      assert.match(panel, /Held before the revoke:/);
      await shots(page, "revoke-story-waiting");
    },
  );

  it("devices list shows that same request for the page's device", needsBrowser, async () => {
    const list = await devicesList(owner);
    const request = list.pending.find((p) => p.requestId === again);
    assert.ok(request, `request ${again} is listed: ${JSON.stringify(list.pending)}`);
    assert.equal(request.deviceId, deviceId);
    assert.deepEqual(
      list.pending.filter((p) => p.deviceId === deviceId).map((p) => p.requestId),
      [again],
      "one request for the device",
    );
    const text = await owner(["devices", "list"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^ {2}${again}$`, "m"));
  });

  it(
    "explain of that request names the revoke as the reason, and who may approve it",
    needsBrowser,
    async () => {
      const text = await owner(["explain", again]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`waits for approval of request ${again}`));
      assert.match(text.stdout, /^decision +pend — role-upgrade$/m);
      assert.match(
        text.stdout,
        /The device's operator role was revoked by .+ at \d{4}-\d\d-\d\dT[\d:.]+Z, so it asked again\./,
      );
      assert.match(text.stdout, /the approver must cover that role's baseline \(hold all of those scopes\)/);
      const todo = text.stdout.slice(text.stdout.indexOf("what to do:"));
      assert.doesNotMatch(todo, /autoApproveLocal/, "the revoke is the reason given, not the config");
      assert.match(text.stdout, new RegExp(`gatehouse devices approve ${again}`));
      const json = await owner(["explain", again, "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as {
        decision: string;
        reason: string | null;
        requestId: string | null;
        remedy: { command: string | null; explanation: string };
      };
      assert.equal(report.decision, "pend");
      assert.equal(report.reason, "role-upgrade");
      assert.equal(report.requestId, again);
      assert.equal(report.remedy.command, `gatehouse devices approve ${again}`);
      assert.match(report.remedy.explanation, /operator role was revoked/);
    },
  );

  it("approving it reconnects the page", needsBrowser, async () => {
    const approved = await owner(["devices", "approve", again]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitForConnState(page, "connected", 30_000);
    assert.equal((await page.locator("#conn").innerText()).trim(), "Connected");
    await shots(page, "revoke-story-reconnected");
  });
});
