/**
 * Debian's Chromium driven by playwright-core, never a downloaded browser. `npm test` installs the
 * `chromium` package when it is missing (scripts/dev.mjs); without it the browser tests skip with
 * the reason. The flags are the ones this machine kind needs (see the env notes): headless, no
 * sandbox (root), and no background networking, whose connections the closed network refuses.
 * Playwright gives every launch a fresh, empty `--user-data-dir` of its own.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";

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

/** Launches Chromium headless with the required flags plus `extraArgs`. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    timeout: 30_000,
  });
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
