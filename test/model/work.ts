/**
 * The model tests' work operations: sessions spawned by any session the test holds (a session's
 * own runtime token spawns nested ones, as a sub-agent calling back would), sessions ending, cron
 * jobs added, run and re-enabled, and the gateway restarted or killed with SIGKILL.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import type { ConnectOptions } from "../helpers/raw-client.js";
import {
  authorityHolds,
  authorityOf,
  pickCaller,
  coversAll,
  endSession,
  mayStartWork,
  set,
  whoName,
  ADMIN,
  type Caller,
  type Model,
} from "./reference.js";
import { compare, fail, hold, openRoots, type Real } from "./world.js";
import { awaiting } from "./watch.js";
import { connect, helloAuth, processesWith } from "./wire.js";

type Cmd = fc.AsyncCommand<Model, Real>;

/** The child fixture (test/runtime/fixtures/child.ts). */
const CHILD = fileURLToPath(new URL("../runtime/fixtures/child.js", import.meta.url));
/** A cron schedule that never comes round during a test: runs are started by cron.run. */
const RARELY = "0 0 1 1 *";

let files = 0;

function describeCaller(c: Caller): string {
  return `conn ${c.conn.id} (${whoName(c.conn.who)}, ${c.proof}, [${c.scopes.join(",")}])`;
}

async function waitFor<T>(what: string, r: Real, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const poll = async () => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) fail(r, `${what} did not happen within ${ms} ms`);
      await new Promise((res) => setTimeout(res, 25));
    }
  };
  return awaiting(what, poll());
}

/**
 * A session the test holds starts work — a session (`sessions.spawn`) or a cron job (`cron.add`):
 * the model's verdict (exec on the host is admin, and work carries at most its creator's scopes)
 * is compared with the gateway's answer. Returns the caller and the new id when it was allowed.
 */
async function startWork(
  m: Model,
  r: Real,
  step: string,
  callerPick: number,
  scopes: string[],
  method: "sessions.spawn" | "cron.add",
  params: Record<string, unknown>,
): Promise<{ caller: Caller; id: string } | null> {
  const caller = pickCaller(m, callerPick);
  r.step = `${step} by ${describeCaller(caller)}`;
  const verdict = mayStartWork(caller, scopes);
  const res = await r.conn(caller.conn).request(method, { ...params, scopes, cwd: r.gw.workDir });
  if (res === null) fail(r, "the caller's session was closed under it");
  const op =
    method === "cron.add" ? "cron-add" : typeof caller.conn.who === "object" ? "spawn-nested" : "spawn";
  r.coverage.count(op, res.ok === true);
  if (res.ok !== verdict.allow)
    fail(
      r,
      verdict.allow ? "refused; the model allows it" : `allowed; the model refuses it: ${verdict.why}`,
      res.error ?? res.payload,
    );
  return res.ok ? { caller, id: (res.payload as { id: string }).id } : null;
}

/**
 * A session the test holds spawns a child that hands its runtime token out and waits; the test
 * then connects with that token and holds the connection — what the sub-agent's own calls would be.
 */
class SpawnCmd implements Cmd {
  constructor(
    readonly callerPick: number,
    readonly scopes: string[],
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const scopes = set(this.scopes);
    const n = files++;
    const tokenFile = join(r.gw.workDir, `token-${n}`);
    const go = join(r.gw.workDir, `go-${n}`);
    const started = await startWork(m, r, this.toString(), this.callerPick, scopes, "sessions.spawn", {
      command: process.execPath,
      args: [CHILD, "token-wait", tokenFile, go],
    });
    if (started) {
      const { caller, id } = started;
      const parent = typeof caller.conn.who === "object" ? caller.conn.who.session : null;
      m.sessions.push({ id, scopes, authority: authorityOf(m, caller), parent, alive: true, go });
      const token = await waitFor("the child handing out its runtime token", r, () => {
        const text = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8") : "";
        return text.length > 0 ? text : undefined;
      });
      r.runtimeTokens.set(id, token);
      const auth = { agentRuntimeIdentityToken: token } as ConnectOptions["auth"];
      const { res: hello, conn } = await connect(r.gw.url, {
        auth,
        clientId: "gateway-client",
        mode: "backend",
        scopes,
      });
      if (!hello.ok) fail(r, `session ${id}'s runtime token was refused`, hello.error);
      hold(m, r, conn, { session: id }, "runtime-token", helloAuth(hello).scopes);
    }
    await compare(m, r);
  }
  toString(): string {
    return `spawn(caller#${this.callerPick}, [${this.scopes.join(",")}])`;
  }
}

/** A running session ends: its child exits 0, or the owner kills it. */
class EndCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly how: "exit" | "kill",
  ) {}
  check(m: Model): boolean {
    return m.sessions.some((s) => s.alive);
  }
  async run(m: Model, r: Real): Promise<void> {
    const alive = m.sessions.filter((s) => s.alive);
    const s = alive[this.pick % alive.length]!;
    r.step = `${this.toString()} = session ${s.id}`;
    if (this.how === "exit") writeFileSync(s.go, "");
    else {
      const owner = m.conns.find((c) => c.who === "owner" && c.alive && !c.remote)!;
      const res = await r.conn(owner).request("sessions.kill", { id: s.id });
      if (!res?.ok) fail(r, "the owner could not kill a running session", res?.error);
    }
    r.coverage.count(`end:${this.how}`, true);
    endSession(m, s.id);
    await compare(m, r);
  }
  toString(): string {
    return `end(#${this.pick}, ${this.how})`;
  }
}

class CronAddCmd implements Cmd {
  constructor(
    readonly callerPick: number,
    readonly scopes: string[],
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const scopes = set(this.scopes);
    const started = await startWork(m, r, this.toString(), this.callerPick, scopes, "cron.add", {
      schedule: RARELY,
      command: process.execPath,
      args: [CHILD, "exit", "0"],
    });
    if (started) {
      m.jobs.push({ id: started.id, scopes, authority: authorityOf(m, started.caller), enabled: true });
    }
    await compare(m, r);
  }
  toString(): string {
    return `cron-add(caller#${this.callerPick}, [${this.scopes.join(",")}])`;
  }
}

/** Runs a job now (cron.run), or re-enables it (cron.update enabled: true). */
class CronCmd implements Cmd {
  constructor(
    readonly what: "run" | "enable",
    readonly callerPick: number,
    readonly jobPick: number,
  ) {}
  check(m: Model): boolean {
    return m.jobs.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const caller = pickCaller(m, this.callerPick);
    const job = m.jobs[this.jobPick % m.jobs.length]!;
    r.step = `${this.toString()} = job ${job.id} (${job.enabled ? "enabled" : "disabled"}, on ${String(job.authority)}) by ${describeCaller(caller)}`;
    let allow: boolean;
    let why: string;
    if (!coversAll(caller.scopes, [ADMIN])) [allow, why] = [false, "cron needs operator.admin"];
    else if (this.what === "run") {
      allow = authorityHolds(m, job.authority, job.scopes);
      why = "the job's creator no longer holds its scopes";
    } else {
      allow = coversAll(caller.scopes, job.scopes);
      why = "re-enabling needs covering the job's scopes";
    }
    const res =
      this.what === "run"
        ? await r.conn(caller.conn).request("cron.run", { id: job.id })
        : await r.conn(caller.conn).request("cron.update", { id: job.id, enabled: true });
    if (res === null) fail(r, "the caller's session was closed under it");
    r.coverage.count(`cron-${this.what}`, res.ok === true);
    if (res.ok !== allow)
      fail(
        r,
        allow ? "refused; the model allows it" : `allowed; the model refuses it: ${why}`,
        res.error ?? res.payload,
      );
    if (res.ok && this.what === "enable" && !job.enabled) {
      job.enabled = true;
      job.authority = authorityOf(m, caller);
    }
    // A run refused for its creator's authority disables the job (a caller without admin changes nothing).
    if (!res.ok && this.what === "run" && coversAll(caller.scopes, [ADMIN])) job.enabled = false;
    await compare(m, r);
  }
  toString(): string {
    return `cron-${this.what}(caller#${this.callerPick}, job#${this.jobPick})`;
  }
}

/**
 * A job's schedule comes round: the owner moves it (cron.update, which leaves what the job rests
 * on alone) to a second just ahead, and the test waits past it. An enabled job whose creator's
 * authority still holds runs (its last run is stamped); one whose authority ended is disabled, not
 * run; a disabled job does not fire at all. Then the schedule goes back to one that never comes.
 * Real seconds, so once per sequence at most.
 */
class CronFireCmd implements Cmd {
  constructor(readonly jobPick: number) {}
  check(m: Model): boolean {
    return m.jobs.length > 0 && !fired.has(m);
  }
  async run(m: Model, r: Real): Promise<void> {
    fired.add(m);
    // A job disabled with its creator, when there is one, half the time: it must not fire.
    const disabled = m.jobs.filter((j) => !j.enabled);
    const from = disabled.length > 0 && this.jobPick % 2 === 0 ? disabled : m.jobs;
    const job = from[this.jobPick % from.length]!;
    r.step = `${this.toString()} = job ${job.id} (${job.enabled ? "enabled" : "disabled"}, on ${String(job.authority)})`;
    const owner = r.conn(m.conns.find((c) => c.who === "owner" && c.alive && !c.remote)!);
    const list = async () => {
      const res = await owner.request("cron.list", {});
      if (!res?.ok) fail(r, "the owner could not list cron jobs", res?.error);
      const jobs = (
        res.payload as { jobs: Array<{ id: string; enabled: boolean; lastRunAtMs: number | null }> }
      ).jobs;
      return jobs.find((j) => j.id === job.id)!;
    };
    const before = (await list()).lastRunAtMs;
    // The scheduler's timers run on the host's clock, not on the one the test moves (clock.ts).
    // A move answered after its second came round (a loaded machine) waits a day: move it again.
    let at = new Date(0);
    for (let lead = 2; Date.now() > at.getTime() - 200; lead++) {
      if (lead > 8) fail(r, "the gateway answered no schedule move before its second came round");
      at = new Date((Math.floor(Date.now() / 1000) + lead) * 1000);
      const schedule = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
      const moved = await owner.request("cron.update", { id: job.id, schedule, timezone: "UTC" });
      if (!moved?.ok) fail(r, "the owner could not move the job's schedule", moved?.error);
    }
    const runs = job.enabled && authorityHolds(m, job.authority, job.scopes);
    let after: { enabled: boolean; lastRunAtMs: number | null } = await list();
    const deadline = at.getTime() + 10_000;
    while (Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      after = await list();
      if (Date.now() > at.getTime() + 1000 && (after.lastRunAtMs !== before || !after.enabled)) break;
    }
    const ran = after.lastRunAtMs !== before;
    r.coverage.count("cron-fire", ran);
    if (ran !== runs)
      fail(
        r,
        runs
          ? "the job did not run on its schedule"
          : "the job ran on its schedule; the model says it may not",
        after,
      );
    if (job.enabled && !runs) job.enabled = false;
    const back = await owner.request("cron.update", { id: job.id, schedule: RARELY, timezone: "UTC" });
    if (!back?.ok) fail(r, "the owner could not move the job's schedule back", back?.error);
    await compare(m, r);
  }
  toString(): string {
    return `cron-fire(job#${this.jobPick})`;
  }
}

/** Sequences that already waited for a scheduled run. */
const fired = new WeakSet<Model>();

/** The gateway stops (SIGTERM) or dies (SIGKILL) and starts again on the same state dir. */
class RestartCmd implements Cmd {
  constructor(readonly how: "restart" | "kill-9") {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.step = this.toString();
    if (this.how === "restart") await r.gw.restart();
    else await r.gw.crash();
    r.coverage.count(this.how, true);
    // Every connection went with the old process, and every session with it (killed, or lost).
    for (const c of m.conns) {
      const conn = r.conn(c);
      if (!(await conn.closedWithin(10_000))) fail(r, `connection ${c.id} outlived its gateway`);
      r.conns.delete(c.id);
    }
    m.conns = [];
    const running = m.sessions.filter((s) => s.alive);
    for (const s of running) endSession(m, s.id);
    m.conns = [];
    // Nor does their work run on: a lost session's process ends with the gateway that started it.
    for (const s of running) {
      await waitFor(`session ${s.id}'s process ending with its gateway`, r, () =>
        processesWith(s.go).length === 0 ? true : undefined,
      );
    }
    await openRoots(m, r);
    await compare(m, r);
  }
  toString(): string {
    return this.how;
  }
}

const pick = fc.nat({ max: 63 });
const scopeSets: fc.Arbitrary<string[]> = fc.constantFrom<string[]>(
  ["operator.read"],
  ["operator.admin"],
  ["operator.pairing", "operator.read"],
  ["operator.admin", "operator.pairing"],
  [],
);

/** The work arbitraries. */
export function workArbitraries(): Array<fc.Arbitrary<Cmd>> {
  return [
    fc.tuple(pick, scopeSets).map(([p, s]) => new SpawnCmd(p, s) as Cmd),
    fc.tuple(pick, scopeSets).map(([p, s]) => new SpawnCmd(p, s) as Cmd),
    fc
      .tuple(pick, fc.constantFrom("exit" as const, "kill" as const))
      .map(([p, h]) => new EndCmd(p, h) as Cmd),
    fc.tuple(pick, scopeSets).map(([p, s]) => new CronAddCmd(p, s) as Cmd),
    fc
      .tuple(fc.constantFrom("run" as const, "enable" as const), pick, pick)
      .map(([w, p, j]) => new CronCmd(w, p, j) as Cmd),
    fc.constantFrom("restart" as const, "kill-9" as const).map((h) => new RestartCmd(h) as Cmd),
    pick.map((j) => new CronFireCmd(j) as Cmd),
  ];
}
