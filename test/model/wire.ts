/**
 * The model tests' view of the gateway: a real `gatehouse gateway run` process on a state dir of
 * its own (so it can be restarted and `kill -9`ed), and bare WebSocket peers that connect from
 * loopback addresses of their own — each connect from a fresh 127.x address, so the
 * failed-credential limiter (per address) never turns a probe of a dead token into a lockout that
 * the model would have to predict.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { loadIdentity } from "../../src/identity/file-store.js";
import type { DeviceIdentity } from "../../src/identity/keys.js";
import { connectParams, type ConnectOptions, type Frame } from "../helpers/raw-client.js";
import { awaiting, within, timedOut } from "./watch.js";

/** The test entry point that runs `gateway run`'s assembly with a clock the test moves. */
const CLOCK_GATEWAY = fileURLToPath(new URL("./clock-gateway.js", import.meta.url));

export const MODEL_TOKEN = "model-test-token-0123456789abcdefghijklmnopq";

let addressCounter = 0;
/** A loopback source address not used before by this process (127.64.0.1 …). */
function freshLoopback(): string {
  const n = addressCounter++;
  return `127.${64 + ((n >> 16) & 0x3f)}.${(n >> 8) & 0xff}.${n & 0xff || 1}`;
}

let reqCounter = 0;

/** Every socket the tests opened and that has not closed yet (killed when a sequence hangs). */
const openSockets = new Set<WebSocket>();

/** Ends every socket the tests still hold, at once (no closing handshake). */
export function terminateSockets(): void {
  for (const ws of openSockets) ws.terminate();
  openSockets.clear();
}

/** One open (or closed) connection after its handshake. */
export class Conn {
  readonly #queue: Frame[] = [];
  readonly #waiters: Array<(f: Frame | null) => void> = [];
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    openSockets.add(ws);
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const w = this.#waiters.shift();
      if (w) w(frame);
      else this.#queue.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code) => {
        openSockets.delete(ws);
        this.closeCode = code;
        for (const w of this.#waiters.splice(0)) w(null);
        resolve(code);
      }),
    );
  }

  get isOpen(): boolean {
    return this.closeCode === null && this.ws.readyState === WebSocket.OPEN;
  }

  /** The next frame, or null once the socket closed (or after `ms`). */
  next(ms = 5000): Promise<Frame | null> {
    const f = this.#queue.shift();
    if (f) return Promise.resolve(f);
    if (this.closeCode !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(null);
      }, ms);
      const done = (frame: Frame | null) => {
        clearTimeout(t);
        resolve(frame);
      };
      this.#waiters.push(done);
    });
  }

  /** Sends a request; its response, or null when the connection closed first. */
  async request(method: string, params?: unknown, ms = 10_000): Promise<Frame | null> {
    if (!this.isOpen) return null;
    const id = `m${++reqCounter}`;
    this.ws.send(JSON.stringify({ type: "req", id, method, ...(params !== undefined ? { params } : {}) }));
    const deadline = Date.now() + ms;
    for (;;) {
      const f = await awaiting(`${method} reply`, this.next(Math.max(1, deadline - Date.now())));
      if (f === null) {
        if (this.closeCode !== null) return null;
        throw new Error(`no response to ${method} within ${ms} ms`);
      }
      if (f.type === "res" && f.id === id) return f;
    }
  }

  /** Resolves true once closed, false if still open after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.closeCode !== null) return true;
    return !timedOut(await awaiting("a connection's close", within(this.closed, ms)));
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

let remoteCounter = 0;

/** The upgrade, and then the connect reply, each take at most this long. */
const CONNECT_MS = 10_000;

/**
 * Opens a socket from a fresh loopback address and sends one connect; the reply and the connection.
 * `remote`: the socket carries `X-Forwarded-For` naming a documentation address, as a proxy on this
 * host would — and the gateway trusts no proxy here, so the connection is not direct-local.
 */
export async function connect(
  url: string,
  o: ConnectOptions,
  remote = false,
): Promise<{ res: Frame; conn: Conn }> {
  const n = remoteCounter++;
  const headers = remote ? { "X-Forwarded-For": `203.0.113.${(n % 254) + 1}` } : undefined;
  const from = freshLoopback();
  // The upgrade is bounded too: without a handshake timeout, a gateway that never answers it would
  // hold the step for ever.
  const ws = new WebSocket(url, {
    localAddress: from,
    handshakeTimeout: CONNECT_MS,
    ...(headers ? { headers } : {}),
  });
  const conn = new Conn(ws);
  await awaiting(
    `the upgrade from ${from}`,
    new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    }),
  );
  const challenge = await awaiting(`the challenge on ${from}`, conn.next());
  if (challenge?.event !== "connect.challenge" || !challenge.payload?.nonce) {
    conn.close();
    throw new Error(`no challenge: ${JSON.stringify(challenge)}`);
  }
  const id = `c${++reqCounter}`;
  // Signed at the gateway's time (its challenge says it), as a client whose clock agrees would:
  // the test moves the gateway's clock, and a signature is checked against it.
  const signed = { signedAt: Number(challenge.payload.ts), ...o };
  ws.send(
    JSON.stringify({
      type: "req",
      id,
      method: "connect",
      params: connectParams(challenge.payload.nonce, signed),
    }),
  );
  const deadline = Date.now() + CONNECT_MS;
  for (;;) {
    const left = deadline - Date.now();
    const res = left > 0 ? await awaiting(`the connect reply on ${from}`, conn.next(left)) : null;
    if (res === null) {
      conn.close();
      throw new Error(
        conn.closeCode === null
          ? `no connect reply within ${CONNECT_MS} ms`
          : `connection closed before the connect reply (${conn.closeCode})`,
      );
    }
    if (res.type === "res" && res.id === id) {
      if (!res.ok) conn.close();
      return { res, conn };
    }
  }
}

/** What `hello-ok` says about the session it opened. */
export function helloAuth(res: Frame): { method: string; scopes: string[]; deviceToken?: string } {
  return (res.payload as { auth: { method: string; scopes: string[]; deviceToken?: string } }).auth;
}

/** How long a gateway may take to exit after SIGTERM: its sessions' kill grace is 3 s, its sockets' 2 s. */
export const STOP_GRACE_MS = 20_000;
/** A process killed with SIGKILL is gone within this (else something is badly wrong with the host). */
const KILL_MS = 5000;
/** The gateway's last log lines kept for the report of a hang. */
const LOG_TAIL = 30;

/** A running clock-gateway process: its URL and its JSON log lines as they come. */
interface ClockProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the first log line (parsed) that `match` accepts from now on. */
  waitFor(match: (rec: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>>;
  /**
   * SIGTERM, then waits `graceMs` for the exit: null when it exited, else what the gateway and its
   * processes were doing (and then they are killed).
   */
  stop(graceMs: number): Promise<string | null>;
  /** SIGKILL to the gateway and every process below it; resolves once the gateway is gone. */
  kill(): Promise<void>;
  /** Its state, its process tree and its last log lines, for the report of a hang. */
  diagnose(): string;
}

/** Starts clock-gateway.js on `stateDir` with the clock `offsetMs` ahead; resolves once it listens. */
async function spawnClockGateway(
  stateDir: string,
  offsetMs: number,
  env: NodeJS.ProcessEnv,
  startTimeoutMs: number,
): Promise<ClockProcess> {
  const child = spawn(process.execPath, [CLOCK_GATEWAY, stateDir, String(offsetMs)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const log: string[] = [];
  const waiters = new Set<(rec: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    log.push(line);
    if (log.length > LOG_TAIL) log.shift();
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const w of [...waiters]) w(rec);
  });
  const waitFor = (match: (rec: Record<string, unknown>) => boolean, ms: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`the gateway did not log what was awaited within ${ms} ms: ${stderr}`));
      }, ms);
      const w = (rec: Record<string, unknown>) => {
        if (!match(rec)) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(rec);
      };
      waiters.add(w);
      void exited.then((code) => {
        if (!waiters.has(w)) return;
        clearTimeout(timer);
        waiters.delete(w);
        reject(new Error(`the gateway exited (${code}): ${stderr}`));
      });
    });
  const pid = child.pid!;
  const diagnose = () =>
    [
      `  gateway pid ${pid}: ${gone() ? `exited (code ${child.exitCode}, signal ${child.signalCode})` : "running"}`,
      `  its processes (pid ppid state command):`,
      ...describeProcesses([pid, ...descendantsOf(pid)]).map((l) => `    ${l}`),
      `  its last ${log.length} log lines:`,
      ...log.map((l) => `    ${l}`),
      ...(stderr.trim()
        ? [
            `  its stderr:`,
            ...stderr
              .trimEnd()
              .split("\n")
              .slice(-10)
              .map((l) => `    ${l}`),
          ]
        : []),
    ].join("\n");
  const kill = async () => {
    killProcesses([...descendantsOf(pid), ...(gone() ? [] : [pid])]);
    if (!gone() && timedOut(await within(exited, KILL_MS)))
      throw new Error(`the gateway (pid ${pid}) was still there ${KILL_MS} ms after SIGKILL`);
  };
  let listening;
  try {
    listening = await awaiting(
      `the gateway (pid ${pid}) starting`,
      waitFor((r) => r.event === "gateway listening", startTimeoutMs),
    );
  } catch (err) {
    await kill();
    throw err;
  }
  const urls = listening.urls as string[];
  return {
    url: urls.find((u) => u.includes("127.0.0.1")) ?? urls[0]!,
    child,
    waitFor,
    stop: async (graceMs) => {
      if (!gone()) child.kill("SIGTERM");
      const ended = await awaiting(`the gateway (pid ${pid}) exiting after SIGTERM`, within(exited, graceMs));
      if (!timedOut(ended)) return null;
      const report = `the gateway did not exit within ${graceMs / 1000} s of SIGTERM\n${diagnose()}`;
      await kill();
      return report;
    },
    kill,
    diagnose,
  };
}

/**
 * A gateway on a state dir that outlives its process, run by the test entry point clock-gateway.js
 * (`gateway run`'s assembly with a clock the test moves): `restart()` stops it with SIGTERM and
 * starts it again, `crash()` kills it with SIGKILL and starts it again, `advance(ms)` moves its
 * clock forward; a restart keeps the clock where it was moved to.
 */
export class GatewayUnderTest {
  /** Every gateway started and not yet disposed of: what a sequence abandoned is found here. */
  static readonly #live = new Set<GatewayUnderTest>();
  /** Bumped by killAll(): a gateway of an earlier epoch that is still being started is killed. */
  static #currentEpoch = 0;
  readonly #epoch = GatewayUnderTest.#currentEpoch;
  #proc: ClockProcess | null = null;
  /** How far the gateway's clock runs ahead of this process's. */
  #offsetMs = 0;
  owner!: DeviceIdentity;
  /** A directory every sandboxed child may write (they see only their cwd). */
  readonly workDir: string;

  constructor(readonly stateDir: string) {
    this.workDir = mkdtempSync(join(tmpdir(), "gatehouse-model-work-"));
    chmodSync(this.workDir, 0o777);
  }

  static async start(): Promise<GatewayUnderTest> {
    const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-model-"));
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      join(stateDir, "gatehouse.json"),
      JSON.stringify({
        gateway: {
          auth: { mode: "token", token: MODEL_TOKEN },
          // Every new device waits for an approval, also on loopback: the model decides them.
          pairing: { autoApproveLocal: false },
        },
      }),
    );
    const gw = new GatewayUnderTest(stateDir);
    GatewayUnderTest.#live.add(gw);
    try {
      await gw.#launch();
      gw.owner = loadIdentity(join(stateDir, "identity", "device.json"));
    } catch (err) {
      await gw.#remove();
      throw err;
    }
    return gw;
  }

  /**
   * Kills every gateway not disposed of — what a sequence abandoned when it hung, or when the time
   * limit ended it — with everything they started, and removes their directories.
   */
  static async killAll(): Promise<number> {
    GatewayUnderTest.#currentEpoch++;
    const left = [...GatewayUnderTest.#live];
    for (const gw of left) await gw.#remove();
    return left.length;
  }

  get url(): string {
    if (!this.#proc) throw new Error("the gateway is not running");
    return this.#proc.url;
  }

  /** The gateway's time now. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the gateway's clock `ms` forward; resolves once the gateway says it did. */
  async advance(ms: number): Promise<void> {
    const proc = this.#proc;
    if (!proc) throw new Error("the gateway is not running");
    const total = this.#offsetMs + ms;
    const done = proc.waitFor((r) => r.event === "clock advanced" && r.offsetMs === total, 10_000);
    proc.child.stdin!.write(`advance ${ms}\n`);
    await awaiting("the gateway moving its clock", done);
    this.#offsetMs = total;
  }

  async #launch(): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    for (const k of Object.keys(process.env)) if (k.startsWith("GATEHOUSE_")) env[k] = undefined;
    // A loaded machine (the whole suite runs beside this) can take long to start a process.
    const proc = await spawnClockGateway(
      this.stateDir,
      this.#offsetMs,
      { ...env, GATEHOUSE_NO_COMMAND_SHIM: "1" },
      60_000,
    );
    if (this.#epoch !== GatewayUnderTest.#currentEpoch) {
      // Its sequence was abandoned (and everything of it killed) while this one was starting.
      await proc.kill();
      throw new Error("the sequence was abandoned while its gateway was starting");
    }
    this.#proc = proc;
  }

  /** SIGTERM, wait for the exit (a gateway that does not stop fails the step), start again. */
  async restart(): Promise<void> {
    const problem = await this.#proc?.stop(STOP_GRACE_MS);
    this.#proc = null;
    if (problem) throw new Error(problem);
    await this.#launch();
  }

  /** SIGKILL (no shutdown at all), then start again on the same state dir. */
  async crash(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (proc) {
      const exited = new Promise((r) => proc.child.once("exit", r));
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill("SIGKILL");
        if (timedOut(await awaiting("the gateway dying of SIGKILL", within(exited, KILL_MS))))
          throw new Error(`the gateway was still there ${KILL_MS} ms after SIGKILL`);
      }
    }
    await this.#launch();
  }

  /** The gateway's process id, while it runs. */
  get pid(): number | null {
    return this.#proc?.child.pid ?? null;
  }

  /** The gateway's state, process tree and last log lines (for the report of a hang). */
  diagnose(): string {
    return this.#proc ? this.#proc.diagnose() : "  the gateway is not running (between a stop and a start)";
  }

  /**
   * Kills the gateway and every process it started (also those its sessions left behind, found by
   * this gateway's work directory on their command line), at once and without a shutdown.
   */
  async abort(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    killProcesses(processesWith(this.workDir));
    await proc?.kill();
  }

  /**
   * Stops the gateway (SIGTERM, bounded: one that does not exit in time is killed) and removes its
   * directories. Returns what went wrong with the stop, or null. Processes its sessions left
   * behind are killed (and counted in `leftBehind`): a session's process must not outlive it, but
   * that is the session steps' to check, not the clean-up's.
   */
  async dispose(graceMs = STOP_GRACE_MS): Promise<{ problem: string | null; leftBehind: number }> {
    const problem = (await this.#proc?.stop(graceMs)) ?? null;
    this.#proc = null;
    const left = processesWith(this.workDir);
    killProcesses(left);
    await this.#remove();
    return { problem, leftBehind: left.length };
  }

  async #remove(): Promise<void> {
    try {
      await this.abort();
    } finally {
      GatewayUnderTest.#live.delete(this);
      rmSync(this.stateDir, { recursive: true, force: true });
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Pids of processes whose command line contains `needle`. */
export function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join("/proc", entry, "cmdline"), "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Pid → parent pid and state, of every process now. */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(join("/proc", entry, "stat"), "utf8");
      const [state = "?", ppid = "0"] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(entry), { ppid: Number(ppid), state });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Every process below `pid` (children, their children, …), parents first. */
export function descendantsOf(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [p, { ppid }] of table) {
      if (ppid === parent && !out.includes(p)) {
        out.push(p);
        queue.push(p);
      }
    }
  }
  return out;
}

/** "pid ppid state command" of each process still there. */
function describeProcesses(pids: readonly number[]): string[] {
  const table = processTable();
  return pids.flatMap((p) => {
    const row = table.get(p);
    if (!row) return [];
    let cmd = "";
    try {
      cmd = readFileSync(join("/proc", String(p), "cmdline"), "utf8")
        .split("\0")
        .join(" ")
        .trim();
    } catch {
      // gone meanwhile
    }
    return [`${p} ${row.ppid} ${row.state} ${cmd.length > 160 ? `${cmd.slice(0, 160)}…` : cmd}`];
  });
}

function killProcesses(pids: readonly number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}
