/**
 * `gatehouse dashboard [--print]`: the Control UI of this host's gateway. Opens it in the
 * desktop's browser when there is one (and `--print` is not given), else prints its URL with the
 * token in the fragment. `--json` gives the URL without the token.
 */
import type { Command } from "commander";
import { bindHosts, loadConfig, resolveStateDir } from "../../config/index.js";
import { hasGatewayStore } from "../lifecycle/local-store.js";
import {
  configuredAuth,
  dashboardBaseUrl,
  dashboardUrl,
  dashboardUrlHasSecret,
  openInBrowser,
} from "../lifecycle/dashboard.js";
import { gatewayUrl, inspectGateway, localUrlFor } from "../lifecycle/state.js";
import { CliError, createReporter, EXIT, type Reporter } from "../output.js";
import type { RunCommand } from "./gateway-lifecycle.js";

export interface DashboardOptions {
  stateDir?: string;
  print?: boolean;
  json?: boolean;
}

/** What `dashboard --json` reports: never the token. */
export interface DashboardReport {
  url: string;
  /** Whether the printed (text) URL carries the token in its fragment. */
  tokenInFragment: boolean;
  running: boolean;
  opened: boolean;
  stateDir: string;
}

/** Finds the page, opens or prints it. */
export async function dashboard(opts: DashboardOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const state = inspectGateway(stateDir);
  if (!state.running && !hasGatewayStore(stateDir)) {
    throw new CliError(
      "NO_LOCAL_GATEWAY",
      `no gateway runs from state dir ${stateDir} on this machine`,
      EXIT.failed,
      "the Control UI is served by the gateway: run gatehouse dashboard on the gateway host, or start one here: gatehouse gateway start",
    );
  }
  const config = loadConfig({ stateDir });
  const wsUrl =
    (state.running ? gatewayUrl(state, stateDir) : null) ??
    localUrlFor(bindHosts(config.gateway), config.gateway.port, config.gateway.tls.enabled);
  const auth = configuredAuth(stateDir) ?? { mode: config.gateway.auth.mode };
  if (auth.mode === "token" && !auth.token) {
    throw new CliError(
      "NO_GATEWAY_TOKEN",
      `gateway.auth.token is not set in ${config.configPath} (nor GATEHOUSE_GATEWAY_TOKEN)`,
      EXIT.failed,
      "the gateway generates one at its first start: gatehouse gateway start",
    );
  }
  if (!state.running) out.info("note: the gateway is not running; start it with: gatehouse gateway start");
  const url = dashboardUrl(wsUrl, auth);
  const opened = !opts.print && !out.json ? await openInBrowser(url, stateDir) : false;
  const report: DashboardReport = {
    url: dashboardBaseUrl(wsUrl),
    tokenInFragment: dashboardUrlHasSecret(auth),
    running: state.running,
    opened,
    stateDir,
  };
  out.result(report, () =>
    opened
      ? `opened the Control UI in your browser (${dashboardBaseUrl(wsUrl)})`
      : auth.mode === "password"
        ? `${url}\n(the page asks for the gateway password)`
        : url,
  );
  return EXIT.ok;
}

/** Adds `gatehouse dashboard`. */
export function registerDashboard(program: Command, run: RunCommand): void {
  program
    .command("dashboard")
    .description("open the Control UI in a browser, or print its URL (with the token) to open yourself")
    .option("--print", "print the URL instead of opening a browser")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--json", "print machine-readable JSON (the URL without the token)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  gatehouse dashboard            # opens http://127.0.0.1:18789/#token=… in the desktop's browser\n" +
        "  gatehouse dashboard --print    # prints that URL (over SSH: open it through a tunnel,\n" +
        "                                 #   ssh -L 18789:127.0.0.1:18789 <gateway host>)\n" +
        "\nThe token travels in the URL fragment, which the browser never sends to any server. Without a\n" +
        "desktop (no DISPLAY or WAYLAND_DISPLAY) the URL is printed. BROWSER names another opener.",
    )
    .action((opts: DashboardOptions) => run(() => dashboard(opts, createReporter(!!opts.json)), !!opts.json));
}
