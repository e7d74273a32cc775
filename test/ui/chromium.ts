/**
 * Debian's Chromium driven by playwright-core, never a downloaded browser. `npm test` installs the
 * `chromium` package when it is missing (scripts/dev.mjs); without it the browser tests skip with
 * the reason. The flags are the ones this machine kind needs (see the env notes): headless, no
 * sandbox (root), and no background networking, whose connections the closed network refuses.
 * Playwright gives every launch a fresh, empty `--user-data-dir` of its own.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page, Response } from "playwright-core";

declare const location: { hash: string };

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where the tests save their screenshots (gitignored). */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../../test-output/screenshots/", import.meta.url));

/** Null when Chromium can be launched from here; otherwise why not. */
export function chromiumUnavailableReason(): string | null {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    return `Debian's Chromium is not installed at ${CHROMIUM_PATH} (npm test installs it as root with apt-get: apt-get install chromium)`;
  }
  return null;
}

/**
 * Launches Chromium headless with the required flags plus `extraArgs`. A launch that fails is
 * tried once more (a loaded machine can miss the first start's deadline); a second failure
 * throws, so an installed browser that does not start fails its tests instead of skipping them.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  const launch = () =>
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraArgs],
      timeout: 30_000,
    });
  return launch().catch(launch);
}

/** A test file's browser, or why its browser tests skip. */
export interface TestBrowser {
  /** Null when Chromium is not installed. */
  browser: Browser | null;
  /** Why the browser tests skip, or null when they run. */
  skip: string | null;
  /** The options a browser test passes to `it`: `{ skip }` when there is no browser. */
  needsBrowser: { skip?: string };
  /** What to undo after the file's tests, last added first; the browser closes after them all. */
  cleanups: Array<() => Promise<unknown> | unknown>;
}

/**
 * The preamble of a browser test file: launches Chromium (`extraArgs` added to the flags), or
 * says on stderr why `what` skips; after the file's tests runs `cleanups` (last first), then
 * closes the browser.
 */
export async function browserForTests(what: string, extraArgs: string[] = []): Promise<TestBrowser> {
  const skip = chromiumUnavailableReason();
  const browser = skip ? null : await launchChromium(extraArgs);
  if (skip) process.stderr.write(`ui: ${what} skipped: ${skip}\n`);
  const cleanups: TestBrowser["cleanups"] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await browser?.close();
  });
  return { browser, skip, needsBrowser: skip ? { skip } : {}, cleanups };
}

/**
 * Navigates `page` to `url`. Test files running beside this one add and remove veth links on the
 * host, and Chromium aborts a navigation in flight when the host's interfaces change
 * (net::ERR_NETWORK_CHANGED) — the host's doing, not the gateway's. That one error is retried a
 * few times, as a person would reload; every other failure is the test's to see.
 */
export async function navigate(page: Page, url: string): Promise<Response | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url);
    } catch (err) {
      if (attempt >= 5 || !(err as Error).message.includes("net::ERR_NETWORK_CHANGED")) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** Opens the Control UI of the gateway on `port` with `token` and waits until it is connected. */
export async function openConnected(page: Page, port: number, token: string): Promise<void> {
  await navigate(page, `http://127.0.0.1:${port}/#token=${encodeURIComponent(token)}`);
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: 15_000 });
}

/** Moves the open Control UI to `route` (`#/devices`, …) and waits until that page is shown. */
export async function goto(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => {
    location.hash = r;
  }, route);
  await page.locator(`#main[data-page="${route.replace("#/", "")}"]`).waitFor();
}

/**
 * Saves a screenshot as `test-output/screenshots/<name>.png` — the full page, or only the viewport
 * (`fullPage: false`, for a modal dialog, whose backdrop covers the viewport only); returns its path.
 */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}
