/**
 * One gateway per state dir. Two gateways on one store would each decide admissions from their own
 * view and fight over the same pending requests (S15), so the second one refuses to start and says
 * which process holds the lock. A lock left by a process that died is taken over.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { writeSecretJson } from "../util/secret-file.js";
import { StoreError } from "./errors.js";

/** What the lock file says, and whether that process is still running. */
export interface GatewayLockInfo {
  pid: number;
  startedAtMs: number;
  alive: boolean;
}

/** A held gateway lock. */
export interface GatewayLock {
  readonly path: string;
  /** Removes the lock file if it is still ours; safe to call more than once. */
  release(): void;
}

interface LockContent {
  pid: number;
  startedAtMs: number;
}

/** Lock files this process holds, by path: our own pid in a lock file is only alive if listed here. */
const held = new Map<string, LockContent>();

const MAX_ATTEMPTS = 8;

/** Takes the gateway lock for `stateDir`, or throws StoreError STORE_LOCKED naming the holder. */
export function acquireGatewayLock(stateDir: string): GatewayLock {
  const dir = resolve(stateDir);
  const lockPath = lockFilePath(dir);
  try {
    if (mkdirSync(join(dir, "state"), { recursive: true, mode: 0o700 }) !== undefined) {
      chmodSync(join(dir, "state"), 0o700);
    }
    const mine: LockContent = { pid: process.pid, startedAtMs: Date.now() };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // link(2) publishes a complete file and never overwrites: exactly one creator wins.
      if (writeSecretJson(lockPath, mine, "create")) {
        held.set(lockPath, mine);
        return handle(lockPath, mine);
      }
      const current = readLockFile(lockPath);
      if (current === null) continue;
      if (current.content && isAlive(current.content, lockPath)) {
        const { pid, startedAtMs } = current.content;
        throw new StoreError(
          "STORE_LOCKED",
          lockPath,
          `state dir ${dir} is in use by gatehouse gateway pid ${pid} (started ${new Date(startedAtMs).toISOString()}); ` +
            `stop that gateway first or use another state dir (if pid ${pid} is not a gatehouse gateway, remove ${lockPath}).`,
          { holderPid: pid },
        );
      }
      moveAsideIfStale(lockPath, current.ino);
    }
    throw new StoreError(
      "STORE_LOCKED",
      lockPath,
      `cannot take the gateway lock ${lockPath}: other processes keep replacing it; stop the other gatehouse processes and try again.`,
    );
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    throw new StoreError(
      code === "EACCES" || code === "EPERM" ? "STORE_UNREADABLE" : "STORE_WRITE_FAILED",
      lockPath,
      `cannot take the gateway lock ${lockPath} (${code}); make the state dir writable by the user running gatehouse.`,
      { cause: err },
    );
  }
}

/** The lock file's content and liveness, or null when there is no (readable, well-formed) lock. */
export function readGatewayLock(stateDir: string): GatewayLockInfo | null {
  const lockPath = lockFilePath(resolve(stateDir));
  let current: { content: LockContent | null } | null;
  try {
    current = readLockFile(lockPath);
  } catch {
    return null;
  }
  if (!current?.content) return null;
  return { ...current.content, alive: isAlive(current.content, lockPath) };
}

function lockFilePath(dir: string): string {
  return join(dir, "state", "gateway.lock");
}

function handle(lockPath: string, mine: LockContent): GatewayLock {
  let released = false;
  return {
    path: lockPath,
    release() {
      if (released) return;
      released = true;
      held.delete(lockPath);
      try {
        const current = readLockFile(lockPath);
        // A lock taken over after we were (wrongly) judged dead is not ours to remove.
        if (current?.content?.pid === mine.pid && current.content.startedAtMs === mine.startedAtMs) {
          unlinkSync(lockPath);
        }
      } catch {
        // Already gone, or unreadable: nothing of ours to remove.
      }
    },
  };
}

/** Content and inode of the lock file; null if it does not exist. Throws other fs errors. */
function readLockFile(lockPath: string): { content: LockContent | null; ino: number } | null {
  let fd: number;
  try {
    fd = openSync(lockPath, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    // Inode and text from one descriptor, so they describe the same file.
    const ino = fstatSync(fd).ino;
    return { content: parse(readFileSync(fd, "utf8")), ino };
  } finally {
    closeSync(fd);
  }
}

function parse(text: string): LockContent | null {
  try {
    const v = JSON.parse(text) as { pid?: unknown; startedAtMs?: unknown };
    if (typeof v.pid !== "number" || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    if (typeof v.startedAtMs !== "number" || !Number.isFinite(v.startedAtMs)) return null;
    if (Number.isNaN(new Date(v.startedAtMs).getTime())) return null;
    return { pid: v.pid, startedAtMs: v.startedAtMs };
  } catch {
    return null;
  }
}

function isAlive(content: LockContent, lockPath: string): boolean {
  // Our own pid in a lock we do not hold is an earlier run that reused it (pid 1 in a container).
  if (content.pid === process.pid) {
    const ours = held.get(lockPath);
    return ours !== undefined && ours.startedAtMs === content.startedAtMs;
  }
  try {
    process.kill(content.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes a stale lock file, but only the one judged stale (inode `staleIno`). Renaming first means
 * that of several processes taking over, one moves it and the others find it gone; if what we moved
 * turns out to be a newer lock (another process took over between our read and our rename), it is
 * linked back, which never overwrites. Only a third starter creating a lock in that instant could
 * still slip in.
 */
function moveAsideIfStale(lockPath: string, staleIno: number): void {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(6).toString("hex")}`;
  try {
    renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    if (statSync(aside).ino !== staleIno) {
      try {
        linkSync(aside, lockPath);
      } catch {
        // Someone created a lock meanwhile; theirs stands.
      }
    }
  } finally {
    unlinkSync(aside);
  }
}
