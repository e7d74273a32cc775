/**
 * `gatehouse config get|set|unset`: reads and edits gatehouse.json one key at a time. A value is
 * checked like the gateway checks its file at start, and a refused value leaves the file as it was
 * (the file is replaced atomically, never half written). Secrets are never printed.
 */
import type { Command } from "commander";
import {
  loadConfig,
  resolveStateDir,
  statePaths,
  type ConfigKey,
  type ResolvedConfig,
} from "../../config/index.js";
import { CONFIG_KEYS, checkConfigKey, editConfigFile, getAt, parseConfigValue } from "../../config/edit.js";
import { inspectGateway } from "../lifecycle/state.js";
import { CliError, createReporter, EXIT, type Reporter } from "../output.js";
import type { RunCommand } from "./gateway-lifecycle.js";

export interface ConfigOptions {
  stateDir?: string;
  json?: boolean;
}

/** One key as `config get` reports it (a secret's value is never included). */
export interface ConfigEntry {
  key: ConfigKey;
  /** The value in effect; null when unset (a secret: "<redacted>" when set). */
  value: unknown;
  /** Where the value in effect comes from. */
  source: "env" | "file" | "default";
  secret: boolean;
}

const ENV_FOR: Partial<Record<ConfigKey, string>> = {
  "gateway.port": "GATEHOUSE_PORT",
  "gateway.auth.token": "GATEHOUSE_GATEWAY_TOKEN",
  "gateway.auth.password": "GATEHOUSE_GATEWAY_PASSWORD",
  "gateway.handshakeTimeoutMs": "GATEHOUSE_HANDSHAKE_TIMEOUT_MS",
};

function entry(config: ResolvedConfig, key: ConfigKey): ConfigEntry {
  const secret = CONFIG_KEYS[key].kind === "secret";
  const raw = getAt({ gateway: config.gateway }, key);
  const source = config.sources[key] === "flag" ? "file" : config.sources[key];
  return {
    key,
    value: raw === undefined ? null : secret ? "<redacted>" : raw,
    source,
    secret,
  };
}

function shownValue(v: unknown): string {
  if (v === null) return "(not set)";
  if (Array.isArray(v)) return v.length === 0 ? "[]" : v.join(",");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** `config get [key]`: one key's value in effect and where it comes from, or every key. */
export async function configGet(
  key: string | undefined,
  opts: ConfigOptions,
  out: Reporter,
): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const config = loadConfig({ stateDir });
  if (key !== undefined) {
    const e = entry(config, checkConfigKey(key));
    out.result(e, () =>
      e.source === "file" || e.value === null ? shownValue(e.value) : `${shownValue(e.value)} (${e.source})`,
    );
    return EXIT.ok;
  }
  const all = (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((k) => entry(config, k));
  const width = Math.max(...all.map((e) => e.key.length));
  out.result({ configPath: config.configPath, keys: all }, () =>
    [
      `# ${config.configPath}${config.fileExists ? "" : " (no file yet: defaults)"}`,
      ...all.map(
        (e) =>
          `${e.key.padEnd(width)}  ${shownValue(e.value)}${e.source === "file" ? "" : `  (${e.source})`}`,
      ),
    ].join("\n"),
  );
  return EXIT.ok;
}

/** Notes after an edit: an environment variable that overrides the file, a gateway to restart. */
function afterEdit(stateDir: string, key: ConfigKey): string[] {
  const notes: string[] = [];
  const env = ENV_FOR[key];
  if (env && process.env[env]) notes.push(`note: ${env} is set in this environment and overrides the file`);
  const state = inspectGateway(stateDir);
  if (state.running && CONFIG_KEYS[key].kind !== "secret") {
    notes.push(
      `note: the running gateway (pid ${state.pid}) applies it after a restart: gatehouse gateway restart`,
    );
  }
  return notes;
}

/** `config set <key> <value> [<key> <value>...]`: every pair in one validated write. */
export async function configSet(
  key: string,
  value: string,
  more: readonly string[],
  opts: ConfigOptions,
  out: Reporter,
): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  if (more.length % 2 !== 0) {
    throw new CliError(
      "INVALID_ARGUMENT",
      `${more.at(-1)}: a key without a value (give key value pairs)`,
      EXIT.usage,
      "gatehouse config set gateway.bind custom gateway.customBindHost 192.168.1.5",
    );
  }
  const pairs: Array<[string, string]> = [[key, value]];
  for (let i = 0; i < more.length; i += 2) pairs.push([more[i]!, more[i + 1]!]);
  const edits = pairs.map(([k, v]) => {
    const checked = checkConfigKey(k);
    return [checked, parseConfigValue(checked, v)] as const;
  });
  const path = statePaths(stateDir).configPath;
  const { changed } = editConfigFile(path, edits);
  const notes = [...new Set(edits.flatMap(([k]) => afterEdit(stateDir, k)))];
  const shown = edits.map(([k, v]) => ({
    key: k,
    secret: CONFIG_KEYS[k].kind === "secret",
    value: v,
  }));
  out.result(
    {
      set: shown.map((e) => (e.secret ? { key: e.key } : { key: e.key, value: e.value })),
      changed,
      configPath: path,
      notes,
    },
    () =>
      [
        ...shown.map(
          (e) =>
            `${changed ? "set" : "unchanged:"} ${e.key}${e.secret ? " (secret, not shown)" : ` = ${shownValue(e.value)}`}`,
        ),
        `  in ${path}`,
        ...notes,
      ].join("\n"),
  );
  return EXIT.ok;
}

/** `config unset <key>`: back to the default. */
export async function configUnset(key: string, opts: ConfigOptions, out: Reporter): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const k = checkConfigKey(key);
  const path = statePaths(stateDir).configPath;
  const { changed } = editConfigFile(path, [[k, undefined]]);
  const notes = changed ? afterEdit(stateDir, k) : [];
  out.result({ key: k, changed, configPath: path, notes }, () =>
    [changed ? `removed ${k} from ${path}` : `${k} was not set in ${path}`, ...notes].join("\n"),
  );
  return EXIT.ok;
}

const KEY_LIST = (Object.keys(CONFIG_KEYS) as ConfigKey[])
  .map((k) => `  ${k.padEnd(36)} ${CONFIG_KEYS[k].about}`)
  .join("\n");

/** Adds `gatehouse config get|set|unset`. */
export function registerConfigCommands(program: Command, run: RunCommand): void {
  const config = program
    .command("config")
    .description("read and edit gatehouse.json one key at a time (validated; never half written)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  gatehouse config get                                   # every key, its value and where it comes from\n" +
        "  gatehouse config get gateway.port\n" +
        "  gatehouse config set gateway.bind lan\n" +
        "  gatehouse config set gateway.tls.enabled true\n" +
        "  gatehouse config set gateway.controlUi.allowedOrigins https://ui.example,https://other.example\n" +
        "  gatehouse config set gateway.tls.certPath /etc/gh/cert.pem gateway.tls.keyPath /etc/gh/key.pem\n" +
        "  gatehouse config unset gateway.controlUi.allowedOrigins\n" +
        `\nKeys:\n${KEY_LIST}\n` +
        "\nA refused value (wrong type, unknown key, a combination the gateway would refuse) names the key\n" +
        "and why, exits 2 and leaves the file unchanged. Secrets are never printed.",
    );
  const common = (cmd: Command) =>
    cmd
      .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
      .option("--json", "print machine-readable JSON");
  common(
    config
      .command("get")
      .description("print a key's value in effect and where it comes from (file, env, default); no key: all")
      .argument("[key]", "e.g. gateway.port"),
  )
    .addHelpText("after", "\nExamples:\n  gatehouse config get gateway.bind\n  gatehouse config get --json")
    .action((key: string | undefined, opts: ConfigOptions) =>
      run(() => configGet(key, opts, createReporter(!!opts.json)), !!opts.json),
    );
  common(
    config
      .command("set")
      .description(
        "set a key in gatehouse.json after checking the value (and the whole file) like the gateway does",
      )
      .argument("<key>", "e.g. gateway.port")
      .argument("<value>", "integers and true/false as written; lists comma-separated or as a JSON array")
      .argument("[more...]", "more key value pairs, written together (keys that need each other)"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  gatehouse config set gateway.port 18800\n" +
        "  gatehouse config set gateway.pairing.autoApproveLocal false\n" +
        "  gatehouse config set gateway.trustedProxies 10.0.0.0/8,192.168.1.1\n" +
        "  gatehouse config set gateway.bind custom gateway.customBindHost 192.168.1.5   # together",
    )
    .action((key: string, value: string, more: string[], opts: ConfigOptions) =>
      run(() => configSet(key, value, more, opts, createReporter(!!opts.json)), !!opts.json),
    );
  common(
    config
      .command("unset")
      .description("remove a key from gatehouse.json (its default applies again)")
      .argument("<key>", "e.g. gateway.controlUi.allowedOrigins"),
  )
    .addHelpText("after", "\nExample:\n  gatehouse config unset gateway.bind")
    .action((key: string, opts: ConfigOptions) =>
      run(() => configUnset(key, opts, createReporter(!!opts.json)), !!opts.json),
    );
}
