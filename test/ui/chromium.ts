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
declare const document: {
  getElementById(id: string): { dataset: Record<string, string | undefined>; innerText: string } | null;
};

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

/** One page's recent history: what its sockets, console and requests did, newest last. */
interface PageTrace {
  lines: string[];
  /** Bumped each time a request fails with net::ERR_NETWORK_CHANGED. */
  networkChanges: number;
}

const traces = new WeakMap<Page, PageTrace>();
const TRACE_LINES = 200;

/** A frame's shape without its payload: frames carry tokens and signatures, which no log holds. */
function frameShape(payload: string | Buffer): string {
  try {
    const f = JSON.parse(String(payload)) as Record<string, unknown>;
    const error = (f.error as { code?: unknown } | undefined)?.code;
    return [f.type, f.method ?? f.event, f.ok === undefined ? "" : `ok=${String(f.ok)}`, error ?? ""]
      .filter((part) => part !== undefined && part !== "")
      .join(" ");
  } catch {
    return `${String(payload).length} bytes, not JSON`;
  }
}

/**
 * Starts (once per page) keeping the last lines of what `page` did: WebSocket opens, frames (their
 * type and method only), closes and errors, console errors and warnings, page errors and failed
 * requests. `waitForConnState` prints it when the Control UI never reaches a state, so a stall in
 * a CI log says where it stopped instead of only "Timeout 15000ms exceeded".
 */
export function socketTrace(page: Page): PageTrace {
  let trace = traces.get(page);
  if (trace) return trace;
  const t0 = Date.now();
  const lines: string[] = [];
  trace = { lines, networkChanges: 0 };
  const own = trace;
  const note = (line: string) => {
    lines.push(`+${Date.now() - t0}ms ${line}`);
    if (lines.length > TRACE_LINES) lines.shift();
  };
  page.on("websocket", (ws) => {
    note(`ws open ${ws.url()}`);
    ws.on("framesent", (f) => note(`ws sent ${frameShape(f.payload)}`));
    ws.on("framereceived", (f) => note(`ws received ${frameShape(f.payload)}`));
    ws.on("socketerror", (err) => note(`ws error ${err}`));
    ws.on("close", () => note("ws closed"));
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") note(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => note(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText ?? "unknown";
    if (why.includes("ERR_NETWORK_CHANGED")) own.networkChanges++;
    note(`request failed ${req.url().replace(/#.*/, "")}: ${why}`);
  });
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) note(`navigated ${frame.url().replace(/#.*/, "#…")}`);
  });
  traces.set(page, trace);
  return trace;
}

/** True once the Control UI's script has run (it marks the pill), or when the page is not the UI. */
async function uiBooted(page: Page, timeout: number): Promise<boolean> {
  return page
    .waitForFunction(
      () => {
        const pill = document.getElementById("conn");
        return pill === null || pill.dataset.state !== undefined;
      },
      null,
      { timeout },
    )
    .then(
      () => true,
      () => false,
    );
}

/**
 * Navigates `page` to `url`. Test files running beside this one add and remove veth links on the
 * host, and Chromium aborts loads in flight when the host's interfaces change
 * (net::ERR_NETWORK_CHANGED) — the host's doing, not the gateway's. When that aborts the
 * navigation, or one of the Control UI's modules so that the app never starts, the page is loaded
 * again (a few times), as a person would reload; every other failure is the test's to see. A
 * retry leaves for about:blank first: the Control UI's URLs carry a fragment, and going to the URL
 * the page is already at, fragment and all, only moves to the fragment, loading nothing again.
 */
export async function navigate(page: Page, url: string): Promise<Response | null> {
  const trace = socketTrace(page);
  for (let attempt = 1; ; attempt++) {
    const changesBefore = trace.networkChanges;
    let res: Response | null;
    try {
      if (attempt > 1) await page.goto("about:blank");
      res = await page.goto(url);
    } catch (err) {
      if (attempt >= 5 || !(err as Error).message.includes("net::ERR_NETWORK_CHANGED")) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      continue;
    }
    if (await uiBooted(page, 10_000)) return res;
    if (attempt >= 5 || trace.networkChanges === changesBefore) return res;
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
}

/**
 * Waits until the Control UI's connection pill shows `state`; on timeout the error names the state
 * it does show, the page's text and the page's trace (see `socketTrace`).
 */
export async function waitForConnState(page: Page, state: string, timeout = 15_000): Promise<void> {
  const trace = socketTrace(page);
  try {
    await page.locator(`#conn[data-state="${state}"]`).waitFor({ timeout });
  } catch (err) {
    const seen = await page
      .evaluate(() => ({
        state: document.getElementById("conn")?.dataset.state ?? "(no state: the app did not start)",
        main: (document.getElementById("main")?.innerText ?? "").slice(0, 400),
      }))
      .catch((e: Error) => ({ state: "(page gone)", main: e.message }));
    throw new Error(
      `the Control UI did not show "${state}" within ${timeout} ms; it shows "${seen.state}"\n` +
        `page text: ${JSON.stringify(seen.main)}\n` +
        `page trace (last ${trace.lines.length} lines):\n  ${trace.lines.join("\n  ")}\n` +
        `(${(err as Error).message.split("\n")[0]})`,
    );
  }
}

/** Opens the Control UI of the gateway on `port` with `token` and waits until it is connected. */
export async function openConnected(page: Page, port: number, token: string): Promise<void> {
  await navigate(page, `http://127.0.0.1:${port}/#token=${encodeURIComponent(token)}`);
  await waitForConnState(page, "connected");
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
