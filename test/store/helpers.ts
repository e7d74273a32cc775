/** Shared fixtures for store tests: temp state dirs and real device identities. */
import { after } from "node:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { generateIdentity } from "../../src/identity/keys.js";
import { GATEHOUSE_APPLICATION_ID, MIGRATIONS } from "../../src/store/migrations.js";
import type { CronJobRecord } from "../../src/store/cron.js";
import { openStore, type OpenStoreOptions, type Store } from "../../src/store/index.js";
import type { DeviceRecord } from "../../src/store/devices.js";
import type { PendingInput } from "../../src/store/pending.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-store-test-"));
  dirs.push(dir);
  return dir;
}

/** Opens a store at `<fresh temp dir>/state/gatehouse.sqlite`. */
export function freshStore(options?: OpenStoreOptions): { store: Store; path: string; dir: string } {
  const dir = tempDir();
  const path = join(dir, "state", "gatehouse.sqlite");
  return { store: openStore(path, options), path, dir };
}

/** A real Ed25519 identity's id and public key. */
export function identity(): { deviceId: string; publicKey: string } {
  const { deviceId, publicKey } = generateIdentity();
  return { deviceId, publicKey };
}

/** A complete device record for `id`, with overrides. */
export function deviceRecord(
  id: { deviceId: string; publicKey: string },
  overrides: Partial<DeviceRecord> = {},
): DeviceRecord {
  return {
    deviceId: id.deviceId,
    publicKey: id.publicKey,
    displayName: "test device",
    label: null,
    clientId: "cli",
    clientMode: "cli",
    platform: "linux",
    deviceFamily: null,
    roles: ["operator"],
    scopes: ["operator.read"],
    approvedVia: "approved",
    createdAtMs: 1_000,
    approvedAtMs: 1_000,
    lastSeenAtMs: null,
    lastSeenIp: null,
    ...overrides,
  };
}

/** What a connect asking for pairing would record. */
export function pendingInput(
  id: { deviceId: string; publicKey: string },
  overrides: Partial<PendingInput> = {},
): PendingInput {
  return {
    deviceId: id.deviceId,
    publicKey: id.publicKey,
    reason: "not-paired",
    roles: ["operator"],
    scopes: ["operator.read"],
    displayName: "phone",
    clientId: "openclaw-ios",
    clientMode: "ui",
    platform: "ios",
    deviceFamily: "iphone",
    remoteIp: "192.168.1.20",
    isRepair: false,
    ...overrides,
  };
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error, none was thrown");
}

/** A complete cron job resting on device `abc`, with overrides. */
export function cronJob(id: string, overrides: Partial<CronJobRecord> = {}): CronJobRecord {
  return {
    id,
    name: "nightly",
    schedule: "0 3 * * *",
    timezone: "Europe/Berlin",
    command: ["node", "job.js"],
    cwd: null,
    scopes: ["operator.read"],
    createdBy: "device:abc",
    creatorDeviceId: "abc",
    creatorScopes: ["operator.admin"],
    enabled: true,
    disabledReason: null,
    missedPolicy: "skip",
    timeoutMs: null,
    lastRunAtMs: null,
    lastSessionId: null,
    createdAtMs: 1_000,
    updatedAtMs: 1_000,
    ...overrides,
  };
}

/**
 * A store file exactly as an older release left it: migrations up to `version` applied, nothing
 * later; `fill` writes rows in that schema. Returns the path (open it with `openStore` to migrate).
 */
export function storeAtVersion(version: number, fill: (db: Database.Database) => void = () => {}): string {
  const dir = tempDir();
  mkdirSync(join(dir, "state"), { recursive: true });
  const path = join(dir, "state", "gatehouse.sqlite");
  const db = new Database(path);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) m.up(db);
  db.pragma(`application_id = ${GATEHOUSE_APPLICATION_ID}`);
  db.pragma(`user_version = ${version}`);
  fill(db);
  db.close();
  return path;
}
