/**
 * Help that helps: an Examples section on every command (one table, so a new command without
 * examples fails test/cli/help.test.ts), and the connection flags explained once, in
 * `gatehouse help connection`, instead of ten repeated lines under every command.
 */
import type { Command } from "commander";
import { CONNECTION_NOTE, connectionOptions } from "./commands/client-flags.js";

/** Examples per command path (`devices approve`), each a command line and what it does. */
export const EXAMPLES: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  gateway: [
    ["gatehouse gateway run", "run it in the foreground"],
    ["gatehouse gateway start && gatehouse gateway status", "run it in the background and check it"],
  ],
  "gateway run": [
    ["gatehouse gateway run", "loopback, port 18789, state in ~/.gatehouse"],
    ["gatehouse gateway run --port 18800 --state-dir /tmp/gh", "a second gateway beside the first"],
    ["gatehouse gateway run --bind lan --log-format json", "reachable on the LAN, JSON log lines"],
  ],
  "gateway start": [
    ["gatehouse gateway start", "start in the background; the log goes to <state>/logs/gateway.log"],
    ["gatehouse gateway start --port 18800 --json", "another port; print {pid, url, …}"],
  ],
  "gateway stop": [["gatehouse gateway stop", "SIGTERM, then SIGKILL after 10 s"]],
  "gateway restart": [["gatehouse gateway restart", "again, with the flags it was started with"]],
  "gateway status": [
    ["gatehouse gateway status", "pid, uptime, URL, clients"],
    ["gatehouse gateway status >/dev/null || gatehouse gateway start", "start it unless it runs"],
  ],
  "gateway logs": [
    ["gatehouse gateway logs", "the last 50 lines of the background gateway's log"],
    ["gatehouse gateway logs --follow --lines 0", "only new lines, as they are written"],
  ],
  "gateway install": [
    ["gatehouse gateway install", "write the systemd user unit"],
    ["gatehouse gateway install --print", "show it without writing it"],
  ],
  call: [
    ["gatehouse call --list", "the methods there are, with the scope each needs"],
    ["gatehouse call status --json", "any method; the result as JSON"],
    ["gatehouse call device.pair.list", "pending requests and paired devices, raw"],
    [`gatehouse call sessions.get --params '{"id":"sess_0123456789abcdef"}'`, "params as JSON"],
  ],
  health: [
    ["gatehouse health", "the local gateway"],
    ["gatehouse health --url wss://gw.example:18789 --json", "another gateway; JSON for scripts"],
  ],
  devices: [
    ["gatehouse devices list", "who is paired, who waits"],
    ["gatehouse devices approve <requestId>", "approve exactly that request"],
  ],
  "devices list": [
    ["gatehouse devices list", "pending requests (requested versus approved) and paired devices"],
    ["gatehouse devices list --json", "the same as JSON"],
  ],
  "devices pending": [
    [
      "gatehouse devices pending",
      "who waits for approval, from which address and browser page, asking for what",
    ],
    ["gatehouse devices pending --json", "the same as JSON ({ pending: [...] })"],
  ],
  "devices approve": [
    ["gatehouse devices approve 6f1c2d3e-…", "the requestId that devices list or the refused client printed"],
  ],
  "devices reject": [["gatehouse devices reject 6f1c2d3e-…", "refuse one pending request"]],
  "devices remove": [["gatehouse devices remove 3fa4b5c6d7e8", "unpair it (an id prefix of 8+ characters)"]],
  "devices rename": [["gatehouse devices rename 3fa4b5c6d7e8 --name 'build box'", "set its label"]],
  "devices rotate": [
    ["gatehouse devices rotate 3fa4b5c6d7e8 --role operator", "new token, same scopes"],
    ["gatehouse devices rotate 3fa4b5c6d7e8 --role operator --scope operator.read", "narrow it to read"],
  ],
  "devices revoke": [
    ["gatehouse devices revoke 3fa4b5c6d7e8", "a device with one role: that role's token"],
    ["gatehouse devices revoke 3fa4b5c6d7e8 --role node", "a device with two roles: say which"],
  ],
  status: [
    ["gatehouse status", "one screen: state, clients, pending, refusals"],
    ["gatehouse status --refusals 20 --json", "more refusals, as JSON"],
  ],
  audit: [
    ["gatehouse audit", "the latest decisions"],
    ["gatehouse audit --follow --verbose", "follow them live, with each rule trace"],
    ["gatehouse audit --device 3fa4b5c6d7e8 --limit 50", "one device's history"],
  ],
  doctor: [
    ["gatehouse doctor", "check permissions, config, exposure, store, sandbox"],
    ["gatehouse doctor --fix", "apply the safe repairs and say what changed"],
  ],
  import: [["gatehouse import openclaw ~/.openclaw", "what would be imported"]],
  "import openclaw": [
    ["gatehouse import openclaw ~/.openclaw", "a dry run: what would be imported"],
    ["gatehouse import openclaw ~/.openclaw --apply", "import it; paired devices keep keys and tokens"],
  ],
  sessions: [
    ["gatehouse sessions spawn --attach -- ./agent.sh", "run a sub-agent and watch it"],
    ["gatehouse sessions list", "what runs and what ran"],
  ],
  "sessions spawn": [
    [
      "gatehouse sessions spawn --attach -- node agent.js",
      "run it, print its output as it comes, exit with its status",
    ],
    [
      "gatehouse sessions spawn --scope operator.write --time-limit 10m -- ./job.sh",
      "more scope, at most 10 minutes",
    ],
    ["gatehouse sessions spawn --scope none -- make test", "a child that never calls back"],
  ],
  "sessions list": [
    ["gatehouse sessions list --status running", "only running sessions"],
    ["gatehouse sessions list --json", "as JSON"],
  ],
  "sessions logs": [
    ["gatehouse sessions logs sess_0123456789abcdef", "its output so far"],
    ["gatehouse sessions logs sess_0123456789abcdef --follow", "and then as it comes, until it ends"],
  ],
  "sessions kill": [["gatehouse sessions kill sess_0123456789abcdef", "SIGTERM, then SIGKILL"]],
  cron: [
    ['gatehouse cron add --schedule "*/5 * * * *" -- ./check.sh', "every five minutes"],
    ["gatehouse cron list", "jobs and their next run"],
  ],
  "cron add": [
    ['gatehouse cron add --schedule "0 3 * * *" --name nightly -- ./backup.sh', "03:00 every day"],
    [
      'gatehouse cron add --schedule "*/10 * * * *" --scope operator.write --missed run-once -- ./sync.sh',
      "more scope; catch up once after downtime",
    ],
  ],
  "cron list": [["gatehouse cron list --json", "jobs as JSON"]],
  "cron remove": [["gatehouse cron remove cron_0123456789abcdef", "delete it"]],
  "cron run": [["gatehouse cron run cron_0123456789abcdef", "run it now; prints the session"]],
  "cron enable": [
    [
      "gatehouse cron enable cron_0123456789abcdef",
      "schedule it again (also after its creator lost authority)",
    ],
  ],
  "cron disable": [["gatehouse cron disable cron_0123456789abcdef", "stop scheduling it; it is kept"]],
  node: [["gatehouse node run", "serve system.run and system.which to the gateway"]],
  "node run": [
    ["gatehouse node run", "on the gateway host: no pairing"],
    ["gatehouse node run --pair 'gatehouse://pair?…'", "elsewhere: pair once with a node setup code"],
  ],
  nodes: [
    ["gatehouse nodes list", "connected node hosts"],
    ["gatehouse nodes invoke 3fa4b5c6d7e8 system.run -- uname -a", "run a command on one"],
  ],
  "nodes list": [["gatehouse nodes list --json", "connected node hosts as JSON"]],
  "nodes invoke": [
    ["gatehouse nodes invoke 3fa4b5c6d7e8 system.run -- uname -a", "print its output, exit with its status"],
    [`gatehouse nodes invoke 3fa4b5c6d7e8 system.which --params '{"bin":"git"}'`, "params as JSON"],
  ],
  pair: [["gatehouse pair code --profile node", "a code for a node host on another machine"]],
  "pair code": [
    ["gatehouse pair code", "operator-limited, valid 10 minutes, with its QR code"],
    ["gatehouse pair code --profile node --ttl 1h --no-qr", "for a node host, valid an hour"],
  ],
  "config unset": [["gatehouse config unset gateway.controlUi.allowedOrigins", "back to the default"]],
  connect: [
    [
      "gatehouse connect --pair 'gatehouse://pair?…'",
      "on the other machine: pair this CLI with a setup code",
    ],
    ["gatehouse connect --url wss://gw.example:18789 --wait", "ask to pair and wait for the approval"],
  ],
};

/** The path under `gatehouse` (`devices approve`). */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function examplesText(examples: ReadonlyArray<readonly [string, string]>): string {
  const lines = examples.flatMap(([command, what]) => [`  $ ${command}`, `      ${what}`]);
  return `\nExamples:\n${lines.join("\n")}`;
}

/** The text of `gatehouse help connection`. */
export function connectionHelp(): string {
  const options = connectionOptions();
  const width = Math.max(...options.map((o) => o.flags.length));
  return [
    "Connection options",
    "",
    "Every command that talks to a gateway takes these (gatehouse devices list --url …, and so on).",
    "Flags win over the environment, which wins over the config file in the state dir.",
    "",
    ...options.map(
      (o) =>
        `  ${o.flags.padEnd(width)}  ${o.description}${o.defaultValue !== undefined ? ` (default: ${String(o.defaultValue)})` : ""}`,
    ),
    "",
    "On the gateway host none is needed: the CLI signs with the owner key in the state dir.",
    "Elsewhere, pair once (gatehouse connect --pair '<link>'); the URL and pin are remembered.",
    "",
    "Examples:",
    "  $ gatehouse devices list --url wss://gw.example:18789 --tls-fingerprint ab:cd:… --trust-fingerprint",
    "  $ GATEHOUSE_GATEWAY_URL=ws://10.0.0.5:18789 gatehouse status --allow-insecure",
    "",
  ].join("\n");
}

/**
 * Adds the Examples section to every command, a pointer to the connection options on the
 * top-level help, and `gatehouse help connection` (a hidden command, so `help <topic>` finds it).
 */
export function addHelpSections(program: Command): void {
  const visit = (cmd: Command) => {
    const examples = EXAMPLES[commandPath(cmd)];
    if (examples) cmd.addHelpText("after", examplesText(examples));
    cmd.commands.forEach(visit);
  };
  program.commands.forEach(visit);
  program.addHelpText("after", CONNECTION_NOTE);
  program
    .command("connection", { hidden: true })
    .description("the connection options every gateway-talking command takes")
    .configureHelp({ formatHelp: () => connectionHelp() })
    .action(() => {
      process.stdout.write(connectionHelp());
    });
}
