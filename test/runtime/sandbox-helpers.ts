/**
 * The worst-case layout for sandbox tests: every secret loosely permissioned (readable by anyone)
 * and inside the directory a sub-agent works in — the state dir (owner key, SQLite store), the
 * config file with the shared secret (a symlink to a dotfiles directory), the TLS key configured
 * outside the state dir, and a copy of the owner key in the gateway user's default `~/.gatehouse`.
 * The gateway is the real CLI (`gatehouse gateway run --state-dir …`, with `GATEHOUSE_STATE_DIR`
 * and `GATEHOUSE_GATEWAY_TOKEN` in its environment too), so its command line and environment hold
 * the way to the owner key and the shared secret itself, there to be found.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayClient } from "../../src/client/index.js";
import { certificateFingerprint, loadOrCreateTls } from "../../src/gateway/tls.js";
import { loadIdentity } from "../../src/identity/file-store.js";
import type { SessionView } from "../../src/methods/sessions.js";
import { CLI_MAIN, spawnGateway, type GatewayProcess } from "../helpers/gateway-process.js";
import { sleep } from "./helpers.js";

/** The hostile child (fixtures/escape.ts). */
export const ESCAPE = fileURLToPath(new URL("./fixtures/escape.js", import.meta.url));
/** The shared secret in the layout's config file. */
export const SHARED_SECRET = "sandbox-escape-shared-secret-0123456789abcdef";

/** What the fixture reports (see fixtures/escape.ts). */
export interface EscapeReport {
  uid: number;
  ppid: number;
  pids: string[];
  reads: Record<string, string>;
  listings: Record<string, string>;
  procText: string[];
  procHits: string[];
  stateDirs: string[];
  gatehouseEnv: string[];
  escalations: string[];
  callback: { method: string; scopes: string[] };
  adminCall: string;
}

/** Makes a whole tree readable by anyone: the careless layout the sandbox must still protect. */
function loosen(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of readdirSync(path)) loosen(join(path, e));
}

export interface Layout {
  base: string;
  work: string;
  home: string;
  stateDir: string;
  configTarget: string;
  keyPath: string;
  fingerprint: string;
}

/** Builds the worst-case layout (everything under `work`, readable by anyone) and its config. */
export async function worstCaseLayout(sandbox: Record<string, unknown> = {}): Promise<Layout> {
  const base = mkdtempSync(join(tmpdir(), "gatehouse-sbx-"));
  chmodSync(base, 0o755);
  const work = join(base, "work");
  const home = join(work, "home");
  const stateDir = join(work, "state-dir");
  mkdirSync(join(work, "dotfiles"), { recursive: true, mode: 0o755 });
  mkdirSync(stateDir, { mode: 0o755 });
  mkdirSync(home, { mode: 0o755 });
  const tls = await loadOrCreateTls({
    stateDir: join(work, "tls-gen"),
    autoGenerate: true,
    hosts: ["127.0.0.1"],
  });
  const configTarget = join(work, "dotfiles", "gatehouse.json");
  writeFileSync(
    configTarget,
    JSON.stringify({
      gateway: {
        auth: { mode: "token", token: SHARED_SECRET },
        tls: { enabled: true, certPath: tls.certPath, keyPath: tls.keyPath },
        sandbox,
      },
    }),
  );
  symlinkSync(configTarget, join(stateDir, "gatehouse.json"));
  loosen(work);
  return {
    base,
    work,
    home,
    stateDir,
    configTarget,
    keyPath: tls.keyPath,
    fingerprint: certificateFingerprint(tls.cert),
  };
}

/** Starts the real CLI gateway on the layout (HOME inside `work` too), then loosens what it created. */
export async function startLayoutGateway(
  layout: Layout,
  env: NodeJS.ProcessEnv = {},
): Promise<GatewayProcess> {
  const gw = await spawnGateway(["--port", "0", "--state-dir", layout.stateDir], {
    HOME: layout.home,
    GATEHOUSE_STATE_DIR: layout.stateDir,
    GATEHOUSE_GATEWAY_TOKEN: SHARED_SECRET,
    ...env,
  });
  // The owner key in the default state dir of the gateway's user, too (a second, forgotten copy).
  mkdirSync(join(layout.home, ".gatehouse", "identity"), { recursive: true });
  copyFileSync(
    join(layout.stateDir, "identity", "device.json"),
    join(layout.home, ".gatehouse", "identity", "device.json"),
  );
  loosen(layout.work);
  return gw;
}

/** The paths an attacker would guess, given perfect knowledge of the layout. */
export function guesses(layout: Layout): string[] {
  return [
    layout.stateDir,
    join(layout.stateDir, "gatehouse.json"),
    layout.configTarget,
    join(layout.stateDir, "identity", "device.json"),
    join(layout.stateDir, "state", "gatehouse.sqlite"),
    layout.keyPath,
    join(layout.home, ".gatehouse"),
    join(layout.home, ".gatehouse", "identity", "device.json"),
  ];
}

/**
 * The hostile child's arguments: the guessed paths, and the needles it reports finding in any
 * visible process — the shared secret, and the gateway's own program (its process being visible).
 */
export function escapeArgs(layout: Layout): string[] {
  const needles = [SHARED_SECRET, CLI_MAIN].map((n) => Buffer.from(n).toString("base64"));
  return [ESCAPE, JSON.stringify(guesses(layout)), JSON.stringify(needles)];
}

/** Connects as the owner (the test holds the state dir). */
export async function ownerClient(layout: Layout, url: string): Promise<GatewayClient> {
  const client = new GatewayClient({
    url,
    identity: loadIdentity(join(layout.stateDir, "identity", "device.json")),
    scopes: ["operator.admin"],
    tlsFingerprint: layout.fingerprint,
  });
  await client.connect();
  return client;
}

/** Polls `sessions.get` until the session has ended. */
export async function ended(client: GatewayClient, id: string): Promise<SessionView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await client.request<SessionView>("sessions.get", { id });
    if (s.status !== "running") return s;
    if (Date.now() > deadline) throw new Error(`session ${id} still running`);
    await sleep(50);
  }
}
