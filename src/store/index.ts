/** The durable pairing store: the only layer that touches SQLite. */
export { approveDevice, approvePending, ensureOwner, OWNER_ROLES, type ApprovalInput } from "./approve.js";
export {
  AuditLog,
  DEFAULT_AUDIT_MAX_ROWS,
  isRefusalDecision,
  isRoutine,
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
} from "./audit.js";
export { CronRepo, MISSED_POLICIES, type CronJobRecord, type MissedPolicy } from "./cron.js";
export { openStore, Store, type OpenStoreOptions } from "./db.js";
export { DeviceRepo, type ApprovedVia, type DeviceRecord } from "./devices.js";
export { StoreError, type StoreErrorCode } from "./errors.js";
export { acquireGatewayLock, readGatewayLock, type GatewayLock, type GatewayLockInfo } from "./lock.js";
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from "./migrations.js";
export {
  NodeSurfaceRepo,
  type NodeSurfaceRecord,
  type SurfaceApprovedVia,
  type SurfaceRequestInput,
  type SurfaceRequestRecord,
  type SurfaceRequestUpsert,
} from "./node-surfaces.js";
export {
  PendingRepo,
  type PendingCaps,
  type PendingInput,
  type PendingRecord,
  type PendingUpsert,
} from "./pending.js";
export { RuntimeTokenRepo, type RuntimeTokenRecord, type RuntimeTokenVerdict } from "./runtime-tokens.js";
export {
  DEFAULT_SESSIONS_KEEP_ENDED,
  SESSION_STATUSES,
  SessionRepo,
  type SessionEnd,
  type SessionQuery,
  type SessionRecord,
  type SessionStatus,
} from "./sessions.js";
export {
  hashSetupCode,
  SetupCodeRepo,
  type SetupCodeInput,
  type SetupCodeLookup,
  type SetupCodeRecord,
} from "./setup-codes.js";
export { TokenRepo, type ImportedToken, type TokenRecord, type TokenVerdict } from "./tokens.js";
