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

/** One open (or closed) connection after its handshake. */
export class Conn {
  readonly #queue: Frame[] = [];
  readonly #waiters: Array<(f: Frame | null) => void> = [];
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const w = this.#waiters.shift();
      if (w) w(frame);
      else this.#queue.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code) => {
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
      const f = await this.next(Math.max(1, deadline - Date.now()));
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
    return Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
    ]);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

let remoteCounter = 0;

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
  const ws = new WebSocket(url, { localAddress: freshLoopback(), ...(headers ? { headers } : {}) });
  const conn = new Conn(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const challenge = await conn.next();
  if (challenge?.event !== "connect.challenge" || !challenge.payload?.nonce)
    throw new Error(`no challenge: ${JSON.stringify(challenge)}`);
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
  for (;;) {
    const res = await conn.next();
    if (res === null) throw new Error(`connection closed before the connect reply (${conn.closeCode})`);
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

/** A running clock-gateway process: its URL and its JSON log lines as they come. */
interface ClockProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the first log line (parsed) that `match` accepts from now on. */
  waitFor(match: (rec: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
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
  const waiters = new Set<(rec: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
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
  let listening;
  try {
    listening = await waitFor((r) => r.event === "gateway listening", startTimeoutMs);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  const urls = listening.urls as string[];
  return {
    url: urls.find((u) => u.includes("127.0.0.1")) ?? urls[0]!,
    child,
    waitFor,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/**
 * A gateway on a state dir that outlives its process, run by the test entry point clock-gateway.js
 * (`gateway run`'s assembly with a clock the test moves): `restart()` stops it with SIGTERM and
 * starts it again, `crash()` kills it with SIGKILL and starts it again, `advance(ms)` moves its
 * clock forward; a restart keeps the clock where it was moved to.
 */
export class GatewayUnderTest {
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
    await gw.#launch();
    gw.owner = loadIdentity(join(stateDir, "identity", "device.json"));
    return gw;
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
    await done;
    this.#offsetMs = total;
  }

  async #launch(): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    for (const k of Object.keys(process.env)) if (k.startsWith("GATEHOUSE_")) env[k] = undefined;
    // A loaded machine (the whole suite runs beside this) can take long to start a process.
    this.#proc = await spawnClockGateway(
      this.stateDir,
      this.#offsetMs,
      { ...env, GATEHOUSE_NO_COMMAND_SHIM: "1" },
      60_000,
    );
  }

  /** SIGTERM, wait for the exit, start again on the same state dir. */
  async restart(): Promise<void> {
    await this.#proc?.stop();
    await this.#launch();
  }

  /** SIGKILL (no shutdown at all), then start again on the same state dir. */
  async crash(): Promise<void> {
    const proc = this.#proc;
    if (proc && proc.child.exitCode === null) {
      const exited = new Promise((r) => proc.child.once("exit", r));
      proc.child.kill("SIGKILL");
      await exited;
    }
    await this.#launch();
  }

  async dispose(): Promise<void> {
    await this.#proc?.stop();
    this.#proc = null;
    rmSync(this.stateDir, { recursive: true, force: true });
    rmSync(this.workDir, { recursive: true, force: true });
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
