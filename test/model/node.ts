/**
 * The node role in the model: the node host asks to pair for the node role declaring commands, is
 * approved (operator.admin) with that surface pinned, connects and exposes it, reconnects declaring
 * more (and exposes only what was approved), and has its role revoked or its device removed — by
 * callers of every authority. After each step the comparison (world.ts) checks its record, tokens,
 * request and what the gateway's node list shows it exposing.
 */
import fc from "fast-check";
import type { Frame } from "../helpers/raw-client.js";
import type { Cmd } from "./commands.js";
import {
  callerText,
  pickCaller,
  endNode,
  expectNodeConnect,
  mayApproveNode,
  mayApproveSurface,
  mayEndNode,
  newNode,
  NODE_COMMANDS,
  nodeDeclares,
  set,
  type Model,
  type Verdict,
} from "./reference.js";
import { compare, drop, fail, hold, nodeConnect, ownerConn, type Real } from "./world.js";
import { connect, helloAuth, MODEL_TOKEN } from "./wire.js";

type Declared = keyof typeof NODE_COMMANDS;

/** The node host connects with the shared secret (to pair, or to be issued a token) or its token. */
class NodeConnectCmd implements Cmd {
  constructor(
    readonly via: "shared" | "token",
    readonly declares: Declared,
    readonly keep: boolean,
  ) {}
  check(m: Model): boolean {
    return this.via === "shared" || m.node.tokenKnown;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.step = this.toString();
    const n = m.node;
    const declared = [...NODE_COMMANDS[this.declares]];
    const want = expectNodeConnect(n, declared);
    const auth = this.via === "shared" ? { token: MODEL_TOKEN } : { deviceToken: r.nodeToken! };
    const { res, conn } = await connect(r.gw.url, nodeConnect(r, auth, declared));
    r.coverage.count(`node-connect-${this.via}:${want.kind}`, res.ok === true);
    if (want.kind === "pend") {
      if (res.ok) fail(r, "the node was admitted; the model expects a pending request", res.payload);
      nodePended(m, r, res, declared, want.sameRequest);
    } else {
      if (!res.ok) fail(r, "the node, approved and not revoked, was refused", res.error);
      const issued = helloAuth(res).deviceToken;
      if (this.via === "shared") {
        if (!issued) fail(r, "no node token was issued", res.payload);
        r.retireNodeToken(m);
        r.nodeToken = issued;
        n.tokenKnown = true;
        n.slot = { revoked: false };
      }
      nodeDeclares(n, declared);
      if (this.keep) {
        // One held node session at a time, so that which one the node list shows is never a race.
        for (const c of m.conns.filter((x) => x.who === "node" && x.alive)) {
          const old = r.conn(c);
          drop(m, r, c);
          await old.closedWithin(5000);
        }
        const proof = this.via === "shared" ? "shared-secret" : "device-token";
        hold(m, r, conn, "node", proof, []).declared = declared;
      } else {
        conn.close();
        await conn.closedWithin(5000);
      }
    }
    await compare(m, r);
  }
  toString(): string {
    return `node-connect(${this.via}, ${this.declares}${this.keep ? ", keep" : ""})`;
  }
}

/** The node's connect opened (or kept) its pending request. */
function nodePended(m: Model, r: Real, res: Frame, commands: string[], same: string | null): void {
  const details = res.error?.details ?? {};
  if (details.code !== "PAIRING_REQUIRED")
    fail(r, "the node was refused, not with PAIRING_REQUIRED", res.error);
  const requestId = details.requestId;
  if (typeof requestId !== "string") fail(r, "a pending request without a requestId", res.error);
  if (same !== null && requestId !== same)
    fail(r, `the node's unchanged ask got a new requestId (was ${same})`);
  if (same === null && m.node.pending && requestId === m.node.pending.requestId)
    fail(r, "the node's changed ask kept its requestId: an approval could pin what the approver did not see");
  m.node.pending = { requestId, commands: set(commands), ageMs: 0 };
  m.node.lastRequestId = requestId;
}

/**
 * A session the test holds approves the node's request (its device pairing for the node role) or
 * its wider surface, revokes its role, or removes it.
 */
class NodeManageCmd implements Cmd {
  constructor(
    readonly kind: "approve" | "approve-surface" | "revoke" | "remove",
    readonly callerPick: number,
  ) {}
  check(m: Model): boolean {
    return this.kind !== "approve" || m.node.lastRequestId !== null;
  }
  async run(m: Model, r: Real): Promise<void> {
    const caller = pickCaller(m, this.callerPick);
    r.step = `${this.toString()} by ${callerText(caller)}`;
    const n = m.node;
    const deviceId = r.nodeIdentity.deviceId;
    let verdict: Verdict;
    let sent: Frame | null;
    const conn = r.conn(caller.conn);
    switch (this.kind) {
      case "approve":
        verdict = mayApproveNode(m, caller);
        sent = await conn.request("device.pair.approve", {
          requestId: n.pending?.requestId ?? n.lastRequestId,
        });
        break;
      case "approve-surface": {
        verdict = mayApproveSurface(m, caller);
        // Its id is the gateway's (the comparison checks the request is there exactly when modelled).
        const listed = await ownerConn(m, r).request("node.pair.list", {});
        const pending = (listed?.payload as { pending?: Array<{ nodeId: string; requestId: string }> })
          ?.pending;
        const requestId = pending?.find((p) => p.nodeId === deviceId)?.requestId ?? "no-such-request";
        sent = await conn.request("node.pair.approve", { requestId });
        break;
      }
      case "revoke":
        verdict = mayEndNode(m, caller);
        sent = await conn.request("device.token.revoke", { deviceId, role: "node" });
        break;
      case "remove":
        verdict = mayEndNode(m, caller);
        sent = await conn.request("device.pair.remove", { deviceId });
        break;
    }
    if (sent === null) fail(r, "the caller's session was closed under it");
    r.coverage.count(`node-${this.kind}`, sent.ok === true);
    if (sent.ok !== verdict.allow)
      fail(
        r,
        verdict.allow ? "refused; the model allows it" : `allowed; the model refuses it: ${verdict.why}`,
        sent.ok ? sent.payload : sent.error,
      );
    if (verdict.allow) {
      switch (this.kind) {
        case "approve":
          // The approval pins the commands the request declared as the node's surface.
          n.surface = n.pending!.commands;
          n.surfaceRequest = null;
          n.paired = true;
          n.pending = null;
          if (n.slot?.revoked) {
            n.slot = null;
            r.retireNodeToken(m);
          }
          break;
        case "approve-surface":
          // Its sessions expose the wider surface at once, without reconnecting.
          n.surface = n.surfaceRequest!;
          n.surfaceRequest = null;
          break;
        case "revoke":
          // The role's end is its surface's end: a new approval pins a new one.
          endNode(m);
          r.retireNodeToken(m);
          n.slot = { revoked: true };
          n.surface = null;
          n.surfaceRequest = null;
          break;
        case "remove":
          endNode(m);
          r.retireNodeToken(m);
          Object.assign(n, newNode(), { lastRequestId: n.lastRequestId });
          break;
      }
    }
    await compare(m, r);
  }
  toString(): string {
    return `node-${this.kind}(caller#${this.callerPick})`;
  }
}

/** The node pairs the way a user does it: it asks, the owner approves, it connects and stays. */
class OnboardNodeCmd implements Cmd {
  constructor(readonly declares: Declared) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    await new NodeConnectCmd("shared", this.declares, true).run(m, r);
    if (m.node.pending) {
      await new NodeManageCmd("approve", -1).run(m, r);
      await new NodeConnectCmd("shared", this.declares, true).run(m, r);
    }
  }
  toString(): string {
    return `node-onboard(${this.declares})`;
  }
}

/**
 * The node widens its surface: paired with its camera (onboarded first when it is not), it
 * reconnects declaring exec too, some session approves the wider surface (or may not), and the
 * node may then reconnect declaring its camera only, which leaves nothing to approve.
 */
class NodeWidenCmd implements Cmd {
  constructor(
    readonly callerPick: number,
    readonly thenNarrow: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    if (!m.node.paired || m.node.slot?.revoked) await new OnboardNodeCmd("camera").run(m, r);
    if (!m.node.paired) return;
    if (!(m.node.surface ?? []).includes("system.run"))
      await new NodeConnectCmd("shared", "exec", true).run(m, r);
    await new NodeManageCmd("approve-surface", this.callerPick).run(m, r);
    if (this.thenNarrow) await new NodeConnectCmd("shared", "camera", true).run(m, r);
  }
  toString(): string {
    return `node-widen(caller#${this.callerPick}${this.thenNarrow ? ", then camera only" : ""})`;
  }
}

/** The node host's steps: pairing it, its sessions, and its role approved, revoked and removed. */
export function nodeArbitraries(): Array<fc.Arbitrary<Cmd>> {
  const declares = fc.constantFrom<Declared>("camera", "exec");
  const pick = fc.nat({ max: 63 });
  const manage = fc
    .tuple(
      fc.constantFrom("approve" as const, "approve-surface" as const, "revoke" as const, "remove" as const),
      pick,
    )
    .map(([kind, p]) => new NodeManageCmd(kind, p) as Cmd);
  return [
    declares.map((d) => new OnboardNodeCmd(d) as Cmd),
    fc.tuple(pick, fc.boolean()).map(([p, narrow]) => new NodeWidenCmd(p, narrow) as Cmd),
    fc
      .tuple(fc.constantFrom("shared" as const, "token" as const), declares, fc.boolean())
      .map(([via, d, keep]) => new NodeConnectCmd(via, d, keep) as Cmd),
    manage,
  ];
}
