/**
 * The systemd user unit `gatehouse gateway install` writes. It names the node binary, the CLI and
 * the state dir, and nothing else: the shared token stays in `<state>/gatehouse.json` (mode 0600),
 * which the gateway reads at start, so no secret is ever copied into a unit file (mode 0644,
 * readable by anyone) or into `systemctl show` output.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export const UNIT_NAME = "gatehouse.service";

/** `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`. */
export function userUnitDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith("/") ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "systemd", "user");
}

/**
 * One ExecStart word: bare when it is plain, else double-quoted with C escapes. `%` (specifiers)
 * and `$` (variable expansion) are doubled so a path is taken literally.
 */
export function systemdQuote(word: string): string {
  const literal = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export interface UnitInput {
  nodePath: string;
  cliPath: string;
  stateDir: string;
  configPath: string;
}

/** The unit file's text. */
export function renderUnit(u: UnitInput): string {
  const exec = [u.nodePath, u.cliPath, "gateway", "run", "--state-dir", u.stateDir]
    .map(systemdQuote)
    .join(" ");
  return [
    "# Written by `gatehouse gateway install`. The shared token is not in this file: the gateway",
    `# reads it from ${u.configPath} (mode 0600).`,
    "[Unit]",
    "Description=Gatehouse gateway",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    "Restart=on-failure",
    "RestartSec=2",
    // The gateway closes clients with `shutdown` + 1012 on SIGTERM and exits within its grace.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=15",
    "UMask=0077",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/** What to run after writing the unit. */
export const ENABLE_COMMAND = "systemctl --user daemon-reload && systemctl --user enable --now gatehouse";
