/**
 * OpenClaw state dirs built in tests, in both storage formats: legacy JSON files
 * (`devices/paired.json` keyed by deviceId, `devices/pending.json`, `identity/device.json`) and the
 * SQLite store (`state/openclaw.sqlite` with snake_case columns and `*_json` text columns).
 */
import Database from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";

const T0 = 1_760_000_000_000;

/** One fixture device: its identity, the record OpenClaw stored, and its tokens in cleartext. */
export interface FixtureDevice {
  name: string;
  identity: DeviceIdentity;
  record: Record<string, unknown>;
  /** Cleartext token per role, as the device itself keeps it. */
  tokens: Record<string, string>;
}

function token(): string {
  return generateIdentity().publicKey + "tok";
}

/** A legacy paired-device record for a fresh key. */
function device(
  name: string,
  fields: Record<string, unknown>,
  tokenEntries: Record<string, Record<string, unknown>> | null,
) {
  const identity = generateIdentity();
  const tokens: Record<string, string> = {};
  const record: Record<string, unknown> = {
    deviceId: identity.deviceId,
    publicKey: identity.publicKey,
    displayName: name,
    platform: "linux",
    clientId: "cli",
    clientMode: "cli",
    createdAtMs: T0,
    approvedAtMs: T0 + 1000,
    ...fields,
  };
  if (tokenEntries !== null) {
    const map: Record<string, unknown> = {};
    for (const [role, entry] of Object.entries(tokenEntries)) {
      tokens[role] = token();
      map[role] = { token: tokens[role], role, createdAtMs: T0 + 2000, ...entry };
    }
    record.tokens = map;
  }
  return { name, identity, record, tokens };
}

/** The catalogue of shapes an import must handle, plus one malformed record. */
export interface FixtureSet {
  /** `tokens: {}` and legacy `roles` (S05): no tokens, roles kept. */
  emptyTokens: FixtureDevice;
  /** A single legacy `role`, `approvedScopes`, one live token. */
  singleRole: FixtureDevice;
  /** `scopes` without `approvedScopes`. */
  scopesOnly: FixtureDevice;
  /** A revoked operator token: it must stay revoked. */
  revoked: FixtureDevice;
  /** The pre-2026.2.19 scope set (S08): admin, approvals, pairing; no read/write. */
  legacyAdmin: FixtureDevice;
  /** A token bound to OpenClaw's shared-secret generation: dropped, re-issued on next connect. */
  issuerBound: FixtureDevice;
  /** deviceId not derived from its key: refused whole. */
  malformed: FixtureDevice;
}

export function fixtureSet(): FixtureSet {
  const malformed = device("broken", {}, { operator: { scopes: ["operator.read"] } });
  malformed.record.deviceId = "0".repeat(64);
  return {
    emptyTokens: device(
      "empty-tokens",
      { role: "operator", roles: ["operator", "node"], scopes: ["operator.read"] },
      {},
    ),
    singleRole: device(
      "single-role",
      { role: "operator", approvedScopes: ["operator.read", "operator.write"] },
      { operator: { scopes: ["operator.read", "operator.write"] } },
    ),
    scopesOnly: device(
      "scopes-only",
      { role: "operator", scopes: ["operator.read"] },
      { operator: { scopes: ["operator.read"] } },
    ),
    revoked: device(
      "revoked",
      { role: "operator", scopes: ["operator.read"] },
      { operator: { scopes: ["operator.read"], revokedAtMs: T0 + 5000 } },
    ),
    legacyAdmin: device(
      "legacy-admin",
      { role: "operator", scopes: ["operator.admin", "operator.approvals", "operator.pairing"] },
      { operator: { scopes: ["operator.admin", "operator.approvals", "operator.pairing"] } },
    ),
    issuerBound: device(
      "issuer-bound",
      { role: "operator", scopes: ["operator.read"] },
      { operator: { scopes: ["operator.read"], issuer: { kind: "shared-gateway-auth", generation: 3 } } },
    ),
    malformed,
  };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2), { mode: 0o600 });
}

function identityFile(identity: DeviceIdentity): Record<string, unknown> {
  return {
    version: 1,
    deviceId: identity.deviceId,
    publicKeyPem: identity.publicKeyPem,
    privateKeyPem: identity.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAtMs: T0,
  };
}

/** Writes a ≤ 2026.3 (JSON files) OpenClaw state dir. */
export function writeJsonState(
  dir: string,
  devices: readonly FixtureDevice[],
  extra: { pending?: number; identity?: DeviceIdentity } = {},
): void {
  writeJson(
    join(dir, "devices", "paired.json"),
    Object.fromEntries(devices.map((d) => [d.record.deviceId as string, d.record])),
  );
  const pending: Record<string, unknown> = {};
  for (let i = 0; i < (extra.pending ?? 0); i++) {
    const id = generateIdentity();
    pending[`req-${i}`] = { requestId: `req-${i}`, deviceId: id.deviceId, publicKey: id.publicKey, ts: T0 };
  }
  writeJson(join(dir, "devices", "pending.json"), pending);
  if (extra.identity) writeJson(join(dir, "identity", "device.json"), identityFile(extra.identity));
}

/** The columns of `device_pairing_paired` as this fixture guesses them (the real DDL is unpublished). */
const PAIRED_DDL = `CREATE TABLE device_pairing_paired (
  device_id TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  display_name TEXT,
  operator_label TEXT,
  platform TEXT,
  device_family TEXT,
  client_id TEXT,
  client_mode TEXT,
  browser_origin TEXT,
  role TEXT,
  roles_json TEXT,
  scopes_json TEXT,
  approved_scopes_json TEXT,
  tokens_json TEXT,
  approved_via TEXT,
  node_surface_json TEXT,
  remote_ip TEXT,
  created_at_ms INTEGER NOT NULL,
  approved_at_ms INTEGER NOT NULL,
  last_seen_at_ms INTEGER,
  last_seen_reason TEXT
)`;

/** A legacy record as a `device_pairing_paired` row. */
export function toRow(r: Record<string, unknown>): Record<string, unknown> {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return {
    device_id: r.deviceId,
    public_key: r.publicKey,
    display_name: r.displayName ?? null,
    operator_label: r.operatorLabel ?? null,
    platform: r.platform ?? null,
    device_family: r.deviceFamily ?? null,
    client_id: r.clientId ?? null,
    client_mode: r.clientMode ?? null,
    browser_origin: null,
    role: r.role ?? null,
    roles_json: json(r.roles),
    scopes_json: json(r.scopes),
    approved_scopes_json: json(r.approvedScopes),
    tokens_json: json(r.tokens),
    approved_via: r.approvedVia ?? null,
    node_surface_json: null,
    remote_ip: r.remoteIp ?? null,
    created_at_ms: r.createdAtMs,
    approved_at_ms: r.approvedAtMs,
    last_seen_at_ms: null,
    last_seen_reason: null,
  };
}

/** Writes a 2026.6+ (SQLite) OpenClaw state dir; `rows` override or add raw rows (e.g. malformed JSON). */
export function writeSqliteState(
  dir: string,
  devices: readonly FixtureDevice[],
  extra: { pending?: number; identity?: DeviceIdentity; rows?: Array<Record<string, unknown>> } = {},
): string {
  mkdirSync(join(dir, "state"), { recursive: true });
  const path = join(dir, "state", "openclaw.sqlite");
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.exec(PAIRED_DDL);
    db.exec(
      "CREATE TABLE device_pairing_pending (request_id TEXT PRIMARY KEY, device_id TEXT, public_key TEXT, roles_json TEXT, scopes_json TEXT, ts INTEGER)",
    );
    db.exec(
      "CREATE TABLE device_identities (identity_key TEXT PRIMARY KEY, device_id TEXT, public_key_pem TEXT, private_key_pem TEXT, created_at_ms INTEGER)",
    );
    db.exec("CREATE TABLE device_auth_tokens (device_id TEXT, role TEXT, token TEXT, scopes_json TEXT)");
    const cols = [
      "device_id",
      "public_key",
      "display_name",
      "operator_label",
      "platform",
      "device_family",
      "client_id",
      "client_mode",
      "browser_origin",
      "role",
      "roles_json",
      "scopes_json",
      "approved_scopes_json",
      "tokens_json",
      "approved_via",
      "node_surface_json",
      "remote_ip",
      "created_at_ms",
      "approved_at_ms",
      "last_seen_at_ms",
      "last_seen_reason",
    ];
    const insert = db.prepare(
      `INSERT INTO device_pairing_paired (${cols.join(", ")}) VALUES (${cols.map((c) => `@${c}`).join(", ")})`,
    );
    for (const d of devices) insert.run(toRow(d.record));
    for (const row of extra.rows ?? []) insert.run(row);
    const pend = db.prepare("INSERT INTO device_pairing_pending VALUES (?, ?, ?, ?, ?, ?)");
    for (let i = 0; i < (extra.pending ?? 0); i++) {
      const id = generateIdentity();
      pend.run(`req-${i}`, id.deviceId, id.publicKey, '["operator"]', '["operator.read"]', T0);
    }
    if (extra.identity) {
      const f = identityFile(extra.identity);
      db.prepare("INSERT INTO device_identities VALUES ('primary', ?, ?, ?, ?)").run(
        extra.identity.deviceId,
        f.publicKeyPem,
        f.privateKeyPem,
        T0,
      );
    }
  } finally {
    db.close();
  }
  return path;
}
