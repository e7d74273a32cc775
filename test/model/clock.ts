/**
 * The gateway's clock moves (clock-gateway.js): pending requests and setup codes expire when their
 * time is up, not before, and an expired one is gone for good — approving the request is refused,
 * the code admits nothing, and the device's next connect opens a request under a new id.
 */
import fc from "fast-check";
import { ConnectCmd, ManageCmd, MintCmd, RedeemCmd, scopeSets, type Cmd } from "./commands.js";
import { advanceClock, PENDING_TTL_MS, SETUP_CODE_TTL_MS, type Model } from "./reference.js";
import { compare, DEVICES, type Real } from "./world.js";

/**
 * The sessions' runtime tokens live an hour of the gateway's time: three moves (at most 33
 * minutes) leave them valid, so the clock changes nothing the model does not predict.
 */
const MAX_CLOCK_MOVES = 3;
/** Far enough that everything opened or minted before is past its time, whatever real time passed. */
const PAST_EXPIRY_MS = Math.max(PENDING_TTL_MS, SETUP_CODE_TTL_MS) + 60_000;
/** Short of every expiry: three of them, and a sequence's real minutes, stay under ten minutes. */
const SHORT_MOVE_MS = 2 * 60_000;

type Then = "nothing" | "connect" | "approve" | "redeem";

/**
 * Moves the gateway's clock, far (past every expiry) or a little (before any), having first made
 * something that can expire when there is nothing; then, at once, tries what expiry must stop.
 */
class ClockCmd implements Cmd {
  constructor(
    readonly far: boolean,
    readonly then: Then,
    readonly pick: number,
    readonly scopes: string[],
  ) {}
  check(m: Model): boolean {
    return m.clockMoves < MAX_CLOCK_MOVES;
  }
  async run(m: Model, r: Real): Promise<void> {
    if (!m.devices.some((d) => d.pending)) {
      const unpaired = m.devices.findIndex((d) => !d.paired);
      const device = unpaired >= 0 ? unpaired : this.pick % DEVICES;
      await new ConnectCmd(device, "shared", this.scopes, false).run(m, r);
    }
    if (!m.codes.some((c) => c.state === "live")) await new MintCmd(-1, "operator-limited").run(m, r);
    r.step = this.toString();
    const ms = this.far ? PAST_EXPIRY_MS : SHORT_MOVE_MS;
    const waiting = m.devices.flatMap((d, i) => (d.pending ? [i] : []));
    const live = m.codes.flatMap((c, i) => (c.state === "live" ? [i] : []));
    await r.gw.advance(ms);
    const expired = advanceClock(m, ms);
    r.coverage.count(
      this.far ? "clock-past-expiry" : "clock-before-expiry",
      expired.requests + expired.codes > 0,
    );
    await compare(m, r);
    const device = waiting.length > 0 ? waiting[this.pick % waiting.length]! : this.pick % DEVICES;
    switch (this.then) {
      case "nothing":
        return;
      case "connect":
        return new ConnectCmd(device, "shared", this.scopes, true).run(m, r);
      case "approve":
        if (m.devices[device]!.lastRequestId === null) return;
        return new ManageCmd("approve", -1, 0, undefined, device).run(m, r);
      case "redeem": {
        const code = live.length > 0 ? live[this.pick % live.length]! : this.pick;
        return new RedeemCmd(this.pick % DEVICES, code, this.scopes, true).run(m, r);
      }
    }
  }
  toString(): string {
    return `clock(${this.far ? "past expiry" : "before expiry"}, then ${this.then} #${this.pick}, [${this.scopes.join(",")}])`;
  }
}

/** The clock's moves, mostly far (what expiry is for), each followed by an attempt it must stop. */
export function clockArbitraries(): Array<fc.Arbitrary<Cmd>> {
  const then = fc.constantFrom<Then>("nothing", "connect", "approve", "redeem");
  const clock = (far: fc.Arbitrary<boolean>) =>
    fc
      .tuple(far, then, fc.nat({ max: 63 }), scopeSets)
      .map(([f, t, p, s]) => new ClockCmd(f, t, p, s) as Cmd);
  return [clock(fc.constant(true)), clock(fc.boolean())];
}
