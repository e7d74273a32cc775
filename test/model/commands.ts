/**
 * The operations of the model tests as fast-check commands: each predicts from the model what the
 * gateway must answer, does it for real, compares, applies the effect to the model, then runs the
 * whole comparison (world.ts).
 */
import fc from "fast-check";
import type { Frame } from "../helpers/raw-client.js";
import {
  callerText,
  pickCaller,
  coversAll,
  expectSharedConnect,
  mayApprove,
  mayReject,
  mayRemove,
  mayRevoke,
  mayRotate,
  mayRename,
  mayMint,
  expectRedeem,
  newDevice,
  type Profile,
  authorityOf,
  endAuthority,
  SCOPES,
  set,
  type Caller,
  type Model,
  type Target,
  type Verdict,
} from "./reference.js";
import { compare, DEVICES, drop, fail, hold, type Real } from "./world.js";
import { connect, helloAuth, MODEL_TOKEN, type Conn } from "./wire.js";

export type Cmd = fc.AsyncCommand<Model, Real>;

export const scopeSets: fc.Arbitrary<string[]> = fc.oneof(
  fc.constantFrom<string[]>(
    ["operator.pairing"],
    ["operator.pairing", "operator.read"],
    ["operator.admin"],
    ["operator.read"],
    ["operator.write"],
    [],
  ),
  fc.subarray([...SCOPES]),
);

const targetName = (t: Target) => (t === "owner" ? "owner" : `d${t}`);

/** Every step ends with the full comparison. */
async function finish(m: Model, r: Real): Promise<void> {
  await compare(m, r);
}

/** A device connects with its key and the shared secret (pairing, an upgrade) or its own token. */
export class ConnectCmd implements Cmd {
  constructor(
    readonly device: number,
    readonly via: "shared" | "token",
    readonly scopes: string[],
    readonly keep: boolean,
    /** Through a proxy: a device's rights are its record's wherever it is, so nothing changes. */
    readonly remote = false,
  ) {}
  check(m: Model): boolean {
    return this.via === "shared" || m.devices[this.device]!.tokenKnown;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.step = this.toString();
    const i = this.device;
    const d = m.devices[i]!;
    const identity = r.identities[i]!;
    const scopes = set(this.scopes);
    if (this.via === "shared") {
      const want = expectSharedConnect(d, scopes);
      const { res, conn } = await connect(
        r.gw.url,
        { identity, auth: { token: MODEL_TOKEN }, scopes },
        this.remote,
      );
      r.coverage.count(`connect-shared${this.remote ? "-remote" : ""}:${want.kind}`, res.ok === true);
      if (want.kind === "admit") {
        if (!res.ok) fail(r, "a device covered by its approval was refused", res.error);
        const auth = helloAuth(res);
        if (!auth.deviceToken) fail(r, "no device token was issued", res.payload);
        r.retireToken(m, i);
        r.tokens[i] = auth.deviceToken;
        d.tokenKnown = true;
        d.slot = { revoked: false, scopes: want.tokenScopes };
        this.held(m, r, conn, "shared-secret", auth.scopes, scopes);
      } else {
        if (res.ok)
          fail(
            r,
            `admitted; the model expects a pending request for [${want.scopes.join(",")}]`,
            res.payload,
          );
        this.pended(m, r, res, want.scopes, want.sameRequest);
      }
    } else {
      const token = r.tokens[i]!;
      const slot = d.slot!;
      const { res, conn } = await connect(
        r.gw.url,
        { identity, auth: { deviceToken: token }, scopes },
        this.remote,
      );
      const within = coversAll(slot.scopes, scopes);
      r.coverage.count(
        `connect-token${this.remote ? "-remote" : ""}:${within ? "within" : "beyond"}`,
        res.ok === true,
      );
      if (within) {
        if (!res.ok) fail(r, "a device's current token within its scopes was refused", res.error);
        this.held(m, r, conn, "device-token", helloAuth(res).scopes, scopes);
      } else {
        if (res.ok)
          fail(r, `a token carrying [${slot.scopes.join(",")}] admitted [${scopes.join(",")}]`, res.payload);
        if (res.error?.details?.code === "PAIRING_REQUIRED") {
          if (coversAll(d.scopes, scopes))
            fail(r, "a request within the baseline opened a pairing request", res.error);
          const asked = set(d.scopes, d.pending?.scopes ?? [], scopes);
          this.pended(
            m,
            r,
            res,
            asked,
            d.pending && sameAsk(d.pending.scopes, asked) ? d.pending.requestId : null,
          );
        } else if (!coversAll(d.scopes, scopes)) {
          fail(
            r,
            "a request beyond the baseline with a valid token did not open a pairing request",
            res.error,
          );
        }
      }
    }
    await finish(m, r);
  }

  private held(
    m: Model,
    r: Real,
    conn: Conn,
    proof: "shared-secret" | "device-token",
    got: string[],
    asked: string[],
  ) {
    if (!sameAsk(got, asked)) fail(r, `admitted with [${got.join(",")}], asked [${asked.join(",")}]`);
    if (this.keep) hold(m, r, conn, this.device, proof, got, this.remote);
    else conn.close();
  }

  private pended(m: Model, r: Real, res: Frame, scopes: string[], same: string | null) {
    pended(m, r, this.device, res, scopes, same);
  }

  toString(): string {
    return `connect(d${this.device}, ${this.via}, [${this.scopes.join(",")}]${this.keep ? ", keep" : ""}${this.remote ? ", remote" : ""})`;
  }
}

/** The device's connect opened (or kept) a pending request: check its id, note it in the model. */
function pended(m: Model, r: Real, device: number, res: Frame, scopes: string[], same: string | null) {
  {
    const details = res.error?.details ?? {};
    if (details.code !== "PAIRING_REQUIRED") fail(r, "refused, but not with PAIRING_REQUIRED", res.error);
    const requestId = details.requestId;
    if (typeof requestId !== "string") fail(r, "a pending request without a requestId", res.error);
    const d = m.devices[device]!;
    if (same !== null && requestId !== same)
      fail(r, `an unchanged request got a new requestId (was ${same})`, res.error);
    if (same === null && d.pending && requestId === d.pending.requestId)
      fail(
        r,
        "a changed request kept its requestId: an approval could bind to what the approver did not see",
      );
    // A new request, or the same ask refreshed: either way it waits its full time from now.
    d.pending = { requestId, scopes, ageMs: 0 };
    d.lastRequestId = requestId;
  }
}

const sameAsk = (a: readonly string[], b: readonly string[]) => set(a).join() === set(b).join();

type ManageKind = "approve" | "reject" | "rotate" | "revoke" | "remove";

/** A management call by one of the sessions the test holds, picked by `callerPick`. */
export class ManageCmd implements Cmd {
  constructor(
    readonly kind: ManageKind,
    readonly callerPick: number,
    readonly targetPick: number,
    readonly scopes: string[] | undefined,
    /** A target chosen by a macro rather than picked. */
    readonly fixed: Target | null = null,
  ) {}
  target: Target = 0;
  check(m: Model): boolean {
    if (this.kind === "approve" || this.kind === "reject")
      return m.devices.some((d) => d.lastRequestId !== null);
    return true;
  }

  /**
   * The target, picked among what the action can apply to right now (pending requests; paired
   * devices; now and then the owner device or an unpaired one), so that few steps are wasted.
   */
  resolve(m: Model): Target {
    if (this.fixed !== null) return this.fixed;
    const all = m.devices.map((_, i) => i);
    if (this.kind === "approve" || this.kind === "reject") {
      const pending = all.filter((i) => m.devices[i]!.pending !== null);
      const known = all.filter((i) => m.devices[i]!.lastRequestId !== null);
      const from = pending.length > 0 && this.targetPick % 5 !== 4 ? pending : known;
      return from[this.targetPick % from.length]!;
    }
    if (this.targetPick % 10 === 9) return "owner";
    const paired = all.filter((i) => m.devices[i]!.paired);
    const from = paired.length > 0 && this.targetPick % 10 !== 8 ? paired : all;
    return from[this.targetPick % from.length]!;
  }
  async run(m: Model, r: Real): Promise<void> {
    const caller = pickCaller(m, this.callerPick);
    this.target = this.resolve(m);
    r.step = `${this.toString()} = ${targetName(this.target)} by ${callerText(caller)}`;
    const t = this.target;
    const deviceId = t === "owner" ? r.gw.owner.deviceId : r.identities[t]!.deviceId;
    let verdict: Verdict & { scopes?: string[] };
    let method: string;
    let params: Record<string, unknown>;
    switch (this.kind) {
      case "approve":
      case "reject": {
        const d = m.devices[t as number]!;
        verdict =
          this.kind === "approve" ? mayApprove(m, caller, t as number) : mayReject(m, caller, t as number);
        method = `device.pair.${this.kind}`;
        params = { requestId: d.pending?.requestId ?? d.lastRequestId };
        break;
      }
      case "remove":
        verdict = mayRemove(m, caller, t);
        method = "device.pair.remove";
        params = { deviceId };
        break;
      case "revoke":
        verdict = mayRevoke(m, caller, t);
        method = "device.token.revoke";
        params = { deviceId, role: "operator" };
        break;
      case "rotate":
        verdict = mayRotate(m, caller, t, this.scopes);
        method = "device.token.rotate";
        params = { deviceId, role: "operator", ...(this.scopes ? { scopes: this.scopes } : {}) };
        break;
    }
    const sent = await r.conn(caller.conn).request(method, params);
    // A device revoking or removing itself ends its own session too: the close may beat the reply.
    // So does a session resting on that device (its sub-agent revoking the device it runs for).
    const ownEnd =
      (this.kind === "revoke" || this.kind === "remove") &&
      (caller.device === this.target || authorityOf(m, caller) === this.target);
    if (sent === null && !(ownEnd && verdict.allow)) fail(r, "the caller's session was closed under it");
    const res: Frame = sent ?? { type: "res", ok: true, payload: {} };
    r.coverage.count(this.kind, res.ok === true);
    if (!caller.onHost) r.coverage.count(`${this.kind} by a remote caller`, res.ok === true);
    if (res.ok !== verdict.allow) {
      fail(
        r,
        verdict.allow ? "refused; the model allows it" : `allowed; the model refuses it: ${verdict.why}`,
        res.ok ? res.payload : res.error,
      );
    }
    if (verdict.allow) this.apply(m, r, caller, verdict.scopes, res);
    await finish(m, r);
  }

  private apply(m: Model, r: Real, caller: Caller, rotated: string[] | undefined, res: Frame) {
    const t = this.target;
    if (t === "owner") return;
    const d = m.devices[t]!;
    const connsOf = () => m.conns.filter((c) => c.who === t && c.alive);
    switch (this.kind) {
      case "approve": {
        const before = d.paired ? d.scopes : [];
        const scopes = set(before, d.pending!.scopes);
        if (d.slot?.revoked) {
          d.slot = null;
          r.retireToken(m, t);
        } else if (d.slot) {
          const added = scopes.filter((s) => !before.includes(s));
          d.slot.scopes = set(d.slot.scopes, added);
        }
        d.paired = true;
        d.scopes = scopes;
        d.pending = null;
        return;
      }
      case "reject":
        d.pending = null;
        return;
      case "remove": {
        endAuthority(m, t);
        r.retireToken(m, t);
        const last = d.lastRequestId;
        // The label goes with the record: newDevice() below forgets it.
        const stale = d.hasStaleToken;
        Object.assign(d, newDevice(), { lastRequestId: last, hasStaleToken: stale });
        return;
      }
      case "revoke":
        endAuthority(m, t);
        r.retireToken(m, t);
        d.slot = { revoked: true, scopes: d.slot?.scopes ?? [] };
        return;
      case "rotate": {
        for (const c of connsOf()) if (c.proof === "device-token" && c.id !== caller.conn.id) c.alive = false;
        r.retireToken(m, t);
        d.slot = { revoked: false, scopes: rotated! };
        const token = (res.payload as { token?: string }).token;
        if (caller.device === t) {
          if (!token) fail(r, "a device rotating its own token was not given the new one", res.payload);
          r.tokens[t] = token;
          d.tokenKnown = true;
        } else if (token) {
          fail(r, "a rotation handed another device's new token to the caller");
        }
        return;
      }
    }
  }

  toString(): string {
    const s = this.scopes ? `, [${this.scopes.join(",")}]` : "";
    return `${this.kind}(caller#${this.callerPick}, target#${this.targetPick}${s})`;
  }
}

/**
 * Onboarding, the way a user does it: the device asks with the shared secret, the owner approves,
 * the device connects again and keeps its session. Each part is predicted and compared as above.
 */
class OnboardCmd implements Cmd {
  constructor(
    readonly device: number,
    readonly scopes: string[],
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    await new ConnectCmd(this.device, "shared", this.scopes, true).run(m, r);
    if (m.devices[this.device]!.pending) {
      await new ManageCmd("approve", -1, 0, undefined, this.device).run(m, r);
      await new ConnectCmd(this.device, "shared", this.scopes, true).run(m, r);
    }
  }
  toString(): string {
    return `onboard(d${this.device}, [${this.scopes.join(",")}])`;
  }
}

/**
 * The shape of issue 11's attacks: the owner revokes a paired device, and at once something tries
 * to bring it back — a rotation or a revocation by some session, a reconnect with the shared secret,
 * a setup code, an approval of what it then asks for.
 */
class RevokeThenCmd implements Cmd {
  constructor(
    readonly targetPick: number,
    readonly then: "rotate" | "connect" | "redeem" | "approve",
    readonly pick: number,
    readonly scopes: string[],
  ) {}
  check(m: Model): boolean {
    return m.devices.some((d) => d.paired);
  }
  async run(m: Model, r: Real): Promise<void> {
    const paired = m.devices.map((_, i) => i).filter((i) => m.devices[i]!.paired);
    const t = paired[this.targetPick % paired.length]!;
    if (!m.devices[t]!.slot?.revoked) await new ManageCmd("revoke", -1, 0, undefined, t).run(m, r);
    switch (this.then) {
      case "rotate":
        return new ManageCmd("rotate", this.pick, 0, this.scopes.length > 0 ? this.scopes : undefined, t).run(
          m,
          r,
        );
      case "connect":
        return new ConnectCmd(t, "shared", this.scopes, true).run(m, r);
      case "redeem":
        if (m.codes.length === 0) await new MintCmd(-1, "operator-limited").run(m, r);
        return new RedeemCmd(t, this.pick, this.scopes, true).run(m, r);
      case "approve":
        await new ConnectCmd(t, "shared", this.scopes, true).run(m, r);
        return new ManageCmd("approve", this.pick, 0, undefined, t).run(m, r);
    }
  }
  toString(): string {
    return `revoke-then(target#${this.targetPick}, ${this.then}, #${this.pick}, [${this.scopes.join(",")}])`;
  }
}

/** A session the test holds mints a setup code. */
export class MintCmd implements Cmd {
  constructor(
    readonly callerPick: number,
    readonly profile: Profile,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const caller = pickCaller(m, this.callerPick);
    r.step = `${this.toString()} by ${callerText(caller)}`;
    const verdict = mayMint(caller, this.profile);
    const res = await r.conn(caller.conn).request("device.pair.setupCode", { profile: this.profile });
    if (res === null) fail(r, "the caller's session was closed under it");
    r.coverage.count(`mint:${this.profile}`, res.ok === true);
    if (res.ok !== verdict.allow)
      fail(
        r,
        verdict.allow ? "refused; the model allows it" : `allowed; the model refuses it: ${verdict.why}`,
        res.error ?? res.payload,
      );
    if (res.ok) {
      const code = (res.payload as { code: string }).code;
      m.codes.push({
        code,
        profile: this.profile,
        minter:
          typeof caller.conn.who === "object" ? { session: caller.conn.who.session } : authorityOf(m, caller),
        state: "live",
        spentBy: null,
        ageMs: 0,
      });
    }
    await finish(m, r);
  }
  toString(): string {
    return `mint(caller#${this.callerPick}, ${this.profile})`;
  }
}

/** A device presents a setup code (and nothing else) with its key. */
export class RedeemCmd implements Cmd {
  constructor(
    readonly device: number,
    readonly codePick: number,
    readonly scopes: string[],
    readonly keep: boolean,
  ) {}
  check(m: Model): boolean {
    return m.codes.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const code = m.codes[this.codePick % m.codes.length]!;
    r.step = `${this.toString()} = ${code.profile} code ${m.codes.indexOf(code)} (${code.state})`;
    const i = this.device;
    const d = m.devices[i]!;
    const scopes = set(this.scopes);
    const want = expectRedeem(d, code, scopes);
    const { res, conn } = await connect(r.gw.url, {
      identity: r.identities[i]!,
      auth: { bootstrapToken: code.code },
      scopes,
    });
    r.coverage.count(`redeem:${want.kind}`, res.ok === true);
    switch (want.kind) {
      case "refuse":
        if (res.ok) fail(r, `a setup code admitted; the model refuses: ${want.why}`, res.payload);
        if (res.error?.details?.code === "PAIRING_REQUIRED")
          fail(r, `a refused code opened a request (${want.why})`, res.error);
        break;
      case "pend":
        if (res.ok) fail(r, "a setup code revived a revoked slot", res.payload);
        pended(m, r, i, res, want.scopes, want.sameRequest);
        break;
      case "admit": {
        if (!res.ok) fail(r, "a live setup code within its profile was refused", res.error);
        const auth = helloAuth(res);
        if (!sameAsk(auth.scopes, scopes))
          fail(r, `admitted with [${auth.scopes.join(",")}], asked [${scopes.join(",")}]`);
        if (!auth.deviceToken) fail(r, "a redeemed code issued no device token", res.payload);
        r.retireToken(m, i);
        r.tokens[i] = auth.deviceToken;
        d.tokenKnown = true;
        d.paired = true;
        d.scopes = want.baseline;
        d.slot = { revoked: false, scopes: want.tokenScopes };
        d.pending = null;
        code.state = "spent";
        code.spentBy = i;
        if (this.keep) hold(m, r, conn, i, "device-token", auth.scopes);
        else conn.close();
        break;
      }
    }
    await finish(m, r);
  }
  toString(): string {
    return `redeem(d${this.device}, code#${this.codePick}, [${this.scopes.join(",")}]${this.keep ? ", keep" : ""})`;
  }
}

/** A session the test holds renames a device (device.pair.rename) or a node (node.rename). */
class RenameCmd implements Cmd {
  constructor(
    readonly callerPick: number,
    readonly targetPick: number,
    readonly label: string,
    readonly node: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const caller = pickCaller(m, this.callerPick);
    const all = m.devices.map((_, i) => i);
    const paired = all.filter((i) => m.devices[i]!.paired);
    const from = paired.length > 0 && this.targetPick % 6 !== 4 ? paired : all;
    const t: Target = this.targetPick % 6 === 5 ? "owner" : from[this.targetPick % from.length]!;
    r.step = `${this.toString()} = ${targetName(t)} by ${callerText(caller)}`;
    const verdict = mayRename(m, caller, t, this.node);
    const deviceId = t === "owner" ? r.gw.owner.deviceId : r.identities[t]!.deviceId;
    const res = this.node
      ? await r.conn(caller.conn).request("node.rename", { nodeId: deviceId, displayName: this.label })
      : await r.conn(caller.conn).request("device.pair.rename", { deviceId, label: this.label });
    if (res === null) fail(r, "the caller's session was closed under it");
    r.coverage.count(this.node ? "node-rename" : "rename", res.ok === true);
    if (res.ok !== verdict.allow)
      fail(
        r,
        verdict.allow ? "refused; the model allows it" : `allowed; the model refuses it: ${verdict.why}`,
        res.ok ? res.payload : res.error,
      );
    if (res.ok && t !== "owner") m.devices[t]!.label = this.label.trim();
    await finish(m, r);
  }
  toString(): string {
    return `${this.node ? "node-rename" : "rename"}(caller#${this.callerPick}, target#${this.targetPick}, ${JSON.stringify(this.label)})`;
  }
}

/**
 * A root caller from elsewhere (through a proxy): the owner key, admitted with what it asks but no
 * longer the owner on the host (taking away then needs covering the target), or the device-less
 * shared secret, admitted with no scopes at all (C13). Held, so later steps pick it as a caller.
 */
class RemoteRootCmd implements Cmd {
  constructor(
    readonly proof: "owner-key" | "shared-secret",
    readonly scopes: string[],
    /** A management call it then makes at once (where the owner on the host could, it may not). */
    readonly then: ManageKind | null = null,
    readonly targetPick = 0,
  ) {}
  check(m: Model): boolean {
    return m.conns.filter((c) => c.alive && c.remote && typeof c.who === "string").length < 2;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.step = this.toString();
    const scopes = set(this.scopes);
    const owner = this.proof === "owner-key";
    const { res, conn } = await connect(
      r.gw.url,
      owner
        ? { identity: r.gw.owner, scopes }
        : { auth: { token: MODEL_TOKEN }, clientId: "cli", mode: "cli", scopes },
      true,
    );
    r.coverage.count(`remote-root:${this.proof}`, res.ok === true);
    if (!res.ok) fail(r, "a root proof from elsewhere was refused", res.error);
    const want = owner ? scopes : [];
    const got = helloAuth(res).scopes;
    if (!sameAsk(got, want))
      fail(r, `admitted from elsewhere with [${got.join(",")}]; the model's [${want.join(",")}]`);
    const held = hold(m, r, conn, owner ? "owner" : "cli", this.proof, got, true);
    await finish(m, r);
    if (this.then) {
      const pick = m.conns.filter((c) => c.alive).indexOf(held);
      const step = new ManageCmd(this.then, pick, this.targetPick, undefined);
      if (step.check(m)) await step.run(m, r);
    }
  }
  toString(): string {
    const then = this.then ? `, then ${this.then} target#${this.targetPick}` : "";
    return `remote-root(${this.proof}, [${this.scopes.join(",")}]${then})`;
  }
}

/** The test closes one of the device sessions it holds (so callers come and go). */
class DropCmd implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Model): boolean {
    return m.conns.some((c) => c.alive && typeof c.who === "number");
  }
  async run(m: Model, r: Real): Promise<void> {
    const mine = m.conns.filter((c) => c.alive && typeof c.who === "number");
    const c = mine[this.pick % mine.length]!;
    r.step = `${this.toString()} = conn ${c.id}`;
    drop(m, r, c);
    r.coverage.count("drop", true);
    await finish(m, r);
  }
  toString(): string {
    return `drop(#${this.pick})`;
  }
}

const device = fc.integer({ min: 0, max: DEVICES - 1 });
const pick = fc.nat({ max: 63 });

/** The command arbitraries, weighted towards what builds state (connects) and what tests it. */
export function commandArbitraries(): Array<fc.Arbitrary<Cmd>> {
  const manage = (kind: ManageKind, scopes = false) =>
    fc
      .tuple(pick, pick, scopes ? fc.option(scopeSets, { nil: undefined }) : fc.constant(undefined))
      .map(([p, t, s]) => new ManageCmd(kind, p, t, s) as Cmd);
  const connectCmd = fc
    .tuple(
      device,
      fc.constantFrom("shared" as const, "token" as const),
      scopeSets,
      fc.boolean(),
      fc.boolean(),
    )
    .map(([d, via, s, keep, remote]) => new ConnectCmd(d, via, s, keep, remote) as Cmd);
  const remoteRoot = fc
    .tuple(
      fc.constantFrom("owner-key" as const, "shared-secret" as const),
      // Mostly a narrow pairing session: where the owner on the host may take anything away, it may not.
      fc.oneof(
        fc.constantFrom<string[]>(["operator.pairing"], ["operator.pairing", "operator.read"]),
        scopeSets,
      ),
      fc.constantFrom<ManageKind | null>(null, "revoke", "remove", "rotate", "approve"),
      pick,
    )
    .map(([p, s, then, t]) => new RemoteRootCmd(p, s, then, t) as Cmd);
  const profile = fc.constantFrom<Profile>("operator-limited", "operator-full", "node");
  const mint = fc.tuple(pick, profile).map(([p, pr]) => new MintCmd(p, pr) as Cmd);
  const redeem = fc
    .tuple(device, pick, scopeSets, fc.boolean())
    .map(([d, c, s, keep]) => new RedeemCmd(d, c, s, keep) as Cmd);
  const onboard = fc.tuple(device, scopeSets).map(([d, s]) => new OnboardCmd(d, s) as Cmd);
  const revokeThen = fc
    .tuple(
      pick,
      fc.constantFrom("rotate" as const, "connect" as const, "redeem" as const, "approve" as const),
      pick,
      scopeSets,
    )
    .map(([t, then, p, s]) => new RevokeThenCmd(t, then, p, s) as Cmd);
  const rename = fc
    .tuple(pick, pick, fc.constantFrom("phone", " laptop 2 ", "Küche ✓"), fc.boolean())
    .map(([p, t, l, node]) => new RenameCmd(p, t, l, node) as Cmd);
  return [
    remoteRoot,
    rename,
    revokeThen,
    onboard,
    onboard,
    connectCmd,
    connectCmd,
    manage("approve"),
    manage("approve"),
    manage("reject"),
    manage("rotate", true),
    manage("rotate", true),
    manage("revoke"),
    manage("revoke"),
    manage("remove"),
    pick.map((p) => new DropCmd(p) as Cmd),
    mint,
    redeem,
    redeem,
  ];
}
