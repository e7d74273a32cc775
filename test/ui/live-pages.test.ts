/**
 * Every Control UI page follows the events that change what it shows, in Debian's Chromium: a
 * change made elsewhere (another operator, the CLI) shows on the open page without a reload. The
 * Devices page shows a token rotated or revoked elsewhere; the Cron page shows a job disabled
 * because the operator role of the device that created it was revoked; after a restart, the
 * Sessions page shows a session the previous gateway died with as lost.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { pairDevice, startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { backendPeer, call, openPeer, sendConnect, type RawPeer } from "../helpers/raw-client.js";
import { sessionRow } from "../helpers/sessions.js";
import { startNodeGateway } from "../runtime/node-gateway.js";
import { browserForTests, goto, openConnected } from "./chromium.js";

const { browser, needsBrowser, cleanups } = await browserForTests("live page tests");

/** Another operator: a device-less backend holding operator.admin (the shared secret, loopback). */
async function otherAdmin(gw: TestGateway): Promise<RawPeer> {
  const peer = await backendPeer(gw.url, TEST_TOKEN);
  cleanups.push(() => peer.ws.close());
  return peer;
}

async function ok(peer: RawPeer, method: string, params: unknown): Promise<unknown> {
  const res = await call(peer, method, params);
  assert.equal(res.ok, true, `${method}: ${JSON.stringify(res.error)}`);
  return res.payload;
}

describe("Control UI pages follow the events that change what they show", () => {
  let gw: TestGateway;
  let context: BrowserContext;
  let page: Page;
  let admin: RawPeer;
  const errors: string[] = [];
  /** A device with no open session: nothing but an event can tell the page it changed. */
  let quiet = "";
  /** The device that created the cron job, and the job. */
  let creator = "";
  let jobId = "";

  before(async () => {
    if (!browser) return;
    gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    quiet = pairDevice(gw, ["operator.read", "operator.write"]).identity.deviceId;
    gw.store.devices.rename(quiet, "quiet-box");
    // The job's creator adds it over its own session, then goes away: the job rests on its authority.
    const made = pairDevice(gw, ["operator.admin"]);
    creator = made.identity.deviceId;
    const peer = await openPeer(gw.url);
    const hello = await sendConnect(peer, {
      identity: made.identity,
      auth: { deviceToken: made.token },
      scopes: ["operator.admin"],
      platform: "linux",
    });
    assert.equal(hello.ok, true, JSON.stringify(hello.error));
    const job = (await ok(peer, "cron.add", {
      schedule: "0 0 1 1 *",
      name: "yearly report",
      command: "/bin/true",
    })) as { id: string };
    jobId = job.id;
    peer.ws.close();
    admin = await otherAdmin(gw);

    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    cleanups.push(() => context.close());
    page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await openConnected(page, gw.server.port, TEST_TOKEN);
  });

  it("Devices: a token rotated, then revoked, elsewhere shows on the open page", needsBrowser, async () => {
    await goto(page, "#/devices");
    await page.locator(`[data-key="details:${quiet}"]`).click();
    const token = page.locator(`[data-details-for="${quiet}"] ul.tokens li`).first();
    await token.waitFor();
    assert.match(await token.innerText(), /operator\.write/);

    // Rotated to narrower scopes: the open page shows the new token's scopes.
    await ok(admin, "device.token.rotate", { deviceId: quiet, role: "operator", scopes: ["operator.read"] });
    await page
      .locator(`[data-details-for="${quiet}"] ul.tokens li .chip`, { hasText: "operator.write" })
      .waitFor({ state: "detached", timeout: 10_000 });
    assert.doesNotMatch(await token.innerText(), /revoked/);

    await ok(admin, "device.token.revoke", { deviceId: quiet, role: "operator" });
    await page.locator(`[data-details-for="${quiet}"] li.revoked`).waitFor({ timeout: 10_000 });
    assert.match(await token.innerText(), /revoked/);
    assert.deepEqual(errors, []);
  });

  it(
    "Cron: a job disabled because its creator's operator role was revoked shows disabled on the open page",
    needsBrowser,
    async () => {
      await goto(page, "#/cron");
      const row = page.locator("tr", { hasText: jobId });
      const enabled = row.locator('td[data-label="Enabled"]');
      await enabled.waitFor();
      assert.equal((await enabled.innerText()).trim(), "yes");

      await ok(admin, "device.token.revoke", { deviceId: creator, role: "operator" });
      await row.locator('td[data-label="Enabled"]', { hasText: "no" }).waitFor({ timeout: 10_000 });
      assert.equal(gw.store.cron.get(jobId)?.enabled, false, "the gateway disabled it");
      assert.deepEqual(errors, []);
    },
  );
});

describe("Control UI after a gateway restart", () => {
  it(
    "the Sessions page shows a session its gateway died with as lost, once it has reconnected",
    needsBrowser,
    async () => {
      const gw = await startNodeGateway();
      cleanups.push(() => gw.stop());
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      cleanups.push(() => context.close());
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await openConnected(page, gw.server.port, TEST_TOKEN);
      await goto(page, "#/sessions");
      // What a gateway killed outright leaves behind: a session the store still calls running.
      gw.store.sessions.insert(
        sessionRow("sess_orphan", { command: ["/bin/sleep", "600"], startedAtMs: Date.now() }),
      );
      await gw.restart();
      const status = page.locator('tr[data-session-id="sess_orphan"] .s-status');
      await status.filter({ hasText: "lost" }).waitFor({ timeout: 30_000 });
      assert.equal((await page.locator("#conn").innerText()).trim(), "Connected");
      assert.deepEqual(errors, []);
    },
  );
});
