/**
 * Where `gatehouse devices` acts: over the gateway's RPCs (the normal case), or, when the CLI
 * targets the local gateway and that gateway is not running, directly on its store under the
 * gateway lock (the owner's break-glass, S46: it needs OS access to the state dir).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  holdsGatewayStore,
  loadConfig,
  resolveStateDir,
  statePaths,
  type ClientTarget,
} from "../../config/index.js";
import { DeviceManager, STATE_DIR_OWNER } from "../../devices/manager.js";
import type {
  NodePairApproveResult,
  NodePairList,
  NodePairRejectResult,
  NodePairRemoveResult,
  NodeRenameResult,
} from "../../protocol/node-pairing.js";
import { isLoopbackUrl } from "../../client/url-safety.js";
import {
  approvalSourceMatters,
  decideAsk,
  listingNeeds,
  managementNeeds,
  methodsAsk,
  seesOtherDevices,
  statedAsk,
  type AskDecision,
} from "../../policy/client-asks.js";
import type { CallerAuthority } from "../../policy/device-management.js";
import { explainTrace } from "../../policy/rules.js";
import { acquireGatewayLock, openStore, readGatewayLock } from "../../store/index.js";
import {
  connectCli,
  loadCliDevice,
  resolveTarget,
  type CliConnection,
  type CliDevice,
  type CommonOptions,
} from "../connect.js";
import type { StatusPayload } from "../lifecycle/live.js";
import { CliError, EXIT, listOrNone } from "../output.js";
import { shortId } from "./format.js";
import { callerProof, type ManagementAsk } from "./management-facts.js";
import type {
  ApproveResult,
  PairList,
  RejectResult,
  RemoveResult,
  RenameResult,
  RevokeResult,
  RotateResult,
  DeviceRole,
} from "./types.js";

/** The device-management operations, wherever they run. */
export interface DevicesBackend {
  readonly mode: "online" | "offline";
  /** The gateway URL, or the store file when offline. */
  readonly where: string;
  /** This CLI's own device, when acting as a device over the network; null offline. */
  readonly self: CliDevice | null;
  list(): Promise<PairList>;
  /** The session's lists show other devices than its own (the gateway's rule, asked of the policy). */
  seesOthers(): boolean;
  /**
   * Makes the following calls run with the scopes the policy says `ask` needs (least privilege:
   * the session is reopened asking for exactly these), as the policy's ask decision allows: when it
   * would not ask for some of them (beyond this device's approval, where asking would open an
   * upgrade request for this very device, S46), the command is refused with what is missing, the
   * command to run elsewhere, and who can.
   */
  require(ask: ManagementAsk, list: PairList, action: string, command: string): Promise<void>;
  /**
   * Like `require`, but asks only for what this device's approval covers (never an upgrade, not
   * even a silent one) and never refuses: the gateway decides the action.
   */
  askWithin(ask: ManagementAsk, list: PairList): Promise<void>;
  approve(requestId: string): Promise<ApproveResult>;
  reject(requestId: string): Promise<RejectResult>;
  remove(deviceId: string): Promise<RemoveResult>;
  rename(deviceId: string, label: string): Promise<RenameResult>;
  rotate(deviceId: string, role: DeviceRole, scopes: string[] | undefined): Promise<RotateResult>;
  revoke(deviceId: string, role: DeviceRole): Promise<RevokeResult>;
  /** `node.pair.*`: node command surfaces. */
  nodeList(): Promise<NodePairList>;
  nodeApprove(requestId: string): Promise<NodePairApproveResult>;
  nodeReject(requestId: string): Promise<NodePairRejectResult>;
  nodeRemove(nodeId: string): Promise<NodePairRemoveResult>;
  nodeRename(nodeId: string, displayName: string): Promise<NodeRenameResult>;
  close(): Promise<void>;
}

/** Online over the gateway, or offline on the store when the local gateway is not running. */
export async function openDevicesBackend(
  opts: CommonOptions,
  asked: DevicesCommand = { action: "managing devices" },
): Promise<DevicesBackend> {
  const target = resolveTarget(opts);
  if (target.urlSource === "config") {
    const stateDir = resolveStateDir({ flag: opts.stateDir });
    const lock = readGatewayLock(stateDir);
    // Break-glass only where a gateway's store is: elsewhere "no gateway here" is not "stopped".
    if ((lock === null || !lock.alive) && holdsGatewayStore(stateDir)) return openOffline(opts);
  }
  return OnlineBackend.open(opts, target, asked);
}

/** The sorted union of scope sets. */
export function scopeUnion(...sets: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(sets.flat())].sort();
}

/**
 * Refusal when this device may not do what was asked: names the missing scope, the command to run
 * where it is held, and (with --json) why, each rule with its sentence.
 */
export function missingScopeError(
  deviceId: string,
  baseline: readonly string[],
  missing: readonly string[],
  action: string,
  lines: string[] = [],
  rules: readonly string[] = [],
  command?: string,
): CliError {
  const where = command
    ? `run \`${command}\` on the gateway host (the owner's CLI there needs no pairing) or on a device that holds `
    : "do it on the gateway host (the owner's CLI there needs no pairing) or from a device that holds ";
  return new CliError(
    "MISSING_SCOPE",
    `${action} needs ${missing.join(", ")}, which this device (${shortId(deviceId)}) is not approved for ` +
      `(it holds ${listOrNone(baseline)})`,
    EXIT.failed,
    `${where}${missing.join(", ")}; a device cannot approve its own upgrade`,
    {
      lines,
      fields: {
        deviceId,
        missingScopes: [...missing],
        approvedScopes: [...baseline],
        ...(command ? { command } : {}),
        ...(rules.length > 0 ? { why: explainTrace(rules) } : {}),
      },
    },
  );
}

/** The facts of the ask decision for a device connecting to `url` with the given target's secrets. */
function askFacts(
  target: ClientTarget,
  url: string,
  needed: readonly string[],
  approved: readonly string[] | null,
  approvedVia: string | null,
): Parameters<typeof decideAsk>[0] {
  return {
    needed,
    approved,
    approvedVia,
    loopback: isLoopbackUrl(url),
    sharedSecret: Boolean(target.token || target.password),
  };
}

/** Throws MISSING_SCOPE when the ask decision leaves a needed scope unasked. */
function refuseUnasked(
  decision: AskDecision,
  deviceId: string,
  approved: readonly string[],
  action: string,
  lines: string[] = [],
  why: readonly string[] = decision.trace,
  command?: string,
): void {
  if (decision.unasked.length === 0) return;
  throw missingScopeError(deviceId, approved, decision.unasked, action, lines, why, command);
}

/** What a devices command is doing, for what a refusal says: `listing devices`, `gatehouse devices list`. */
export interface DevicesCommand {
  action: string;
  /** The command line that does it, run where the scope is held (the gateway host's owner CLI). */
  command?: string;
}

/** The command that asks for listing's scope for this device (an upgrade request, waited for). */
const ASK_LISTING = "gatehouse call device.pair.list --wait";

/**
 * How this device was approved, as its own record says (`status` reports it), read in a session
 * within its approval; null when that cannot be read without asking beyond it, or is not reported.
 */
async function ownApproval(
  opts: CommonOptions,
  target: ClientTarget,
  device: CliDevice,
  facts: Parameters<typeof decideAsk>[0],
): Promise<string | null> {
  const status = methodsAsk(["status"]);
  const read = decideAsk({ ...facts, needed: status.scopes });
  if (read.unasked.length > 0) return null;
  const conn = await connectCli({ ...opts, wait: undefined }, read.scopes, { target, device });
  try {
    const payload = await conn.client.request<StatusPayload>("status");
    return payload.self.approvedVia ?? null;
  } finally {
    await conn.client.close();
  }
}

class OnlineBackend implements DevicesBackend {
  readonly mode = "online" as const;
  #conn: CliConnection;

  private constructor(
    private readonly opts: CommonOptions,
    private readonly target: ClientTarget,
    conn: CliConnection,
  ) {
    this.#conn = conn;
  }

  static async open(
    opts: CommonOptions,
    target: ClientTarget,
    asked: DevicesCommand,
  ): Promise<OnlineBackend> {
    const device = loadCliDevice(opts.stateDir);
    // The stored token tells what this device was approved for (kept current by connectCli):
    // asking beyond it would only open an upgrade request for this very device (S46).
    const stored = device.tokenStore.get(device.identity.deviceId, "operator");
    const listing = methodsAsk(["device.pair.list"]);
    const facts = askFacts(target, target.url, listing.scopes, stored?.scopes ?? null, null);
    // A silently approved device is widened silently again: when that could decide the ask, learn
    // how this device was approved (its own record, read within its approval) before choosing.
    const approvedVia = approvalSourceMatters(facts) ? await ownApproval(opts, target, device, facts) : null;
    const decision = decideAsk({ ...facts, approvedVia });
    const why = [...listing.trace, ...decision.trace];
    const hint = [
      `  to have this device approved for ${decision.unasked.join(", ")}, ask once with: ${ASK_LISTING}` +
        " (it opens one request, which the owner approves on the gateway host, then goes on)",
    ];
    refuseUnasked(
      decision,
      device.identity.deviceId,
      stored?.scopes ?? [],
      asked.action,
      hint,
      why,
      asked.command,
    );
    // Seeing the other devices may take more of this session (a device token needs operator.admin
    // for it): asked for when this device's approval covers it, never as an upgrade.
    const sentSecret = Boolean(target.token || target.password);
    const all = listingNeeds({
      deviceId: device.identity.deviceId,
      proof: callerProof(undefined, sentSecret),
      onHost: isLoopbackUrl(target.url),
    });
    const wider = stored && decideAsk(askFacts(target, target.url, all.scopes, stored.scopes, null));
    const scopes = wider && wider.trace.includes("ask-within-approval") ? wider.scopes : decision.scopes;
    const conn = await connectCli(opts, scopes, { target, device });
    return new OnlineBackend(opts, target, conn);
  }

  get where(): string {
    return this.#conn.url;
  }

  get self(): CliDevice {
    return this.#conn.device;
  }

  list(): Promise<PairList> {
    return this.#conn.client.request<PairList>("device.pair.list", {});
  }

  async require(ask: ManagementAsk, list: PairList, action: string, command: string): Promise<void> {
    const selfId = this.self.identity.deviceId;
    const own = list.paired.find((d) => d.deviceId === selfId);
    const baseline = own ? own.scopes : this.#conn.scopes;
    const needs = this.#needs(ask);
    const decision = decideAsk({
      ...askFacts(this.target, this.#conn.url, needs.scopes, baseline, own?.approvedVia ?? null),
      held: this.#conn.scopes,
    });
    refuseUnasked(decision, selfId, baseline, action, [], [...needs.trace, ...decision.trace], command);
    await this.#reopen(decision);
  }

  async askWithin(ask: ManagementAsk, list: PairList): Promise<void> {
    const own = list.paired.find((d) => d.deviceId === this.self.identity.deviceId);
    const baseline = own ? own.scopes : this.#conn.scopes;
    await this.#reopen(
      decideAsk({
        // Not even a silent upgrade: the gateway's own answer to the action is what is wanted.
        ...askFacts(this.target, this.#conn.url, this.#needs(ask).scopes, baseline, null),
        held: this.#conn.scopes,
      }),
    );
  }

  seesOthers(): boolean {
    return seesOtherDevices({ ...this.#caller(), scopes: this.#conn.scopes });
  }

  /** What the gateway's management rules need of this session for `ask` (the policy derives it). */
  #needs(ask: ManagementAsk): ReturnType<typeof managementNeeds> {
    if ("stated" in ask) return statedAsk(ask.stated);
    return managementNeeds(this.#caller(), ask.target, ask.action);
  }

  /** This session as the gateway's management rules see its caller. */
  #caller(): Omit<CallerAuthority, "scopes"> {
    return {
      deviceId: this.self.identity.deviceId,
      proof: callerProof(
        this.#conn.client.hello?.auth.method,
        Boolean(this.target.token || this.target.password),
      ),
      // The CLI dials the URL itself: no proxy, no browser Origin; loopback URL means direct-local.
      onHost: isLoopbackUrl(this.#conn.url),
    };
  }

  async #reopen(decision: AskDecision): Promise<void> {
    if (!decision.reopen) return;
    await this.#conn.client.close();
    // Within the baseline nothing can pend, and a silent upgrade does not either: nothing to wait for.
    this.#conn = await connectCli({ ...this.opts, wait: undefined }, decision.scopes, {
      target: this.target,
      device: this.#conn.device,
    });
  }

  approve(requestId: string): Promise<ApproveResult> {
    return this.#conn.client.request<ApproveResult>("device.pair.approve", { requestId });
  }

  reject(requestId: string): Promise<RejectResult> {
    return this.#conn.client.request<RejectResult>("device.pair.reject", { requestId });
  }

  remove(deviceId: string): Promise<RemoveResult> {
    return this.#conn.client.request<RemoveResult>("device.pair.remove", { deviceId });
  }

  rename(deviceId: string, label: string): Promise<RenameResult> {
    return this.#conn.client.request<RenameResult>("device.pair.rename", { deviceId, label });
  }

  rotate(deviceId: string, role: DeviceRole, scopes: string[] | undefined): Promise<RotateResult> {
    return this.#conn.client.request<RotateResult>("device.token.rotate", {
      deviceId,
      role,
      ...(scopes !== undefined ? { scopes } : {}),
    });
  }

  revoke(deviceId: string, role: DeviceRole): Promise<RevokeResult> {
    return this.#conn.client.request<RevokeResult>("device.token.revoke", { deviceId, role });
  }

  nodeList(): Promise<NodePairList> {
    return this.#conn.client.request<NodePairList>("node.pair.list", {});
  }

  nodeApprove(requestId: string): Promise<NodePairApproveResult> {
    return this.#conn.client.request<NodePairApproveResult>("node.pair.approve", { requestId });
  }

  nodeReject(requestId: string): Promise<NodePairRejectResult> {
    return this.#conn.client.request<NodePairRejectResult>("node.pair.reject", { requestId });
  }

  nodeRemove(nodeId: string): Promise<NodePairRemoveResult> {
    return this.#conn.client.request<NodePairRemoveResult>("node.pair.remove", { nodeId });
  }

  nodeRename(nodeId: string, displayName: string): Promise<NodeRenameResult> {
    return this.#conn.client.request<NodeRenameResult>("node.rename", { nodeId, displayName });
  }

  close(): Promise<void> {
    return this.#conn.client.close();
  }
}

/** Works on `<state>/state/gatehouse.sqlite` as the owner, holding the gateway lock throughout. */
function openOffline(opts: CommonOptions): DevicesBackend {
  const config = loadConfig({ stateDir: opts.stateDir });
  const dbPath = join(statePaths(config.stateDir).stateDbDir, "gatehouse.sqlite");
  if (!existsSync(dbPath)) {
    throw new CliError(
      "STORE_MISSING",
      `the gateway is not running and there is no pairing store at ${dbPath} yet`,
      EXIT.failed,
      "start the gateway once first: gatehouse gateway run",
      { fields: { path: dbPath } },
    );
  }
  const owner = loadCliDevice(opts.stateDir).identity;
  // The lock keeps a gateway from starting (and deciding from a stale view) mid-change.
  const lock = acquireGatewayLock(config.stateDir);
  let store;
  try {
    store = openStore(dbPath);
  } catch (err) {
    lock.release();
    throw err;
  }
  process.stderr.write(`gateway not running: working on the store directly (${dbPath})\n`);
  // No gateway runs: nobody to notify and no session to close (the default ports).
  const service = new DeviceManager(store, owner.deviceId);
  const caller = STATE_DIR_OWNER;
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };
  let closed = false;
  return {
    mode: "offline",
    where: dbPath,
    self: null,
    list: () => run(() => service.list(caller)),
    seesOthers: () => true,
    require: () => Promise.resolve(),
    askWithin: () => Promise.resolve(),
    approve: (requestId) => run(() => service.approve(caller, requestId)),
    reject: (requestId) => run(() => service.reject(caller, requestId)),
    remove: (deviceId) => run(() => service.remove(caller, deviceId)),
    rename: (deviceId, label) => run(() => service.rename(caller, deviceId, label)),
    rotate: (deviceId, role, scopes) => run(() => service.rotate(caller, deviceId, role, scopes)),
    revoke: (deviceId, role) => run(() => service.revoke(caller, deviceId, role)),
    nodeList: () => run(() => service.nodes.list(caller)),
    nodeApprove: (requestId) => run(() => service.nodes.approve(caller, requestId)),
    nodeReject: (requestId) => run(() => service.nodes.reject(caller, requestId)),
    nodeRemove: (nodeId) => run(() => service.nodes.remove(caller, nodeId)),
    nodeRename: (nodeId, name) => run(() => service.nodes.rename(caller, nodeId, name)),
    close() {
      if (!closed) {
        closed = true;
        try {
          store.close();
        } finally {
          lock.release();
        }
      }
      return Promise.resolve();
    },
  };
}
