/**
 * Numbered schema migrations, tracked in `PRAGMA user_version`. A migration is never edited once
 * released: a change is a new entry at the end, so every store reaches the same schema by the
 * same steps.
 */
import type Database from "better-sqlite3";
import { newerSchema } from "./errors.js";

/** One schema step; `up` runs inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** `PRAGMA application_id` of a Gatehouse store ("GATE"), so another program's database is refused. */
export const GATEHOUSE_APPLICATION_ID = 0x47415445;

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "pairing store: devices, device tokens, pending requests, audit log",
    up(db) {
      db.exec(`
        CREATE TABLE devices (
          device_id TEXT PRIMARY KEY,
          public_key TEXT NOT NULL,
          display_name TEXT,
          label TEXT,
          client_id TEXT,
          client_mode TEXT,
          platform TEXT,
          device_family TEXT,
          roles_json TEXT NOT NULL,
          scopes_json TEXT NOT NULL,
          approved_via TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          approved_at_ms INTEGER NOT NULL,
          last_seen_at_ms INTEGER,
          last_seen_ip TEXT
        );
        CREATE TABLE device_tokens (
          device_id TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
          role TEXT NOT NULL,
          token_hash TEXT NOT NULL,
          scopes_json TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          rotated_at_ms INTEGER,
          revoked_at_ms INTEGER,
          last_used_at_ms INTEGER,
          PRIMARY KEY (device_id, role)
        );
        CREATE TABLE pending_requests (
          request_id TEXT PRIMARY KEY,
          device_id TEXT NOT NULL UNIQUE,
          public_key TEXT NOT NULL,
          reason TEXT NOT NULL,
          roles_json TEXT NOT NULL,
          scopes_json TEXT NOT NULL,
          display_name TEXT,
          client_id TEXT,
          client_mode TEXT,
          platform TEXT,
          device_family TEXT,
          remote_ip TEXT,
          is_repair INTEGER NOT NULL,
          created_at_ms INTEGER NOT NULL,
          refreshed_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER NOT NULL
        );
        CREATE INDEX pending_requests_remote_ip ON pending_requests (remote_ip, expires_at_ms);
        CREATE INDEX pending_requests_expires_at ON pending_requests (expires_at_ms);
        CREATE TABLE audit_log (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          ts_ms INTEGER NOT NULL,
          kind TEXT NOT NULL,
          decision TEXT NOT NULL,
          reason TEXT,
          device_id TEXT,
          request_id TEXT,
          peer TEXT,
          client TEXT,
          role TEXT,
          scopes_json TEXT,
          trace_json TEXT,
          actor TEXT
        );
        CREATE INDEX audit_log_device_id ON audit_log (device_id);
      `);
      db.pragma(`application_id = ${GATEHOUSE_APPLICATION_ID}`);
    },
  },
  {
    version: 2,
    name: "work the gateway runs: runtime tokens, sessions (sub-agents), cron jobs",
    up(db) {
      db.exec(`
        CREATE TABLE runtime_tokens (
          token_hash TEXT PRIMARY KEY,
          job_id TEXT NOT NULL,
          scopes_json TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER NOT NULL,
          revoked_at_ms INTEGER
        );
        CREATE INDEX runtime_tokens_job_id ON runtime_tokens (job_id);
        CREATE INDEX runtime_tokens_expires_at ON runtime_tokens (expires_at_ms);
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          label TEXT,
          command_json TEXT NOT NULL,
          cwd TEXT,
          scopes_json TEXT NOT NULL,
          parent_session_id TEXT,
          cron_job_id TEXT,
          created_by TEXT NOT NULL,
          status TEXT NOT NULL,
          exit_code INTEGER,
          signal TEXT,
          pid INTEGER,
          started_at_ms INTEGER NOT NULL,
          ended_at_ms INTEGER,
          stdout_tail TEXT,
          stderr_tail TEXT
        );
        CREATE INDEX sessions_status ON sessions (status);
        CREATE INDEX sessions_started_at ON sessions (started_at_ms);
        CREATE INDEX sessions_cron_job_id ON sessions (cron_job_id);
        CREATE TABLE cron_jobs (
          id TEXT PRIMARY KEY,
          name TEXT,
          schedule TEXT NOT NULL,
          timezone TEXT,
          command_json TEXT NOT NULL,
          cwd TEXT,
          scopes_json TEXT NOT NULL,
          created_by TEXT NOT NULL,
          creator_scopes_json TEXT NOT NULL,
          enabled INTEGER NOT NULL,
          missed_policy TEXT NOT NULL,
          timeout_ms INTEGER,
          last_run_at_ms INTEGER,
          last_session_id TEXT,
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 3,
    name: "setup codes: single-use pairing codes, stored as hashes",
    up(db) {
      db.exec(`
        CREATE TABLE setup_codes (
          code_hash TEXT PRIMARY KEY,
          profile TEXT NOT NULL,
          roles_json TEXT NOT NULL,
          scopes_json TEXT NOT NULL,
          gateway_url TEXT,
          fingerprint TEXT,
          created_by TEXT,
          created_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER NOT NULL,
          used_at_ms INTEGER,
          used_by_device TEXT
        );
        CREATE INDEX setup_codes_expires_at ON setup_codes (expires_at_ms);
      `);
    },
  },
  {
    version: 4,
    name: "authority chain: whose device each session, runtime token and cron job rests on",
    up(db) {
      db.exec(`
        ALTER TABLE sessions ADD COLUMN authority_device_id TEXT;
        ALTER TABLE sessions ADD COLUMN end_reason TEXT;
        CREATE INDEX sessions_authority_device_id ON sessions (authority_device_id);
        CREATE INDEX sessions_parent_session_id ON sessions (parent_session_id);
        ALTER TABLE runtime_tokens ADD COLUMN authority_device_id TEXT;
        CREATE INDEX runtime_tokens_authority_device_id ON runtime_tokens (authority_device_id);
        ALTER TABLE cron_jobs ADD COLUMN creator_device_id TEXT;
        ALTER TABLE cron_jobs ADD COLUMN disabled_reason TEXT;
        CREATE INDEX cron_jobs_creator_device_id ON cron_jobs (creator_device_id);
      `);
      // What older rows say about their creator: a device actor names the device it rested on.
      db.exec(`
        UPDATE sessions SET authority_device_id = substr(created_by, 8) WHERE created_by LIKE 'device:%';
        UPDATE cron_jobs SET creator_device_id = substr(created_by, 8) WHERE created_by LIKE 'device:%';
      `);
    },
  },
  {
    version: 5,
    name: "node command surfaces: the pinned surface, its pending widening, the commands a node request declared",
    up(db) {
      // A surface belongs to its device record: unpairing the device drops it (ON DELETE CASCADE).
      db.exec(`
        CREATE TABLE node_surfaces (
          device_id TEXT PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
          commands_json TEXT NOT NULL,
          approved_via TEXT NOT NULL,
          approved_by TEXT,
          created_at_ms INTEGER NOT NULL,
          approved_at_ms INTEGER NOT NULL
        );
        CREATE TABLE node_surface_requests (
          request_id TEXT PRIMARY KEY,
          device_id TEXT NOT NULL UNIQUE REFERENCES devices(device_id) ON DELETE CASCADE,
          commands_json TEXT NOT NULL,
          display_name TEXT,
          client_id TEXT,
          client_mode TEXT,
          platform TEXT,
          device_family TEXT,
          version TEXT,
          remote_ip TEXT,
          created_at_ms INTEGER NOT NULL,
          refreshed_at_ms INTEGER NOT NULL
        );
        ALTER TABLE pending_requests ADD COLUMN commands_json TEXT;
      `);
    },
  },
  {
    version: 6,
    name: "pending requests remember the browser Origin they were made from",
    up(db) {
      // Older requests were made before anyone looked: their origin is unknown (NULL), not "none".
      db.exec("ALTER TABLE pending_requests ADD COLUMN browser_origin TEXT;");
    },
  },
];

/** The schema version this build creates and understands. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the database to {@link LATEST_SCHEMA_VERSION}; returns the version it ended at. Runs in
 * one IMMEDIATE transaction and re-reads the version inside it, so two processes opening a fresh
 * store at once migrate it exactly once.
 */
export function migrate(db: Database.Database, path: string): number {
  const steps = [...MIGRATIONS].sort((a, b) => a.version - b.version);
  return db
    .transaction(() => {
      const current = userVersion(db);
      if (current > LATEST_SCHEMA_VERSION) throw newerSchema(path, current, LATEST_SCHEMA_VERSION);
      for (const step of steps) {
        if (step.version <= current) continue;
        step.up(db);
        // PRAGMA takes no bound parameters; the version is an integer from the list above.
        db.pragma(`user_version = ${Math.trunc(step.version)}`);
      }
      return userVersion(db);
    })
    .immediate();
}

/** `PRAGMA user_version` as a number. */
export function userVersion(db: Database.Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}
