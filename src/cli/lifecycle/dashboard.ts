/**
 * The Control UI's address: the page the gateway serves at its own URL, with the shared token in
 * the fragment (`#token=…`, which never leaves the browser). The token is a secret, so the URL
 * with it is printed only to a person at a terminal, or when asked for (`gatehouse dashboard`);
 * logs, pipes and `--json` get the URL without it.
 */
import { spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../config/index.js";

/** The shared secret as the gateway is configured with it (what the page needs to get in). */
export interface DashboardAuth {
  mode: string;
  token?: string;
}

/**
 * The shared secret the gateway of `stateDir` uses, as this process resolves it (flag `--auth`,
 * environment, gatehouse.json); null when the config cannot be read.
 */
export function configuredAuth(
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
  authMode?: string,
): DashboardAuth | null {
  try {
    const { auth } = loadConfig({
      stateDir,
      env,
      ...(authMode !== undefined && { overrides: { authMode } }),
    }).gateway;
    return { mode: auth.mode, ...(auth.token !== undefined && { token: auth.token }) };
  } catch {
    return null;
  }
}

/** The page's URL for a gateway dialled at `wsUrl` (ws→http, wss→https), without any secret. */
export function dashboardBaseUrl(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = "/";
  url.search = "";
  url.hash = "";
  url.username = "";
  url.password = "";
  return url.toString();
}

/** The page's URL with the token in the fragment when the gateway uses one; else the plain URL. */
export function dashboardUrl(wsUrl: string, auth: DashboardAuth): string {
  const base = dashboardBaseUrl(wsUrl);
  return auth.mode === "token" && auth.token ? `${base}#token=${encodeURIComponent(auth.token)}` : base;
}

/** Whether the URL printed for `auth` carries a secret. */
export function dashboardUrlHasSecret(auth: DashboardAuth): boolean {
  return auth.mode === "token" && !!auth.token;
}

/** The one line a start path prints about the Control UI: with the token on a terminal only. */
export function dashboardLine(wsUrl: string, auth: DashboardAuth, terminal: boolean): string {
  if (terminal || !dashboardUrlHasSecret(auth)) {
    const note = auth.mode === "password" ? " (the page asks for the gateway password)" : "";
    return `Control UI: ${dashboardUrl(wsUrl, auth)}${note}`;
  }
  return `Control UI: ${dashboardBaseUrl(wsUrl)} (gatehouse dashboard prints it with the token)`;
}

/** The command that opens a URL in the desktop's browser here, or null when there is none. */
function opener(env: NodeJS.ProcessEnv): string | null {
  if (env.BROWSER === "") return null;
  if (process.platform === "darwin") return "open";
  if (process.platform === "win32") return null;
  // Without a display there is no browser to open (an SSH session, a container, CI).
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return env.BROWSER || "xdg-open";
}

/**
 * Opens the page in a browser, if this machine has one to open. The URL carries the token, so it
 * does not go on a command line (other local users can read those): a small page in the state dir
 * (mode 0600, beside the config file that holds the same token) forwards the browser to it.
 * Resolves false when no browser could be started.
 */
export async function openInBrowser(
  url: string,
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const command = opener(env);
  if (!command) return false;
  const launcher = join(stateDir, "dashboard.html");
  const target = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  writeFileSync(
    launcher,
    `<!doctype html><meta charset="utf-8"><title>Gatehouse</title><meta http-equiv="refresh" content="0;url=${target}">\n`,
    { mode: 0o600 },
  );
  chmodSync(launcher, 0o600);
  return new Promise((resolve) => {
    const child = spawn(command, [pathToFileURL(launcher).toString()], { stdio: "ignore", detached: true });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
