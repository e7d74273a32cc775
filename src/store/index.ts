/** The durable pairing store: the only layer that touches SQLite. */
export { approveDevice, approvePending, ensureOwner, OWNER_ROLES, type ApprovalInput } from "./approve.js";
export {
  AuditLog,
  DEFAULT_AUDIT_MAX_ROWS,
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
} from "./audit.js";
export { openStore, Store, type OpenStoreOptions } from "./db.js";
export { DeviceRepo, type ApprovedVia, type DeviceRecord } from "./devices.js";
export { StoreError, type StoreErrorCode } from "./errors.js";
export {
  importLegacyPaired,
  normalizeLegacyPaired,
  type LegacyImport,
  type LegacyNormalized,
} from "./legacy.js";
export { acquireGatewayLock, readGatewayLock, type GatewayLock, type GatewayLockInfo } from "./lock.js";
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from "./migrations.js";
export {
  PendingRepo,
  type PendingCaps,
  type PendingInput,
  type PendingRecord,
  type PendingUpsert,
} from "./pending.js";
export { TokenRepo, type ImportedToken, type TokenRecord, type TokenVerdict } from "./tokens.js";
