/**
 * Reading an OpenClaw state dir for `gatehouse import openclaw`: the legacy JSON files
 * (`identity/device.json`, `devices/paired.json` keyed by deviceId, `devices/pending.json`) and the
 * newer SQLite store (`state/openclaw.sqlite`, opened read-only, never written). Paired devices are
 * turned into the legacy camelCase shape and imported through {@link importLegacyPaired}, one
 * transaction each: a malformed record is reported and skipped, never half-written.
 *
 * The SQLite DDL is not published (reference §10 q5), so columns are read defensively: every
 * column present is taken, `snake_case` becomes `camelCase`, `*_json` columns are parsed, and
 * absent columns are simply absent.
 */
import Database from "better-sqlite3";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePublicKeyBytes, deviceIdFromRawKey } from "../identity/keys.js";
import { isGatewayRole } from "../protocol/client-info.js";
import type { Store } from "./db.js";
import type { ImportedToken } from "./tokens.js";
import { importLegacyPaired, normalizeLegacyPaired } from "./legacy.js";

/** Where each part of an OpenClaw state dir lives, relative to it. */
export const OPENCLAW_FILES = {
  identity: "identity/device.json",
  clientTokens: "identity/device-auth.json",
  paired: "devices/paired.json",
  pending: "devices/pending.json",
  sqlite: "state/openclaw.sqlite",
} as const;

export type OpenClawSource = "devices/paired.json" | "state/openclaw.sqlite";

/** One paired-device record as found, in OpenClaw's legacy shape, or why it could not be read. */
export interface OpenClawRecord {
  source: OpenClawSource;
  /** The deviceId it was keyed under (JSON), or `row <rowid>` / its device_id (SQLite). */
  key: string;
  raw: Record<string, unknown> | null;
  error: string | null;
}

/** Everything found in an OpenClaw state dir. */
export interface OpenClawState {
  stateDir: string;
  /** Which sources exist. */
  found: Record<keyof typeof OPENCLAW_FILES, boolean>;
  /** OpenClaw's own identity: reported, never adopted as this gateway's owner. */
  identity: { deviceId: string; source: string } | { error: string; source: string } | null;
  paired: OpenClawRecord[];
  /** Pending requests found (transient: not imported). */
  pending: number;
  /** Client-side device tokens OpenClaw's own CLI kept (not imported). */
  clientTokens: number;
  /** Problems with a whole file or table; the other sources are still read. */
  problems: string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** `device_family` → `deviceFamily`. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Columns that may hold a whole record as JSON; their fields are the base the other columns override. */
const WHOLE_RECORD_COLUMNS = new Set([
  "json",
  "data_json",
  "record_json",
  "value_json",
  "device_json",
  "payload_json",
]);

/** A `device_pairing_paired` row in the legacy camelCase shape; a `*_json` column that does not parse is an error. */
export function rowToLegacy(row: Json): { raw: Json } | { error: string } {
  const base: Json = {};
  const fields: Json = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    if (column.endsWith("_json") || column === "json") {
      if (typeof value !== "string") return { error: `column ${column} is not JSON text` };
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return { error: `column ${column} is not valid JSON` };
      }
      if (WHOLE_RECORD_COLUMNS.has(column)) {
        if (isObject(parsed)) Object.assign(base, parsed);
        continue;
      }
      fields[camel(column.slice(0, -"_json".length))] = parsed;
      continue;
    }
    fields[camel(column)] = typeof value === "bigint" ? Number(value) : value;
  }
  return { raw: { ...base, ...fields } };
}

function readJsonFile(path: string): { value: unknown } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return { error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  try {
    return { value: JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text) as unknown };
  } catch {
    // The text may hold tokens: never echo it.
    return { error: `${path} is not valid JSON` };
  }
}

/** `devices/paired.json`: an object keyed by deviceId (or, in some old stores, an array). */
function readPairedJson(path: string, problems: string[]): OpenClawRecord[] {
  const read = readJsonFile(path);
  if ("error" in read) {
    problems.push(read.error);
    return [];
  }
  const source: OpenClawSource = "devices/paired.json";
  if (!Array.isArray(read.value) && !isObject(read.value)) {
    problems.push(`${path} holds neither an object keyed by deviceId nor a list of devices`);
    return [];
  }
  const entries: Array<[string, unknown]> = Array.isArray(read.value)
    ? read.value.map((v, i) => [isObject(v) && typeof v.deviceId === "string" ? v.deviceId : `[${i}]`, v])
    : Object.entries(read.value);
  return entries.map(([key, value]): OpenClawRecord => {
    if (!isObject(value)) return { source, key, raw: null, error: `entry ${key} is not a JSON object` };
    const claimed = value.deviceId;
    if (claimed !== undefined && claimed !== key && !key.startsWith("[")) {
      return {
        source,
        key,
        raw: null,
        error: `entry keyed ${key} names another deviceId (${String(claimed)})`,
      };
    }
    return { source, key, raw: { deviceId: key, ...value }, error: null };
  });
}

function countJsonEntries(path: string, problems: string[]): number {
  const read = readJsonFile(path);
  if ("error" in read) {
    problems.push(read.error);
    return 0;
  }
  if (Array.isArray(read.value)) return read.value.length;
  return isObject(read.value) ? Object.keys(read.value).length : 0;
}

/** The deviceId of an identity given as a PEM or raw public key, or null. */
function identityDeviceId(publicKey: unknown): string | null {
  if (typeof publicKey !== "string") return null;
  const bytes = decodePublicKeyBytes(publicKey);
  return bytes && bytes.length === 32 ? deviceIdFromRawKey(bytes) : null;
}

function tableExists(db: Database.Database, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** Reads the SQLite store read-only: paired rows, pending count, identity, client tokens. */
function readSqlite(path: string, state: OpenClawState): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    db.pragma("query_only = ON");
    const source: OpenClawSource = "state/openclaw.sqlite";
    if (tableExists(db, "device_pairing_paired")) {
      const rows = db.prepare("SELECT rowid AS __rowid, * FROM device_pairing_paired").all() as Json[];
      for (const { __rowid, ...row } of rows) {
        const key = typeof row.device_id === "string" ? row.device_id : `row ${String(__rowid)}`;
        const mapped = rowToLegacy(row);
        state.paired.push(
          "error" in mapped
            ? { source, key, raw: null, error: mapped.error }
            : { source, key, raw: mapped.raw, error: null },
        );
      }
    } else {
      state.problems.push(`${path} has no device_pairing_paired table (nothing paired there)`);
    }
    if (tableExists(db, "device_pairing_pending")) {
      state.pending += (
        db.prepare("SELECT COUNT(*) AS n FROM device_pairing_pending").get() as { n: number }
      ).n;
    }
    if (tableExists(db, "device_auth_tokens")) {
      state.clientTokens += (
        db.prepare("SELECT COUNT(*) AS n FROM device_auth_tokens").get() as { n: number }
      ).n;
    }
    if (state.identity === null && tableExists(db, "device_identities")) {
      const rows = (db.prepare("SELECT * FROM device_identities").all() as Json[]).map((r) => {
        const mapped = rowToLegacy(r);
        return "raw" in mapped ? mapped.raw : {};
      });
      const primary = rows.find((r) => r.identityKey === "primary") ?? rows[0];
      if (primary) {
        const id =
          identityDeviceId(primary.publicKeyPem ?? primary.publicKey) ??
          (typeof primary.deviceId === "string" ? primary.deviceId : null);
        state.identity = id
          ? { deviceId: id, source: `${OPENCLAW_FILES.sqlite} (device_identities)` }
          : { error: "no readable public key", source: `${OPENCLAW_FILES.sqlite} (device_identities)` };
      }
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    state.problems.push(
      `cannot read ${path}${code ? ` (${code})` : ""}: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    db?.close();
  }
}

/**
 * Reads everything importable from an OpenClaw state dir. A device in both the SQLite store and
 * `paired.json` is taken from SQLite (OpenClaw's own rule: the database wins over legacy files).
 */
export function readOpenClawState(stateDir: string): OpenClawState {
  const at = (rel: string) => join(stateDir, rel);
  const found = Object.fromEntries(
    Object.entries(OPENCLAW_FILES).map(([k, rel]) => [k, existsSync(at(rel))]),
  ) as OpenClawState["found"];
  const state: OpenClawState = {
    stateDir,
    found,
    identity: null,
    paired: [],
    pending: 0,
    clientTokens: 0,
    problems: [],
  };
  if (found.identity) {
    const read = readJsonFile(at(OPENCLAW_FILES.identity));
    const source = OPENCLAW_FILES.identity;
    if ("error" in read) state.identity = { error: read.error, source };
    else {
      const v = read.value;
      const id = isObject(v) ? identityDeviceId(v.publicKeyPem ?? v.publicKey) : null;
      state.identity = id ? { deviceId: id, source } : { error: "no readable public key", source };
    }
  }
  if (found.clientTokens) state.clientTokens += 1;
  if (found.sqlite) readSqlite(at(OPENCLAW_FILES.sqlite), state);
  if (found.paired) {
    const fromSqlite = new Set(state.paired.map((r) => r.key));
    for (const r of readPairedJson(at(OPENCLAW_FILES.paired), state.problems)) {
      if (!fromSqlite.has(r.key)) state.paired.push(r);
    }
  }
  if (found.pending) state.pending += countJsonEntries(at(OPENCLAW_FILES.pending), state.problems);
  return state;
}

/** A token as the import table shows it: never its value. */
export interface ImportTokenRow {
  role: string;
  /** `dropped`: bound to OpenClaw's shared-secret generation or to an unapproved role; re-issued on the next connect. */
  state: "active" | "revoked" | "dropped";
}

export type ImportStatus = "new" | "already-present" | "imported" | "error";

/** One line of the import table. */
export interface ImportRow {
  deviceId: string | null;
  name: string | null;
  source: OpenClawSource;
  roles: string[];
  scopes: string[];
  tokens: ImportTokenRow[];
  status: ImportStatus;
  error?: string;
  note?: string;
}

/** A planned row and the record it imports. */
export interface PlannedImport {
  row: ImportRow;
  raw: Json | null;
}

function nameOf(raw: Json | null): string | null {
  if (!raw) return null;
  for (const k of ["operatorLabel", "displayName", "clientId"]) {
    if (typeof raw[k] === "string" && raw[k] !== "") return raw[k];
  }
  return null;
}

function rawTokenRows(raw: Json | null): ImportTokenRow[] {
  if (!raw || !isObject(raw.tokens)) return [];
  return Object.entries(raw.tokens).map(([role, t]) => ({
    role,
    state: isObject(t) && typeof t.revokedAtMs === "number" ? "revoked" : "active",
  }));
}

/** What would be imported, compared with what `store` (null: no store yet) already holds. */
export function planOpenClawImport(
  state: OpenClawState,
  store: Store | null,
  nowMs: number,
): PlannedImport[] {
  return state.paired.map((rec): PlannedImport => {
    const base = { name: nameOf(rec.raw), source: rec.source };
    if (rec.error !== null || rec.raw === null) {
      return {
        raw: null,
        row: {
          ...base,
          deviceId: null,
          roles: [],
          scopes: [],
          tokens: [],
          status: "error",
          error: `${rec.key}: ${rec.error}`,
        },
      };
    }
    const normalized = normalizeLegacyPaired(rec.raw, nowMs);
    if (!normalized.ok) {
      return {
        raw: null,
        row: {
          ...base,
          deviceId: typeof rec.raw.deviceId === "string" ? rec.raw.deviceId : null,
          roles: [],
          scopes: [],
          tokens: rawTokenRows(rec.raw),
          status: "error",
          error: normalized.error,
        },
      };
    }
    const { device, tokens } = normalized;
    const kept = new Map<string, ImportedToken>(tokens.map((t) => [t.role, t]));
    const tokenRows = rawTokenRows(rec.raw).map((t): ImportTokenRow => {
      const k = kept.get(t.role);
      return { role: t.role, state: k ? (k.revokedAtMs !== null ? "revoked" : "active") : "dropped" };
    });
    const existing = store?.devices.get(device.deviceId) ?? null;
    const row: ImportRow = {
      ...base,
      deviceId: device.deviceId,
      roles: device.roles,
      scopes: device.scopes,
      tokens: tokenRows,
      status: existing ? "already-present" : "new",
    };
    if (existing && existing.publicKey !== device.publicKey) {
      row.note = "a different key is paired under this deviceId here; left alone";
    } else if (tokenRows.some((t) => t.state === "dropped")) {
      row.note =
        "dropped tokens are re-issued on the device's next connect with the shared secret (no re-pairing)";
    }
    return { row, raw: rec.raw };
  });
}

/** Audit actor of imported devices. */
export const IMPORT_ACTOR = "import-openclaw";

/**
 * Imports every `new` row: device and hashed tokens plus an audit row, one transaction per record.
 * A record that fails is reported on its row; the others are imported regardless.
 */
export function applyOpenClawImport(
  store: Store,
  plan: readonly PlannedImport[],
  nowMs: number,
): ImportRow[] {
  return plan.map(({ row, raw }): ImportRow => {
    if (row.status !== "new" || raw === null) return row;
    try {
      const result = store.transaction(() => {
        const r = importLegacyPaired(store, raw, nowMs);
        if (r.ok && r.imported) {
          store.audit.append(
            {
              kind: "import",
              decision: "imported",
              deviceId: r.deviceId,
              role: row.roles.filter(isGatewayRole),
              scopes: row.scopes,
              reason: `from OpenClaw ${row.source}`,
              actor: IMPORT_ACTOR,
            },
            nowMs,
          );
        }
        return r;
      });
      if (!result.ok) return { ...row, status: "error", error: result.error };
      return { ...row, status: result.imported ? "imported" : "already-present" };
    } catch (err) {
      return { ...row, status: "error", error: err instanceof Error ? err.message : String(err) };
    }
  });
}
