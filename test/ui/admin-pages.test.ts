/**
 * Issue 14 item 6 — the Control UI at real sizes, in Debian's Chromium (playwright-core), against a
 * store seeded with 50 devices and 2,000 audit rows (seed.ts): what a person sees at 1280 and at
 * 390 px wide. Screenshots go to test-output/screenshots/admin-*.png.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { pairDevice, startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { backendPeer, call, openPeer, sendConnect, type RawPeer } from "../helpers/raw-client.js";
import { browserForTests, goto, openConnected, screenshot } from "./chromium.js";
import { seedStore, type SeededStore } from "./seed.js";
import { checkDeviceRecords } from "../../src/doctor/devices.js";
import { generateIdentity } from "../../src/identity/keys.js";
import QRCode from "qrcode";

// Browser globals used inside page functions (compiled without the DOM lib).
declare const document: {
  documentElement: { scrollWidth: number; scrollHeight: number; clientWidth: number };
  querySelector(
    selector: string,
  ): { replaceChildren(): void; getBoundingClientRect(): { height: number } } | null;
  querySelectorAll(
    selector: string,
  ): ArrayLike<{ getBoundingClientRect(): { height: number; right: number } }>;
};

const { browser, needsBrowser } = await browserForTests("admin page tests");

const WIDE = { width: 1280, height: 860 };
const OTHER_PAGE = "https://tools.example";
const PHONE = { width: 390, height: 844 };

async function clearNotices(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelector("#notices")?.replaceChildren());
}

/** Full-page screenshot at `size`; returns the page's scroll size there. */
async function shotAt(
  page: Page,
  name: string,
  size: { width: number; height: number },
): Promise<{ scrollWidth: number; scrollHeight: number }> {
  await page.setViewportSize(size);
  await clearNotices(page);
  const dims = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
  }));
  await screenshot(page, name);
  return dims;
}

/** Starts `/bin/sh -c script` as a session; its id. */
async function spawnShell(admin: RawPeer, script: string, label: string): Promise<string> {
  const res = await call(admin, "sessions.spawn", { command: "/bin/sh", args: ["-c", script], label });
  assert.equal(res.ok, true, JSON.stringify(res.error));
  return (res.payload as { id: string }).id;
}

describe("Control UI admin pages with 50 devices and 2,000 audit rows", () => {
  let gw: TestGateway;
  let seeded: SeededStore;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const live: RawPeer[] = [];
  const liveIds: string[] = [];

  before(async () => {
    if (!browser) return;
    // A page elsewhere that the config (still) allows: its requests must be told apart from the UI's own.
    gw = await startTestGateway({ allowedOrigins: [OTHER_PAGE] });
    seeded = seedStore(gw.store);
    // Two devices with open sessions besides the browser: "connected first" has something to sort.
    for (const name of ["zz-live-cli-1", "zz-live-cli-2"]) {
      const { identity, token } = pairDevice(gw, ["operator.read"]);
      gw.store.devices.rename(identity.deviceId, name);
      const peer = await openPeer(gw.url);
      const hello = await sendConnect(peer, {
        identity,
        auth: { deviceToken: token },
        scopes: ["operator.read"],
        platform: "linux",
      });
      assert.equal(hello.ok, true, JSON.stringify(hello.error));
      live.push(peer);
      liveIds.push(identity.deviceId);
    }
    context = await browser.newContext({ viewport: WIDE });
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource|WebSocket connection to/.test(m.text()))
        errors.push(m.text());
    });
    await openConnected(page, gw.server.port, TEST_TOKEN);
  });
  after(async () => {
    for (const p of live) p.ws.close();
    await context?.close();
    await gw?.stop();
  });

  it(
    "devices: one dense row per device, connected first, short ids, fits in a bounded height at 1280",
    needsBrowser,
    async () => {
      await goto(page, "#/devices");
      const rows = page.locator("#device-table tbody tr.device-row");
      await rows.first().waitFor();
      const total = seeded.deviceIds.length + 2 + 2; // seeded, two live CLIs, the owner, this browser
      assert.equal(await rows.count(), total);
      assert.match(
        await page.locator("#device-count").innerText(),
        new RegExp(`^${total} devices · 3 connected`),
      );

      // Connected first: this browser and the two live CLIs lead, whatever their names.
      const firstThree = await rows.evaluateAll((trs) =>
        trs.slice(0, 3).map((tr) => (tr as unknown as { dataset: { deviceId: string } }).dataset.deviceId),
      );
      const selfId = await page.evaluate(async () => {
        const mod = "/identity.js";
        return (await import(mod)).loadOrCreateIdentity().then((i: { deviceId: string }) => i.deviceId);
      });
      assert.deepEqual([...firstThree].sort(), [selfId, ...liveIds].sort());
      assert.equal(await rows.nth(3).locator('.presence[data-connected="false"]').count(), 1);

      // Short ids on the row; the full id only in the title (and the details / copy).
      const firstId = seeded.deviceIds[0]!;
      const row = page.locator(`tr[data-device-id="${firstId}"]`);
      assert.equal(await row.locator(".id-btn").innerText(), firstId.slice(0, 8));
      assert.doesNotMatch(await row.innerText(), new RegExp(firstId));

      // No destructive button on any row: they are in the (closed) row menus.
      assert.equal(
        await page.locator("#device-table tbody tr button:visible", { hasText: /Revoke|Remove/ }).count(),
        0,
      );
      assert.equal(
        await page.locator("#device-table .btn-danger, #device-table .btn-danger-outline").count(),
        0,
      );

      const dims = await shotAt(page, "admin-devices-1280", WIDE);
      const rowHeight = await page.evaluate(
        () => document.querySelector("#device-table tbody tr.device-row")!.getBoundingClientRect().height,
      );
      assert.ok(rowHeight <= 44, `a device row is one line (${rowHeight} px)`);
      assert.ok(
        dims.scrollHeight <= 2_800,
        `${total} devices fit in 2,800 px at 1280 wide (${dims.scrollHeight} px)`,
      );
      assert.ok(dims.scrollWidth <= WIDE.width, `no horizontal scroll at 1280 (${dims.scrollWidth} px)`);
    },
  );

  it(
    "devices: the search narrows the rows, sorting by name orders them, clearing brings them back",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/devices");
      const rows = page.locator("#device-table tbody tr.device-row");
      const total = await rows.count();
      await page.locator("#device-search").fill("build-box");
      await page.waitForFunction(
        () => document.querySelectorAll("#device-table tbody tr.device-row").length < 20,
      );
      const names = await rows.locator(".link-btn").allInnerTexts();
      assert.ok(
        names.length > 0 && names.length < total,
        `the search narrowed ${total} rows to ${names.length}`,
      );
      for (const n of names)
        assert.match(n, /build-box|Rack/, "only node hosts named build-box (or their labels)");
      assert.match(
        await page.locator("#device-count").innerText(),
        new RegExp(`^${names.length} of ${total} devices`),
      );
      assert.equal(
        await page
          .locator("#device-search")
          .evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement),
        true,
        "typing keeps the focus in the search field",
      );

      // A short id prefix finds its device.
      const target = seeded.deviceIds[7]!;
      await page.locator("#device-search").fill(target.slice(0, 8));
      await page.locator(`tr[data-device-id="${target}"]`).waitFor();
      assert.equal(await rows.count(), 1);

      await page.locator("#device-search").fill("");
      await page.waitForFunction(
        (n) => document.querySelectorAll("#device-table tbody tr.device-row").length === n,
        total,
      );

      await page.locator('[data-key="sort:name"]').click();
      const sorted = await rows.locator(".link-btn").allInnerTexts();
      const expected = [...sorted].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
      assert.deepEqual(sorted, expected, "sorted by name, A to Z");
      assert.equal(await page.locator("th.c-name").getAttribute("aria-sort"), "ascending");
      await page.locator('[data-key="sort:name"]').click();
      assert.equal(await page.locator("th.c-name").getAttribute("aria-sort"), "descending");
      await page.locator('[data-key="sort:status"]').click();
    },
  );

  it(
    "devices: the row menu holds rename, rotate, revoke and remove; the name opens the full id",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/devices");
      const id = seeded.deviceIds[4]!;
      const row = page.locator(`tr[data-device-id="${id}"]`);
      await row.locator(".menu-btn").click();
      const menu = page.locator(`[id="menu-${id}"]`);
      await menu.waitFor({ state: "visible" });
      const items = await menu.getByRole("menuitem").allInnerTexts();
      assert.deepEqual(items, [
        "Show details",
        "Copy device ID",
        "Audit log",
        "Rename…",
        "Rotate operator token…",
        "Revoke operator token…",
        "Remove device…",
      ]);
      await clearNotices(page);
      await screenshot(page, "admin-devices-menu-1280", { fullPage: false });
      await page.keyboard.press("Escape");
      await menu.waitFor({ state: "hidden" });

      // The owner's menu offers nothing destructive.
      const ownerRow = page.locator(`tr[data-device-id="${gw.owner.deviceId}"]`);
      await ownerRow.locator(".menu-btn").click();
      const ownerMenu = page.locator(`[id="menu-${gw.owner.deviceId}"]`);
      await ownerMenu.waitFor({ state: "visible" });
      assert.equal(await ownerMenu.getByRole("menuitem", { name: /Revoke|Remove/ }).count(), 0);
      assert.match(await ownerMenu.innerText(), /cannot be revoked or removed here/);
      await page.keyboard.press("Escape");

      // Remove from the menu: confirmed, then gone from the store and the table.
      await row.locator(".menu-btn").click();
      await menu.getByRole("menuitem", { name: "Remove device…" }).click();
      const dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      assert.match(await dialog.innerText(), new RegExp(id));
      await dialog.getByRole("button", { name: "Remove device" }).click();
      await row.waitFor({ state: "detached" });
      assert.equal(gw.store.devices.get(id), null);

      // The name opens the details: full id, tokens; Copy puts the full id on the clipboard.
      const other = seeded.deviceIds[5]!;
      await page.locator(`[data-key="details:${other}"]`).click();
      const details = page.locator(`tr[data-details-for="${other}"]`);
      await details.waitFor();
      assert.equal(await details.locator(".id-full").innerText(), other);
      await page.locator(`tr[data-device-id="${other}"] .id-btn`).click();
      assert.equal(
        await page.evaluate(() =>
          (
            globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
          ).navigator.clipboard.readText(),
        ),
        other,
      );
      await clearNotices(page);
      await screenshot(page, "admin-devices-details-1280");
      await page.locator(`[data-key="details:${other}"]`).click();
      await details.waitFor({ state: "detached" });
    },
  );

  it(
    "devices at 390 px: no horizontal scroll, two lines per device, the menu still there",
    needsBrowser,
    async () => {
      await goto(page, "#/devices");
      const dims = await shotAt(page, "admin-devices-390", PHONE);
      assert.ok(dims.scrollWidth <= PHONE.width, `no horizontal scroll at 390 px (${dims.scrollWidth} px)`);
      const rowHeight = await page.evaluate(
        () => document.querySelector("#device-table tbody tr.device-row")!.getBoundingClientRect().height,
      );
      assert.ok(rowHeight <= 64, `a device is at most two lines at 390 px (${rowHeight} px)`);
      const first = page.locator("#device-table tbody tr.device-row").first();
      assert.ok(await first.locator(".menu-btn").isVisible(), "the row menu is reachable on a phone");
      const rightEdges = await page.evaluate(() =>
        Array.from(
          document.querySelectorAll("#device-table .menu-btn"),
          (b) => b.getBoundingClientRect().right,
        ),
      );
      assert.ok(Math.max(...rightEdges) <= PHONE.width, "every menu button is on screen");
      await page.setViewportSize(WIDE);
      assert.deepEqual(errors, [], "no errors in the page");
    },
  );

  it(
    "audit: routine admits hidden by default and counted; refusals only; one decision; one device",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/audit");
      const rows = page.locator("#audit-table tbody tr");
      await rows.first().waitFor();
      const routine = gw.store.audit.count() - gw.store.audit.count({ hideRoutine: true });
      assert.ok(routine > 1500, `most of the seeded log is routine (${routine})`);
      const summary = page.locator("#audit-summary");
      assert.match(
        await summary.innerText(),
        new RegExp(`${routine.toLocaleString("en")} routine admits hidden`),
      );
      const decisions = await rows.locator(".badge").allInnerTexts();
      assert.ok(decisions.length > 10);
      assert.ok(!decisions.includes("admit"), "no routine admit row by default");
      assert.ok(decisions.includes("reject") && decisions.includes("pend") && decisions.includes("approved"));
      const dims = await shotAt(page, "admin-audit-1280", WIDE);
      assert.ok(dims.scrollWidth <= WIDE.width);

      // Refusals only: every row kept a client out, and is marked so.
      await page.locator("#audit-refusals").check();
      await page.waitForFunction(
        () => document.querySelectorAll("#audit-table tbody tr:not(.refusal)").length === 0,
      );
      for (const d of await rows.locator(".badge").allInnerTexts()) assert.match(d, /^(reject|pend)/);
      await page.locator("#audit-refusals").uncheck();

      // One decision.
      await page.locator("#audit-decision").selectOption("approved");
      await page.locator('#audit-table .badge:text-is("reject")').first().waitFor({ state: "detached" });
      assert.deepEqual([...new Set(await rows.locator(".badge").allInnerTexts())], ["approved"]);
      await page.locator("#audit-decision").selectOption("");

      // One device, from its row menu on the devices page.
      const target = seeded.deviceIds[7]!;
      await goto(page, "#/devices");
      await page.locator(`tr[data-device-id="${target}"] .menu-btn`).click();
      await page.locator(`[id="menu-${target}"]`).getByRole("menuitem", { name: "Audit log" }).click();
      await page.locator('#main[data-page="audit"]').waitFor();
      assert.equal(await page.locator("#audit-device").inputValue(), target);
      await page.waitForFunction(
        (id) =>
          Array.from(
            document.querySelectorAll("#audit-table .a-dev .adev") as unknown as ArrayLike<{ title: string }>,
          ).every((el) => el.title === id),
        target,
      );
      assert.ok((await rows.count()) > 0);
      await page.locator("#audit-device").selectOption("");
    },
  );

  it("audit: shown, routine admits fold into one row per run (×N), and unfold", needsBrowser, async () => {
    await page.setViewportSize(WIDE);
    await goto(page, "#/audit");
    await page.locator("#audit-routine").check();
    const grouped = page.locator("#audit-table tbody tr.grouped");
    await grouped.first().waitFor();
    const first = grouped.first();
    const n = Number((await first.locator(".times").innerText()).replace("×", ""));
    assert.ok(n >= 2, `a run of admits is one row (×${n})`);
    const rowsBefore = await page.locator("#audit-table tbody tr").count();
    assert.ok(rowsBefore < 100, `100 entries take ${rowsBefore} rows`);
    await shotAt(page, "admin-audit-routine-1280", WIDE);
    await first.locator(".times").click();
    await page.waitForFunction(
      (want) => document.querySelectorAll("#audit-table tbody tr").length === want,
      rowsBefore + n - 1,
    );
    await page.locator('#audit-table .times[aria-expanded="true"]').click();
    await page.locator("#audit-routine").uncheck();
    await page.locator('#audit-table .badge:text-is("admit")').first().waitFor({ state: "detached" });
  });

  it("audit at 390 px: no horizontal scroll, two lines per entry", needsBrowser, async () => {
    await page.setViewportSize(WIDE);
    await goto(page, "#/audit");
    await page.locator("#audit-table tbody tr").first().waitFor();
    const audit = await shotAt(page, "admin-audit-390", PHONE);
    assert.ok(
      audit.scrollWidth <= PHONE.width,
      `no horizontal scroll on the audit page (${audit.scrollWidth} px)`,
    );
    const entry = await page.evaluate(
      () => document.querySelector("#audit-table tbody tr")!.getBoundingClientRect().height,
    );
    assert.ok(entry <= 64, `an audit entry is at most two lines at 390 px (${entry} px)`);
    await page.setViewportSize(WIDE);
    assert.deepEqual(errors, [], "no errors in the page");
  });

  it(
    "browser devices: each profile has its own name; doctor calls none of them legacy; stale ones retire in bulk",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      const selfId = await page.evaluate(async () => {
        const mod = "/identity.js";
        return (await import(mod)).loadOrCreateIdentity().then((i: { deviceId: string }) => i.deviceId);
      });
      // A second browser profile (its own context: its own IndexedDB, so its own key).
      const other = await browser!.newContext({ viewport: WIDE });
      const otherPage = await other.newPage();
      await openConnected(otherPage, gw.server.port, TEST_TOKEN);
      const otherId = await otherPage.evaluate(async () => {
        const mod = "/identity.js";
        return (await import(mod)).loadOrCreateIdentity().then((i: { deviceId: string }) => i.deviceId);
      });
      const mine = gw.store.devices.get(selfId)!.displayName;
      const theirs = gw.store.devices.get(otherId)!.displayName;
      assert.match(mine ?? "", new RegExp(`^Control UI · Chrome on Linux · ${selfId.slice(0, 6)}$`));
      assert.match(theirs ?? "", new RegExp(`^Control UI · Chrome on Linux · ${otherId.slice(0, 6)}$`));
      assert.notEqual(mine, theirs, "two profiles, two names");
      await other.close();

      // doctor: the UI asks for admin, pairing and read; that is its set, not a legacy one.
      const findings = checkDeviceRecords(gw.store.devices.list(), gw.owner.deviceId);
      const uiIds = new Set(
        gw.store.devices
          .list()
          .filter((d) => d.clientId === "openclaw-control-ui")
          .map((d) => d.deviceId),
      );
      assert.ok(uiIds.size >= 10);
      assert.deepEqual(
        findings.filter((f) => uiIds.has(f.subject ?? "")).map((f) => f.id),
        [],
        "no doctor finding about the Control UI's own devices",
      );

      // Retire: the gateway's dry run lists the stale ones; confirming removes exactly those.
      const DAY = 86_400_000;
      const stale = gw.store.devices
        .list()
        .filter(
          (d) =>
            d.clientId === "openclaw-control-ui" &&
            d.deviceId !== selfId &&
            Date.now() - (d.lastSeenAtMs ?? d.approvedAtMs) >= 30 * DAY,
        )
        .map((d) => d.deviceId)
        .sort();
      assert.ok(stale.length >= 2, `the seed holds stale browser devices (${stale.length})`);
      await goto(page, "#/devices");
      await page.locator('[data-key="retire-stale"]').click();
      const dialog = page.locator("dialog[open]");
      await dialog.locator(".retire-list").waitFor();
      const listed = (
        await dialog
          .locator("[data-retire-id]")
          .evaluateAll((els) =>
            els.map((el) => (el as unknown as { dataset: { retireId: string } }).dataset.retireId),
          )
      ).sort();
      assert.deepEqual(listed, stale, "the dialog lists exactly the stale browser devices");
      assert.match(
        await dialog.innerText(),
        /browser you are using, connected devices and the owner are never retired/,
      );
      await clearNotices(page);
      await screenshot(page, "admin-devices-retire-1280", { fullPage: false });
      await dialog.getByRole("button", { name: "Retire" }).click();
      await page.locator(".notice-ok", { hasText: `Retired ${stale.length} browser devices` }).waitFor();
      for (const id of stale) assert.equal(gw.store.devices.get(id), null, `${id} retired`);
      assert.ok(gw.store.devices.get(selfId), "this browser stays");
      assert.ok(gw.store.devices.get(otherId), "the other, fresh profile stays");
      assert.equal(gw.store.devices.get(seeded.deviceIds[0]!)?.clientId, "cli", "CLIs are not touched");
      const rows = gw.store.audit
        .list({ decisions: ["removed"], limit: 100 })
        .filter((r) => r.kind === "retire");
      assert.deepEqual(rows.map((r) => r.deviceId).sort(), stale, "one audit row per retired device");
      await page.locator(`tr[data-device-id="${stale[0]}"]`).waitFor({ state: "detached" });
    },
  );

  it(
    "sessions: a session's output shows under its row, live while it runs (item 9)",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      const admin = await backendPeer(gw.url, TEST_TOKEN);
      const spawn = (script: string, label: string) => spawnShell(admin, script, label);
      const done = await spawn("echo built 42 files; echo 'warning: 1 skipped' >&2; exit 3", "build");
      const running = await spawn(
        "i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo tick $i; sleep 0.5; done",
        "ticker",
      );
      // Open the page once `done` has ended, so its output is all there.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = await call(admin, "sessions.get", { id: done });
        if ((got.payload as { endedAtMs?: number | null } | undefined)?.endedAtMs) break;
        assert.ok(Date.now() < deadline, `the build session did not end: ${JSON.stringify(got.payload)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        await goto(page, "#/sessions");
        await page.locator(`tr[data-session-id="${done}"]`).waitFor();
        await page.waitForFunction(
          (id) => !!document.querySelector(`tr[data-session-id="${id}"] .badge-exited`),
          done,
          { timeout: 15_000 },
        );
        await page.locator(`[data-key="output:${done}"]`).click();
        const box = page.locator(`[id="output-${done}"]`);
        await box.locator("pre.stdout").waitFor();
        assert.equal((await box.locator("pre.stdout").innerText()).trim(), "built 42 files");
        assert.equal((await box.locator("pre.stderr").innerText()).trim(), "warning: 1 skipped");
        assert.match(await box.innerText(), /exited with exit code 3/);

        await page.locator(`[data-key="output:${running}"]`).click();
        const live = page.locator(`[id="output-${running}"]`);
        await live.locator("pre.stdout", { hasText: "tick 1" }).waitFor();
        assert.match(await live.innerText(), /running — updating/);
        const first = await live.locator("pre.stdout").innerText();
        // No click, no reload: the open panel follows the running session.
        await page.waitForFunction(
          ([id, before]) => {
            const pre = document.querySelector(`[id="output-${id}"] pre.stdout`) as unknown as {
              textContent: string;
            } | null;
            return !!pre && pre.textContent.length > before.length;
          },
          [running, first] as const,
          { timeout: 10_000 },
        );
        await clearNotices(page);
        await shotAt(page, "admin-sessions-output-1280", WIDE);
        const narrow = await shotAt(page, "admin-sessions-output-390", PHONE);
        assert.ok(
          narrow.scrollWidth <= PHONE.width,
          `no horizontal scroll at 390 px (${narrow.scrollWidth} px)`,
        );
        await page.setViewportSize(WIDE);
        await page.locator(`[data-key="output:${running}"]`).click();
        await live.waitFor({ state: "detached" });
      } finally {
        await call(admin, "sessions.kill", { id: running });
        admin.ws.close();
      }
    },
  );

  it(
    "sessions: the list follows session.started and session.ended, without reloading the page",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      const admin = await backendPeer(gw.url, TEST_TOKEN);
      const spawn = (label: string) => spawnShell(admin, "sleep 60", label);
      const marked = () => (globalThis as unknown as { stillThisPage?: boolean }).stillThisPage === true;
      const ids: string[] = [];
      try {
        await goto(page, "#/sessions");
        await page.evaluate(() => {
          (globalThis as unknown as { stillThisPage?: boolean }).stillThisPage = true;
        });
        // The first one may also show through the presence of this admin's connection; the second
        // can only show through its own event (it makes no connection).
        ids.push(await spawn("first waiter"));
        await page.locator(`tr[data-session-id="${ids[0]}"] .badge-running`).waitFor({ timeout: 15_000 });
        ids.push(await spawn("second waiter"));
        const second = page.locator(`tr[data-session-id="${ids[1]}"]`);
        await second.locator(".badge-running").waitFor({ timeout: 15_000 });
        assert.equal(await call(admin, "sessions.kill", { id: ids[1] }).then((r) => r.ok), true);
        await second.locator(".badge-killed").waitFor({ timeout: 15_000 });
        assert.equal(
          await page.locator(`tr[data-session-id="${ids[0]}"] .badge-running`).count(),
          1,
          "the other session still runs",
        );
        assert.equal(await page.evaluate(marked), true, "the page was not reloaded");
      } finally {
        for (const id of ids) await call(admin, "sessions.kill", { id });
        admin.ws.close();
      }
    },
  );

  it(
    "setup codes: the Control UI mints one, shows it with its QR code and the command, and it pairs (item 4)",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/devices");
      await page.locator('[data-key="pair-device"]').click();
      const dialog = page.locator("dialog[open]");
      await dialog.locator("#pair-profile").selectOption("operator-limited");
      await dialog.locator("#pair-create").click();
      const code = (await dialog.locator("#setup-code").innerText()).trim();
      assert.match(code, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}$/);
      const command = await dialog.locator("#setup-command").innerText();
      const link = /--pair '([^']+)'/.exec(command)?.[1] ?? "";
      assert.match(command, /^gatehouse connect --pair 'gatehouse:\/\/pair\?/);
      assert.ok(link.includes(`code=${code}`), "the command carries this code");
      assert.equal(await dialog.locator("#setup-url").innerText(), `ws://127.0.0.1:${gw.server.port}`);
      assert.match(
        await dialog.locator("[data-warning]").innerText(),
        /only this machine can reach/,
        "a loopback-only gateway says the code will not work elsewhere",
      );

      // The QR code drawn is the link's: every module's pixel is dark exactly where the encoder's is.
      const qr = QRCode.create(link, { errorCorrectionLevel: "M" }).modules;
      const drawn = await dialog.locator("canvas.qr").evaluate((el) => {
        const c = el as unknown as {
          width: number;
          getContext(k: "2d"): {
            getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
          };
          dataset: { size: string };
        };
        const size = Number(c.dataset.size);
        const scale = c.width / (size + 8);
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.width).data;
        let bits = "";
        for (let row = 0; row < size; row++)
          for (let col = 0; col < size; col++) {
            const x = Math.floor((col + 4) * scale + scale / 2);
            const y = Math.floor((row + 4) * scale + scale / 2);
            bits += px[(y * c.width + x) * 4]! < 128 ? "1" : "0";
          }
        return { size, bits };
      });
      assert.equal(drawn.size, qr.size);
      assert.equal(drawn.bits, Array.from(qr.data, (b) => (b ? "1" : "0")).join(""));
      await clearNotices(page);
      await screenshot(page, "admin-pair-code-1280", { fullPage: false });
      await page.setViewportSize(PHONE);
      await screenshot(page, "admin-pair-code-390", { fullPage: false });
      await page.setViewportSize(WIDE);
      await dialog.getByRole("button", { name: "Close" }).click();

      // It pairs a new device with exactly its profile, once.
      const identity = generateIdentity();
      const peer = await openPeer(gw.url);
      const hello = await sendConnect(peer, {
        identity,
        auth: { bootstrapToken: code },
        scopes: ["operator.read"],
        platform: "linux",
      });
      peer.ws.close();
      assert.equal(hello.ok, true, JSON.stringify(hello.error));
      assert.equal(gw.store.devices.get(identity.deviceId)?.approvedVia, "setup-code");
    },
  );

  it(
    "node pairing: the request shows the node's declared commands, the exec-capable ones flagged, and the scopes approving needs (issue 13 item 1)",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/devices");
      // A node host elsewhere (a forwarded address from an untrusted peer is never local) asks to pair.
      const identity = generateIdentity();
      const peer = await openPeer(gw.url, { "x-forwarded-for": "203.0.113.7" });
      const res = await sendConnect(peer, {
        identity,
        auth: { token: TEST_TOKEN },
        clientId: "node-host",
        mode: "node",
        role: "node",
        scopes: [],
        extra: { commands: ["camera.snap", "system.run", "system.which"] },
      });
      peer.ws.close();
      assert.equal(res.ok, false, "a node elsewhere waits for approval");
      const request = gw.store.pending.list(Date.now()).find((p) => p.deviceId === identity.deviceId);
      assert.ok(request, "its request is pending");
      const card = page.locator(`article.pending[data-request-id="${request.requestId}"]`);
      await card.waitFor({ timeout: 15_000 });
      assert.deepEqual(await card.locator(".node-commands .chip").allInnerTexts(), [
        "camera.snap",
        "system.run",
        "system.which",
      ]);
      assert.deepEqual(await card.locator(".chip-exec").allInnerTexts(), ["system.run", "system.which"]);
      assert.match(await card.innerText(), /Approving needs\s*operator\.pairing\s*operator\.admin/);
      await page.locator(`[data-key="approve:${request.requestId}"]`).click();
      const dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      assert.deepEqual(await dialog.locator(".chip-exec").allInnerTexts(), ["system.run", "system.which"]);
      assert.match(
        await dialog.innerText(),
        /runs? programs on that machine: approving needs operator\.admin/,
      );
      await clearNotices(page);
      await screenshot(page, "admin-node-approve-1280", { fullPage: false });
      await dialog.getByRole("button", { name: "Approve" }).click();
      await card.waitFor({ state: "detached" });
      assert.deepEqual(gw.store.devices.get(identity.deviceId)?.roles, ["node"]);
    },
  );

  it(
    "a browser device from an unexpected origin: the live notice, its pending card and the approve and reject dialogs name that origin; the owner rejects it (issue 14 item 6)",
    needsBrowser,
    async () => {
      await page.setViewportSize(WIDE);
      await goto(page, "#/devices");
      await clearNotices(page);
      // The live notice names the page (it fades after a few seconds: watch for it from the start).
      const noticed = page
        .locator("#notices .notice", { hasText: `(browser page ${OTHER_PAGE}).` })
        .waitFor({ timeout: 15_000 });
      const identity = generateIdentity();
      const peer = await openPeer(gw.url, { Origin: OTHER_PAGE });
      const res = await sendConnect(peer, {
        identity,
        auth: { token: TEST_TOKEN },
        clientId: "openclaw-control-ui",
        mode: "webchat",
        scopes: ["operator.admin"],
        platform: "Linux x86_64",
      });
      peer.ws.close();
      assert.equal(res.error?.details?.code, "PAIRING_REQUIRED", "a browser page never pairs silently (C02)");
      const request = gw.store.pending.list(Date.now()).find((p) => p.deviceId === identity.deviceId);
      assert.equal(request?.browserOrigin, OTHER_PAGE);
      await noticed;
      const card = page.locator(`article.pending[data-request-id="${request!.requestId}"]`);
      await card.waitFor({ timeout: 15_000 });
      assert.match(await card.innerText(), /Page\s*https:\/\/tools\.example\s*other origin/);
      await card.scrollIntoViewIfNeeded();
      await clearNotices(page);
      await screenshot(page, "admin-origin-pending-1280", { fullPage: false });

      await page.locator(`[data-key="approve:${request!.requestId}"]`).click();
      let dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      const notice = dialog.locator(`p.warn[data-origin="${OTHER_PAGE}"]`);
      assert.match(
        await notice.innerText(),
        /^Asked from the browser page https:\/\/tools\.example — not the origin of this Control UI\./,
      );
      await screenshot(page, "admin-origin-approve-1280", { fullPage: false });
      await page.setViewportSize(PHONE);
      assert.equal(await notice.isVisible(), true, "the origin is shown at 390 px too");
      await screenshot(page, "admin-origin-approve-390", { fullPage: false });
      await page.setViewportSize(WIDE);
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });
      assert.equal(gw.store.devices.get(identity.deviceId), null, "cancelled: nothing approved");

      await page.locator(`[data-key="reject:${request!.requestId}"]`).click();
      dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      assert.equal(await dialog.locator(`p.warn[data-origin="${OTHER_PAGE}"]`).count(), 1);
      await dialog.getByRole("button", { name: "Reject" }).click();
      await card.waitFor({ state: "detached" });
      assert.equal(gw.store.pending.get(request!.requestId, Date.now()), null, "the request is gone");
      assert.equal(gw.store.devices.get(identity.deviceId), null, "and nothing was paired");
    },
  );
});
