/**
 * C19 in the Control UI, in Debian's Chromium: a node's command-surface requests show on the
 * Devices page as they arrive — its first surface, and a reconnect offering more than was approved —
 * with the commands listed, the new ones highlighted and the exec-capable ones marked, and are
 * approved or rejected from the page. Screenshots go to test-output/screenshots/node-surface-*.png.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { FileDeviceTokenStore } from "../../src/client/index.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { NodeHost } from "../../src/runtime/node-host.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { browserForTests, goto, openConnected, screenshot } from "./chromium.js";

const { browser, needsBrowser, cleanups } = await browserForTests("node surface tests");

describe("Control UI: node command surfaces waiting for approval", () => {
  let gw: TestGateway;
  let context: BrowserContext;
  let page: Page;
  let nodeDir: string;
  let nodeId: string;
  const errors: string[] = [];

  /** The node host of `nodeDir` (paired silently as a local node), offering `commands`, connected. */
  async function nodeOffering(commands: string[]): Promise<NodeHost> {
    const host = new NodeHost({
      url: gw.url,
      identity: loadOrCreateIdentity(join(nodeDir, "identity", "device.json")),
      tokenStore: new FileDeviceTokenStore(join(nodeDir, "identity", "device-auth.json")),
      auth: { token: TEST_TOKEN },
      commands,
      displayName: "lab box",
      pendingRetryMs: 100,
    });
    cleanups.push(() => host.stop());
    const connected = once(host, "connected", { signal: AbortSignal.timeout(10_000) });
    void host.run();
    await connected;
    return host;
  }

  /** The one pending surface request the store holds for the node. */
  function requestId(): string {
    const r = gw.store.nodeSurfaces.requestFor(nodeId);
    assert.ok(r, "a surface request is pending");
    return r.requestId;
  }

  before(async () => {
    if (!browser) return;
    gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    nodeDir = mkdtempSync(join(tmpdir(), "gatehouse-ui-node-"));
    cleanups.push(() => rmSync(nodeDir, { recursive: true, force: true }));
    nodeId = loadOrCreateIdentity(join(nodeDir, "identity", "device.json")).deviceId;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    cleanups.push(() => context.close());
    page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await openConnected(page, gw.server.port, TEST_TOKEN);
    await goto(page, "#/devices");
    await page.locator("#node-surfaces").waitFor();
  });

  it(
    "a node's first surface appears live, exec-capable command marked, and is approved from the page",
    needsBrowser,
    async () => {
      const section = page.locator("#node-surfaces");
      assert.match(await section.innerText(), /No node waits for approval of its commands/);
      const first = await nodeOffering(["system.which"]);
      const id = requestId();
      const card = page.locator(`[data-surface-request-id="${id}"]`);
      await card.waitFor({ timeout: 10_000 });
      const text = await card.innerText();
      assert.match(text, /first command surface/);
      assert.match(text, /Approved now\s*nothing yet/);
      assert.match(text, /system\.which is exec-capable: approving needs operator\.admin/);
      assert.equal(await card.locator('[data-command="system.which"]').getAttribute("data-exec"), "true");
      assert.match(await card.innerText(), /Approving needs\s*operator\.pairing\s*operator\.admin/);

      await page.locator(`[data-key="approve-surface:${id}"]`).click();
      const dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      assert.match(await dialog.innerText(), new RegExp(id));
      await dialog.getByRole("button", { name: "Approve surface" }).click();
      await card.waitFor({ state: "detached", timeout: 10_000 });
      assert.deepEqual(gw.store.nodeSurfaces.get(nodeId)?.commands, ["system.which"]);
      await first.stop();
    },
  );

  it(
    "C19: back offering system.run and camera.snap: a wider request lists them, system.run marked exec; reject keeps the old surface, a later approve pins the wider one",
    needsBrowser,
    async () => {
      const wider = await nodeOffering(["camera.snap", "system.run", "system.which"]);
      const id = requestId();
      const card = page.locator(`[data-surface-request-id="${id}"]`);
      await card.waitFor({ timeout: 10_000 });
      const text = await card.innerText();
      assert.match(text, /wider command surface/);
      assert.match(text, /Approved now\s*system\.which/);
      assert.match(text, /New\s*camera\.snap\s*system\.run/);
      assert.match(text, /system\.run is exec-capable: approving needs operator\.admin/);
      const chip = (c: string) => card.locator(`[data-command="${c}"]`);
      assert.equal(await chip("system.run").getAttribute("data-exec"), "true");
      assert.equal(await chip("camera.snap").getAttribute("data-exec"), null);
      // Approved before, still exec-capable: marked too.
      assert.equal(await chip("system.which").getAttribute("data-exec"), "true");
      assert.match((await chip("system.run").getAttribute("class")) ?? "", /chip-new/);
      assert.doesNotMatch((await chip("system.which").getAttribute("class")) ?? "", /chip-new/);
      await screenshot(page, "node-surface-wider");

      await page.locator(`[data-key="reject-surface:${id}"]`).click();
      const dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /keeps exposing only system\.which/);
      await dialog.getByRole("button", { name: "Reject" }).click();
      await card.waitFor({ state: "detached", timeout: 10_000 });
      assert.equal(gw.store.nodeSurfaces.requestFor(nodeId), null);
      assert.deepEqual(gw.store.nodeSurfaces.get(nodeId)?.commands, ["system.which"]);
      await wider.stop();

      // It asks again at its next connect; this time the owner approves.
      await nodeOffering(["camera.snap", "system.run", "system.which"]);
      const again = requestId();
      await page.locator(`[data-key="approve-surface:${again}"]`).click();
      await page.locator("dialog[open]").getByRole("button", { name: "Approve surface" }).click();
      await page
        .locator(`[data-surface-request-id="${again}"]`)
        .waitFor({ state: "detached", timeout: 10_000 });
      assert.deepEqual(gw.store.nodeSurfaces.get(nodeId)?.commands, [
        "camera.snap",
        "system.run",
        "system.which",
      ]);
      assert.deepEqual(errors, []);
    },
  );
});
