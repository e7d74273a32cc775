/**
 * Opening the pairing store: one SQLite file in WAL mode, checked and migrated before anything
 * reads it. A store that cannot be trusted (corrupt, someone else's, newer, unreadable) stops the
 * open with a StoreError and is left exactly as it was: starting with an empty store would unpair
 * every device, or worse, hide that the real one is damaged (S15).
 */
import Database from "better-sqlite3";
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DEFAULT_AUDIT_MAX_ROWS, AuditLog } from "./audit.js";
import { createContext, type StoreContext } from "./context.js";
import { DeviceRepo } from "./devices.js";
import { DeviceStateRepo } from "./device-state.js";
import { CronRepo } from "./cron.js";
import { corruptStore, newerSchema, StoreError, toStoreError, unreadableStore } from "./errors.js";
import { GATEHOUSE_APPLICATION_ID, LATEST_SCHEMA_VERSION, migrate, userVersion } from "./migrations.js";
import { NodeSurfaceRepo } from "./node-surfaces.js";
import { PendingRepo } from "./pending.js";
import { RuntimeTokenRepo } from "./runtime-tokens.js";
import { SessionRepo } from "./sessions.js";
import { SetupCodeRepo } from "./setup-codes.js";
import { TokenRepo } from "./tokens.js";

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** Clock for callers that want one source of time (tests); defaults to `Date.now`. */
  now?: () => number;
  /** Bound on the audit table (default 10,000 rows). */
  auditMaxRows?: number;
  /** Bound on ended sessions kept (default 1,000; running ones are always kept). */
  sessionsKeepEnded?: number;
  /**
   * Open an existing store for reading only (a CLI beside a running gateway; WAL allows it): no
   * file creation, no migrations, no chmod. A newer, older or foreign schema is still refused.
   */
  readonly?: boolean;
}

const BUSY_TIMEOUT_MS = 5000;

/** An open pairing store. Create it with {@link openStore}; close it when done. */
export class Store {
  readonly path: string;
  /** Schema version after migrations. */
  readonly schemaVersion: number;
  readonly now: () => number;
  readonly devices: DeviceRepo;
  readonly tokens: TokenRepo;
  readonly pending: PendingRepo;
  /** A device's record, token slots and pending request in one read (what a connect needs). */
  readonly deviceState: DeviceStateRepo;
  readonly audit: AuditLog;
  readonly runtimeTokens: RuntimeTokenRepo;
  readonly sessions: SessionRepo;
  readonly cron: CronRepo;
  readonly setupCodes: SetupCodeRepo;
  readonly nodeSurfaces: NodeSurfaceRepo;
  readonly #db: Database.Database;
  readonly #ctx: StoreContext;

  /** Wraps an already checked and migrated connection; use {@link openStore} instead. */
  constructor(db: Database.Database, path: string, schemaVersion: number, options: OpenStoreOptions = {}) {
    this.#db = db;
    this.path = path;
    this.schemaVersion = schemaVersion;
    this.now = options.now ?? Date.now;
    this.#ctx = createContext(db, path);
    this.devices = new DeviceRepo(this.#ctx);
    this.tokens = new TokenRepo(this.#ctx);
    this.pending = new PendingRepo(this.#ctx);
    this.deviceState = new DeviceStateRepo(this.#ctx);
    this.audit = new AuditLog(this.#ctx, options.auditMaxRows ?? DEFAULT_AUDIT_MAX_ROWS);
    this.runtimeTokens = new RuntimeTokenRepo(this.#ctx);
    this.sessions = new SessionRepo(this.#ctx, options.sessionsKeepEnded);
    this.cron = new CronRepo(this.#ctx);
    this.setupCodes = new SetupCodeRepo(this.#ctx);
    this.nodeSurfaces = new NodeSurfaceRepo(this.#ctx);
  }

  /** Runs `fn` atomically (BEGIN IMMEDIATE; a savepoint when nested) and returns its result. */
  transaction<T>(fn: () => T): T {
    return this.#ctx.write(fn);
  }

  /** `PRAGMA integrity_check` lines; `["ok"]` when the file is sound. */
  integrityCheck(): string[] {
    const rows = this.#ctx.read(() => this.#db.pragma("integrity_check") as Array<Record<string, unknown>>);
    return pragmaLines(rows);
  }

  /** Closes the connection; further calls do nothing. */
  close(): void {
    if (!this.#db.open) return;
    try {
      this.#db.pragma("optimize");
    } catch {
      // Only a planner hint; closing matters more.
    }
    this.#db.close();
  }
}

/**
 * Opens (creating if absent) the store at `path`: directory 0700, files 0600, WAL, foreign keys,
 * integrity quick-check, migrations. Throws {@link StoreError} when the store cannot be used.
 */
export function openStore(path: string, options: OpenStoreOptions = {}): Store {
  const file = resolve(path);
  if (options.readonly) return openReadonly(file, options);
  prepareFile(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Everything up to the journal-mode switch only reads, so a file that is not ours is never written.
    checkIdentity(db, file);
    checkIntegrity(db, file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Skipping the write transaction when current lets the CLI open a store the gateway is using.
    const version = userVersion(db) < LATEST_SCHEMA_VERSION ? migrate(db, file) : userVersion(db);
    restrictModes(file);
    return new Store(db, file, version, options);
  } catch (err) {
    db?.close();
    throw toStoreError(err, file, "open");
  }
}

/** {@link openStore} with `readonly`: the schema must be exactly this build's, since nothing is migrated. */
function openReadonly(file: string, options: OpenStoreOptions): Store {
  if (!existsSync(file)) {
    throw new StoreError(
      "STORE_UNREADABLE",
      file,
      `state store ${file} does not exist (a read-only open creates nothing); start the gateway once to create it.`,
    );
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    checkIdentity(db, file);
    const version = userVersion(db);
    if (version < LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        "STORE_UNREADABLE",
        file,
        `state store ${file} has schema version ${version}, older than this Gatehouse's (${LATEST_SCHEMA_VERSION}), ` +
          "and a read-only open cannot migrate it; start the gateway once (it migrates the store), then try again.",
      );
    }
    return new Store(db, file, version, options);
  } catch (err) {
    db?.close();
    throw toStoreError(err, file, "open");
  }
}

function prepareFile(file: string): void {
  const dir = dirname(file);
  try {
    const firstCreated = mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; the store's directory must be 0700 whatever it is.
    if (firstCreated !== undefined) {
      for (let d = dir; ; d = dirname(d)) {
        chmodSync(d, 0o700);
        if (d === firstCreated || d === dirname(d)) break;
      }
    }
  } catch (err) {
    throw toStoreError(err, dir, "open");
  }
  try {
    closeSync(openSync(file, "wx", 0o600));
    chmodSync(file, 0o600);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw toStoreError(err, file, "open");
  }
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw unreadableStore(file, (err as NodeJS.ErrnoException).code ?? "access denied", err);
  }
}

function checkIdentity(db: Database.Database, file: string): void {
  // One read transaction for the three reads: another process may commit migration 1 (its
  // application id and first tables together) between them, and id 0 beside its tables would read
  // as a foreign database. The first read of page 1: SQLITE_NOTADB for a file that is not SQLite.
  const { appId, version, tables } = db.transaction(() => ({
    appId: Number(db.pragma("application_id", { simple: true })),
    version: userVersion(db),
    tables: (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get() as { n: number }).n,
  }))();
  if (appId !== 0 && appId !== GATEHOUSE_APPLICATION_ID) {
    throw corruptStore(file, `application_id 0x${appId.toString(16)} belongs to another program`);
  }
  if (appId === 0) {
    // Migration 1 sets the application id with the first tables; anything else is a foreign database.
    if (version !== 0 || tables > 0) throw corruptStore(file, "a SQLite database without Gatehouse's schema");
  }
  if (version > LATEST_SCHEMA_VERSION) throw newerSchema(file, version, LATEST_SCHEMA_VERSION);
}

/**
 * Page cache (KiB) while the quick-check reads the whole file. The check reads
 * every page once; in better-sqlite3's 16 MB cache those pages stayed resident for the process's
 * life, so a gateway's RSS after start grew with its store (+11 MB for a 10.9 MB store,
 * bench/README.md "The store's page cache after the start"). A small cache bounds that; the serving
 * cache is restored after, and fills only with the pages requests read.
 */
const CHECK_CACHE_KIB = 256;

function checkIntegrity(db: Database.Database, file: string): void {
  const servingCache = db.pragma("cache_size", { simple: true }) as number;
  db.pragma(`cache_size = -${CHECK_CACHE_KIB}`);
  let rows: Array<Record<string, unknown>>;
  try {
    rows = db.pragma("quick_check") as Array<Record<string, unknown>>;
  } finally {
    db.pragma(`cache_size = ${servingCache}`);
    // Lowering the size keeps up to that many of the check's pages; they are not the serving set.
    db.pragma("shrink_memory");
  }
  const lines = pragmaLines(rows);
  if (lines.length !== 1 || lines[0] !== "ok") {
    const more = lines.length > 3 ? `; ${lines.length - 3} more` : "";
    throw corruptStore(file, `quick_check: ${lines.slice(0, 3).join("; ")}${more}`);
  }
}

/** The text of a check pragma's rows, one entry per line (a row may hold several). */
function pragmaLines(rows: Array<Record<string, unknown>>): string[] {
  return rows.flatMap((row) => String(Object.values(row)[0]).split("\n")).filter((l) => l !== "");
}

function restrictModes(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch {
      // Absent (no WAL yet) or not ours to change; SQLite gives new ones the main file's mode.
    }
  }
}
