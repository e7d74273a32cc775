/**
 * Issue "Control UI: approve and manage devices in the browser" — done when, in Debian's Chromium
 * driven by playwright-core:
 *   - the UI opened with the token (URL fragment) is approved silently on loopback and lists the
 *     owner device; the token leaves the address bar;
 *   - a CLI with a fresh identity in another network namespace asks to pair: its pending request
 *     appears without a reload, is approved in the UI, and the CLI gets in; revoking its token
 *     disconnects it, live;
 *   - a page on another origin cannot open the WebSocket; a wrong Host header is refused;
 *   - waiting-for-approval, refused and disconnected states say what to do;
 *   - a screenshot of each page is saved in test-output/screenshots (desktop and ~400 px wide).
 *
 * Topology (see netns-link.ts): the gateway runs in this process, listening on 127.0.0.1 (for
 * Chromium, also in the root namespace) and on the root end of a veth into namespace N, where the
 * CLI runs with its own state dir and dials `ws://<root end>:<port>` like a remote machine would.
 * Needs /usr/bin/chromium (skips with the reason otherwise) and, for the CLI steps, root with
 * iproute2 (those steps skip with the reason otherwise).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import {
  decodePublicKeyBytes,
  deviceIdFromRawKey,
  publicKeyFromRaw,
  verifyPayload,
} from "../../src/identity/keys.js";
import { buildSignaturePayloadV3 } from "../../src/protocol/signature-payload.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { tempStateDir } from "../helpers/gateway-process.js";
import { call, openPeer, sendConnect } from "../helpers/raw-client.js";
import { browserForTests, goto, navigate, SCREENSHOT_DIR, screenshot, waitForConnState } from "./chromium.js";
import {
  createLinkedNamespace,
  linkedNamespaceUnavailableReason,
  type LinkedNamespace,
} from "./netns-link.js";

// Browser globals used inside the functions Playwright runs in the page (this program is compiled
// without the DOM lib, so they are declared here, for this module only).
declare const window: Record<string, unknown>;
declare const sessionStorage: { getItem(key: string): string | null };
declare const localStorage: { length: number };
declare const document: {
  querySelector(selector: string): { textContent: string | null; replaceChildren(): void } | null;
  activeElement: { textContent: string | null } | null;
};
declare class WebSocket {
  constructor(url: string);
  onopen: (() => void) | null;
  onclose: ((e: { code: number }) => void) | null;
}

/** A name Chromium resolves to 127.0.0.1, as a DNS-rebinding attacker's domain would. */
const REBIND_HOST = "rebind.test";

const {
  browser,
  skip: browserSkip,
  needsBrowser,
} = await browserForTests("browser tests", [`--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`]);
const netnsSkip = browserSkip ?? linkedNamespaceUnavailableReason();
if (netnsSkip && !browserSkip) process.stderr.write(`ui: namespace CLI steps skipped: ${netnsSkip}\n`);

const needsNetns = netnsSkip ? { skip: netnsSkip } : {};

const DESKTOP = { width: 1280, height: 860 };
const NARROW = { width: 400, height: 860 };

const dirs: string[] = [];
function newDir(): string {
  const d = tempStateDir();
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Nothing from the user's environment reaches the CLI, and nothing lands in ~/.gatehouse. */
const cleanEnv = () => ({
  HOME: newDir(),
  GATEHOUSE_GATEWAY_TOKEN: "",
  GATEHOUSE_GATEWAY_PASSWORD: "",
  GATEHOUSE_GATEWAY_URL: "",
  GATEHOUSE_PORT: "",
  GATEHOUSE_STATE_DIR: "",
});

/** Errors the page logged (CSP violations included); a test asserts there were none. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket connection to/.test(m.text()))
      errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Screenshots at desktop width and at ~400 px (notices cleared unless kept), back to desktop size. */
async function shots(page: Page, name: string, { keepNotices = false } = {}): Promise<void> {
  if (!keepNotices) await page.evaluate(() => document.querySelector("#notices")?.replaceChildren());
  await screenshot(page, name);
  await page.setViewportSize(NARROW);
  await screenshot(page, `${name}-narrow`);
  await page.setViewportSize(DESKTOP);
}

async function state(page: Page, kind: string, timeout = 15_000): Promise<void> {
  await waitForConnState(page, kind, timeout);
}

function deviceIdOf(stateDir: string): string {
  return (JSON.parse(readFileSync(join(stateDir, "identity", "device.json"), "utf8")) as { deviceId: string })
    .deviceId;
}

describe("Control UI in Chromium: owner, a CLI in another namespace approved live, revoked live", () => {
  let gw: TestGateway;
  let link: LinkedNamespace | null = null;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let httpUrl: string;
  let selfId: string;
  /** The CLI in the namespace: its state dir and the flags every command gets. */
  let cliDir: string;
  let cliFlags: string[];
  let cliDeviceId: string;
  const saved: string[] = [];

  before(async () => {
    if (!browser) return;
    if (!netnsSkip) link = createLinkedNamespace();
    gw = await startTestGateway({ hosts: link ? ["127.0.0.1", link.rootAddr] : ["127.0.0.1"] });
    httpUrl = `http://127.0.0.1:${gw.server.port}`;
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    errors = watchErrors(page);
    if (link) {
      cliDir = newDir();
      cliFlags = [
        "--url",
        `ws://${link.rootAddr}:${gw.server.port}`,
        "--token",
        TEST_TOKEN,
        "--state-dir",
        cliDir,
        "--allow-insecure",
      ];
    }
  });
  after(async () => {
    await context?.close();
    await gw?.stop();
    link?.destroy();
  });

  it(
    "opens with #token=: approved silently on loopback, token gone from the address bar, owner listed",
    needsBrowser,
    async () => {
      await navigate(page, `${httpUrl}/#token=${encodeURIComponent(TEST_TOKEN)}`);
      await state(page, "connected");
      assert.equal(page.url(), `${httpUrl}/#/overview`, "the token is dropped from the address bar");
      assert.equal(await page.evaluate(() => sessionStorage.getItem("gatehouse.gatewayToken")), TEST_TOKEN);
      assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");

      await page.locator(".stat", { hasText: "connected clients" }).waitFor();
      assert.match(await page.locator("#main").innerText(), /This browser/);
      selfId = (await page.locator("#main .id-full").first().innerText()).trim();
      const record = gw.store.devices.get(selfId);
      assert.ok(record, "the browser's device is paired");
      assert.equal(record.approvedVia, "silent");
      assert.equal(record.clientId, "openclaw-control-ui");
      assert.deepEqual([...record.scopes].sort(), ["operator.admin", "operator.pairing", "operator.read"]);
      saved.push("overview", "overview-narrow");
      await shots(page, "overview");

      await goto(page, "#/devices");
      const owner = page.locator(`[data-device-id="${gw.owner.deviceId}"]`);
      await owner.waitFor();
      assert.match(await owner.innerText(), /owner/);
      const self = page.locator(`[data-device-id="${selfId}"]`);
      assert.match(await self.innerText(), /this browser/);
      assert.equal(await self.locator(".presence").getAttribute("data-connected"), "true");
      saved.push("devices", "devices-narrow");
      await shots(page, "devices");
    },
  );

  it(
    "the key is Ed25519 from WebCrypto, not extractable, kept across reloads; its signatures verify on the server",
    needsBrowser,
    async () => {
      const fields = {
        deviceId: selfId,
        clientId: "openclaw-control-ui",
        clientMode: "webchat",
        role: "operator",
        scopes: ["operator.admin", "operator.pairing", "operator.read"],
        signedAtMs: 1767225600000,
        token: TEST_TOKEN,
        nonce: "nonce-1",
        platform: "  Web ",
        deviceFamily: "İBrowser",
      };
      const fromBrowser = await page.evaluate(async (f) => {
        const identityModule = "/identity.js";
        const signatureModule = "/signature.js";
        const id = await import(identityModule);
        const sig = await import(signatureModule);
        const identity = await id.loadOrCreateIdentity();
        const payload = sig.buildSignaturePayloadV3(f);
        return {
          deviceId: identity.deviceId,
          publicKey: identity.publicKey,
          extractable: identity.extractable,
          payload,
          signature: await id.signPayload(identity, payload),
        };
      }, fields);
      assert.equal(
        fromBrowser.payload,
        buildSignaturePayloadV3(fields),
        "the browser builds the server's v3 payload",
      );
      assert.equal(fromBrowser.extractable, false, "the private key cannot be exported");
      assert.equal(fromBrowser.deviceId, selfId);
      const raw = decodePublicKeyBytes(fromBrowser.publicKey);
      assert.ok(raw && raw.length === 32, "raw 32-byte key, base64url");
      assert.equal(deviceIdFromRawKey(raw), selfId, "deviceId = hex SHA-256 of the raw key");
      assert.ok(verifyPayload(publicKeyFromRaw(raw)!, fromBrowser.payload, fromBrowser.signature));

      await page.reload();
      await state(page, "connected");
      await page.locator(`[data-device-id="${selfId}"]`).waitFor();
      assert.equal(
        gw.store.devices.list().length,
        2,
        "same device after a reload: owner and this browser only",
      );
    },
  );

  it(
    "a CLI with a fresh identity in another namespace: its request appears live, Approve lets it in",
    needsNetns,
    async () => {
      assert.ok(link);
      await goto(page, "#/devices");
      await page.evaluate(() => {
        window.noReload = true;
      });
      const cli = link.spawnCli(["health", ...cliFlags, "--wait", "60"], cleanEnv());

      const card = page.locator("article.pending[data-request-id]");
      await card.waitFor({ timeout: 20_000 });
      const requestId = (await card.getAttribute("data-request-id"))!;
      cliDeviceId = deviceIdOf(cliDir);
      const pending = gw.store.pending.list(Date.now());
      assert.deepEqual(
        pending.map((p) => [p.requestId, p.deviceId, p.remoteIp]),
        [[requestId, cliDeviceId, link.nsAddr]],
        "exactly the CLI's request, from the namespace's address",
      );
      const text = await card.innerText();
      assert.match(text, new RegExp(requestId));
      assert.match(text, new RegExp(link.nsAddr.replace(/\./g, "\\.")));
      assert.match(text, /cli\/cli/);
      assert.match(text, /operator\.read/);
      assert.match(text, /nothing \(not paired\)/);
      assert.equal(
        await page.evaluate(() => window.noReload),
        true,
        "no reload: the request arrived as a gateway event",
      );
      await page.waitForFunction(
        (id) => document.querySelector(".nav-count")?.textContent === "1" && !!id,
        requestId,
      );
      saved.push("devices-pending", "devices-pending-narrow");
      await shots(page, "devices-pending", { keepNotices: true });

      // Keyboard: Enter on the button opens the confirmation, Escape cancels it and nothing happens.
      const approveButton = page.locator(`[data-key="approve:${requestId}"]`);
      await approveButton.focus();
      await page.keyboard.press("Enter");
      const dialog = page.locator("dialog[open]");
      await dialog.waitFor();
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      assert.equal(gw.store.pending.list(Date.now()).length, 1, "cancelled: still pending");

      await approveButton.click();
      await dialog.waitFor();
      const dialogText = await dialog.innerText();
      assert.match(dialogText, new RegExp(requestId));
      assert.match(dialogText, /Requested roles\s*operator/);
      assert.match(dialogText, /Requested scopes\s*operator\.read/);
      saved.push("approve-dialog");
      await screenshot(page, "approve-dialog");
      // The confirm button has the focus: Enter approves.
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Approve");
      await page.keyboard.press("Enter");

      const r = await cli.done(30_000);
      assert.equal(r.code, 0, `the CLI got in after approval: ${r.stderr}`);
      assert.match(
        r.stdout,
        new RegExp(`^gateway ok at ws://${link.rootAddr.replace(/\./g, "\\.")}:${gw.server.port} — `, "m"),
      );
      assert.match(
        r.stderr,
        new RegExp(`gatehouse devices approve ${requestId}`),
        "the CLI named the approve command",
      );

      const paired = page.locator(`[data-device-id="${cliDeviceId}"]`);
      await paired.waitFor();
      await page.locator("article.pending").waitFor({ state: "detached" });
      await page.locator(`[data-key="details:${cliDeviceId}"]`).click();
      const details = page.locator(`tr[data-details-for="${cliDeviceId}"]`);
      assert.match(await details.innerText(), /\(approved\)/);
      await page.locator(`[data-key="details:${cliDeviceId}"]`).click();
      assert.equal(gw.store.devices.get(cliDeviceId)?.approvedVia, "approved");
    },
  );

  it(
    "asking for more shows requested versus approved; revoking the token disconnects the CLI live",
    needsNetns,
    async () => {
      assert.ok(link);
      // A long-lived command that needs operator.admin: a scope upgrade the owner must approve.
      const cli = link.spawnCli(
        [
          "sessions",
          "spawn",
          ...cliFlags,
          "--wait",
          "60",
          "--attach",
          "--timeout-ms",
          "60000",
          "--label",
          "ui-test",
          "--",
          "sleep",
          "60",
        ],
        cleanEnv(),
      );
      const card = page.locator(`article.pending[data-request-id]`);
      await card.waitFor({ timeout: 20_000 });
      const requestId = (await card.getAttribute("data-request-id"))!;
      const text = await card.innerText();
      assert.match(text, /asks for more scopes/);
      assert.match(text, /Approved now\s*operator\s*operator\.read/);
      assert.equal(
        await card.locator(".chip-new", { hasText: "operator.admin" }).count(),
        1,
        "the new scope is highlighted",
      );
      saved.push("devices-upgrade");
      await page.evaluate(() => document.querySelector("#notices")?.replaceChildren());
      await screenshot(page, "devices-upgrade");
      await page.locator(`[data-key="approve:${requestId}"]`).click();
      await page.locator("dialog[open]").getByRole("button", { name: "Approve" }).click();

      const paired = page.locator(`[data-device-id="${cliDeviceId}"]`);
      await paired.locator('.presence[data-connected="true"]').waitFor({ timeout: 20_000 });
      saved.push("devices-connected");
      await page.evaluate(() => document.querySelector("#notices")?.replaceChildren());
      await screenshot(page, "devices-connected");

      await paired.locator(".menu-btn").click();
      await page
        .locator(`[id="menu-${cliDeviceId}"]`)
        .getByRole("menuitem", { name: "Revoke operator token…" })
        .click();
      const dialog = page.locator("dialog[open]");
      assert.match(await dialog.innerText(), /live operator sessions close now/);
      await dialog.getByRole("button", { name: "Revoke operator token" }).click();
      await paired.locator('.presence[data-connected="false"]').waitFor({ timeout: 10_000 });
      assert.match(await paired.innerText(), /revoked/);
      saved.push("devices-revoked", "devices-revoked-narrow");
      await shots(page, "devices-revoked");
      const stillOpen = gw.server.openConnections().filter((c) => c.deviceId === cliDeviceId);
      assert.deepEqual(stillOpen, [], "the gateway holds no session of the CLI's device");

      // The CLI lost its session (close 4001). With --wait it may ask again; either way it is out.
      const outcome = await Promise.race([
        cli.done(60_000),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000)),
      ]);
      if (outcome) assert.notEqual(outcome.code, 0, `the CLI did not finish normally: ${outcome.stdout}`);
      else cli.child.kill("SIGKILL");
    },
  );

  it("sessions, cron jobs and the audit tail", needsBrowser, async () => {
    // A cron job to show (created by a local backend client with admin).
    const admin = await openPeer(gw.url);
    await sendConnect(admin, {
      auth: { token: TEST_TOKEN },
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.admin"],
    });
    const added = await call(admin, "cron.add", {
      schedule: "*/15 * * * *",
      name: "nightly-report",
      command: "/bin/true",
      scopes: ["operator.read"],
    });
    assert.equal(added.ok, true, JSON.stringify(added.error));
    admin.ws.close();

    await goto(page, "#/sessions");
    await page.locator("#main h1", { hasText: "Sessions" }).waitFor();
    if (!netnsSkip) await page.locator("#main", { hasText: "ui-test" }).waitFor();
    saved.push("sessions", "sessions-narrow");
    await shots(page, "sessions");

    await goto(page, "#/cron");
    await page.locator("#main", { hasText: "nightly-report" }).waitFor();
    saved.push("cron", "cron-narrow");
    await shots(page, "cron");

    await goto(page, "#/audit");
    await page.locator("#main tbody tr").first().waitFor();
    const audit = await page.locator("#main").innerText();
    assert.match(audit, /approve-silently/, "the browser's own silent approval is in the tail");
    if (!netnsSkip) {
      assert.match(audit, /revoked/);
      assert.match(audit, /approved/);
    }
    saved.push("audit", "audit-narrow");
    await shots(page, "audit");
    assert.deepEqual(errors, [], "no errors in the page (CSP violations included)");
  });

  it("a page on another origin cannot open the WebSocket", needsBrowser, async () => {
    const other: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>another site</title><p>another site</p>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as { port: number }).port;
    const before = gw.server.openConnections().length;
    const p = await context.newPage();
    try {
      await navigate(p, `http://127.0.0.1:${port}/`);
      const outcome = await p.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve("open");
            ws.onclose = (e) => resolve(`closed ${e.code}`);
          }),
        gw.url,
      );
      assert.equal(outcome, "closed 1006", "the upgrade was refused (HTTP 403), never opened");
      assert.equal(gw.server.openConnections().length, before);
    } finally {
      await p.close();
      other.close();
    }

    if (link) {
      // The gateway's own page reached over its veth address: served (a bind address is an own
      // name), but plain HTTP off loopback is no secure context, so no device key — and it says so.
      const remote = await context.newPage();
      try {
        await navigate(remote, `http://${link.rootAddr}:${gw.server.port}/`);
        await state(remote, "unsupported");
        assert.match(await remote.locator("#main").innerText(), /not a secure context/);
        saved.push("insecure-context");
        await screenshot(remote, "insecure-context");
      } finally {
        await remote.close();
      }
    }
  });

  it(
    "a wrong Host header is refused: a rebinding name for 127.0.0.1 gets 421, no page",
    needsBrowser,
    async () => {
      const p = await context.newPage();
      try {
        const res = await navigate(p, `http://${REBIND_HOST}:${gw.server.port}/`);
        assert.equal(res?.status(), 421);
        assert.match(await p.locator("body").innerText(), /is not a name of this gateway/);
        saved.push("host-refused");
        await screenshot(p, "host-refused");
        const asset = await navigate(p, `http://${REBIND_HOST}:${gw.server.port}/app.js`);
        assert.equal(asset?.status(), 421);
      } finally {
        await p.close();
      }
    },
  );

  it("screenshots of each page were saved", needsBrowser, () => {
    for (const name of saved) {
      const file = join(SCREENSHOT_DIR, `${name}.png`);
      assert.ok(existsSync(file), file);
      assert.ok(statSync(file).size > 1000, `${file} is not empty`);
    }
    assert.ok(saved.length >= 8);
  });
});

describe("Control UI states: waiting for approval, refused, disconnected", () => {
  let gw: TestGateway;
  let context: BrowserContext;
  let httpUrl: string;

  before(async () => {
    if (!browser) return;
    // Silent local approval off: even the gateway's own page on loopback has to be approved.
    gw = await startTestGateway({ autoApproveLocal: false });
    httpUrl = `http://127.0.0.1:${gw.server.port}`;
    context = await browser.newContext({ viewport: DESKTOP });
  });
  after(async () => {
    await context?.close();
    await gw?.stop();
  });

  /** Approves a request as the owner (owner key, like `gatehouse devices approve`). */
  async function ownerApproves(requestId: string): Promise<void> {
    const owner = await openPeer(gw.url);
    const hello = await sendConnect(owner, { identity: gw.owner, scopes: ["operator.admin"] });
    assert.equal(hello.ok, true, JSON.stringify(hello.error));
    const res = await call(owner, "device.pair.approve", { requestId });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    owner.ws.close();
  }

  it(
    "waiting for approval shows the requestId and the command, keeps the requestId, and continues once approved",
    needsBrowser,
    async () => {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await navigate(page, `${httpUrl}/#token=${encodeURIComponent(TEST_TOKEN)}`);
      await state(page, "pairing");
      const panel = page.locator("section.state-pairing");
      const requestId = (await panel.getAttribute("data-request-id"))!;
      assert.match(requestId, /^[0-9a-f-]{36}$/);
      assert.equal(
        await page.locator("#approve-command").innerText(),
        `gatehouse devices approve ${requestId}`,
      );
      await shots(page, "waiting-for-approval");

      // It retries (every 2 s); the same request keeps the same requestId, and only one pends.
      await page.waitForTimeout(4_500);
      assert.equal(await panel.getAttribute("data-request-id"), requestId);
      assert.deepEqual(
        gw.store.pending.list(Date.now()).map((p) => p.requestId),
        [requestId],
      );

      await ownerApproves(requestId);
      await state(page, "connected", 10_000);
      await page.locator(".stat", { hasText: "connected clients" }).waitFor();

      // Disconnected: the gateway goes away; the page says so and keeps trying.
      await gw.app.stop({ graceMs: 200 });
      await state(page, "disconnected", 10_000);
      assert.match(await page.locator("#main").innerText(), /Reconnecting in \d+s/);
      await shots(page, "disconnected");
      assert.deepEqual(errors, []);
      await page.close();
    },
  );

  it(
    "refused: a wrong token says so (no pairing talk), and pasting the right one goes on",
    needsBrowser,
    async () => {
      const other = await startTestGateway({ autoApproveLocal: false });
      const page = await context.newPage();
      try {
        await navigate(page, `http://127.0.0.1:${other.server.port}/#token=not-the-token`);
        await state(page, "refused");
        const text = await page.locator("#main").innerText();
        assert.match(text, /Gateway token needed/);
        assert.match(text, /gateway token mismatch/);
        assert.doesNotMatch(text, /pairing/i);
        assert.equal(
          other.store.pending.list(Date.now()).length,
          0,
          "a wrong token creates no request (S40)",
        );
        await shots(page, "refused");
        await page.locator("#token-input").fill(TEST_TOKEN);
        await page.locator("#token-input").press("Enter");
        await state(page, "pairing");
        assert.equal(other.store.pending.list(Date.now()).length, 1);
      } finally {
        await page.close();
        await other.stop();
      }
    },
  );
});
