/**
 * The params of the gateway's own methods (`device.*`, `sessions.*`, `cron.*`, `audit.list`,
 * `device.pair.setupCode`, `node.*`) and of the node host's commands, as TypeBox schemas. The gateway checks params with the
 * compiled code of these schemas (check-code.ts), as does the node host, and loads this module
 * only to word a refusal.
 */
import { Type, type Static } from "@sinclair/typebox";
import { RoleSchema } from "./devices.js";
import { MAX_NODE_INVOKE_TIMEOUT_MS } from "./nodes.js";
import { SCOPE_PATTERN } from "./scopes.js";
import { MAX_SETUP_CODE_TTL_MS, MIN_SETUP_CODE_TTL_MS, SETUP_CODE_PROFILES } from "./setup-code.js";
import { SessionStatusSchema } from "./sessions.js";
import { MAX_SESSION_TIMEOUT_MS, MISSED_POLICIES } from "./work-vocabulary.js";

const closed = { additionalProperties: false } as const;
const NonEmpty = Type.String({ minLength: 1 });

// device.pair.* and device.token.*
export const DeviceRequestIdParams = Type.Object({ requestId: Type.String({ minLength: 1 }) }, closed);
export const DeviceIdParams = Type.Object({ deviceId: Type.String({ minLength: 1 }) }, closed);
export const DeviceRenameParams = Type.Object(
  { deviceId: Type.String({ minLength: 1 }), label: Type.String({ minLength: 1, maxLength: 64 }) },
  closed,
);
export const DeviceRoleParams = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    role: RoleSchema,
  },
  closed,
);
export const DeviceRotateParams = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    role: RoleSchema,
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  closed,
);
export const EmptyParams = Type.Object({}, closed);
export const DeviceRetireParams = Type.Object(
  {
    idleDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    dryRun: Type.Optional(Type.Boolean()),
  },
  closed,
);

// device.pair.setupCode
export const SetupCodeParams = Type.Object(
  {
    profile: Type.Optional(Type.Union(SETUP_CODE_PROFILES.map((p) => Type.Literal(p)))),
    ttlMs: Type.Optional(Type.Integer({ minimum: MIN_SETUP_CODE_TTL_MS, maximum: MAX_SETUP_CODE_TTL_MS })),
    /** The URL other machines should dial; default: the gateway's own non-loopback address. */
    url: Type.Optional(Type.String({ pattern: "^wss?://", maxLength: 2048 })),
    /** Also return the link as a QR matrix (the Control UI draws it; the CLI prints its own). */
    qr: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

// audit.list
export const AuditListParams = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    afterId: Type.Optional(Type.Integer({ minimum: 0 })),
    beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    decisions: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32 }),
    ),
    refusalsOnly: Type.Optional(Type.Boolean()),
    hideRoutine: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

// sessions.*
export const SpawnParams = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 4096 }),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 32_768 }), { maxItems: 1024 })),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), Type.String({ maxLength: 32_768 }), {
        maxProperties: 256,
        additionalProperties: false,
      }),
    ),
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: SCOPE_PATTERN, maxLength: 64 }), { maxItems: 32 }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SESSION_TIMEOUT_MS })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  closed,
);
export type SpawnRequest = Static<typeof SpawnParams>;

export const SessionListParams = Type.Object(
  {
    status: Type.Optional(SessionStatusSchema),
    cronJobId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  closed,
);
/** `sessions.get|kill` and `cron.remove|run`: one id. */
export const WorkIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);

// cron.*
const cronFields = {
  schedule: Type.String({ minLength: 1, maxLength: 128 }),
  timezone: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 128 }),
  command: Type.String({ minLength: 1, maxLength: 4096 }),
  args: Type.Array(Type.String({ maxLength: 32_768 }), { maxItems: 1024 }),
  cwd: Type.String({ minLength: 1, maxLength: 4096 }),
  scopes: Type.Array(Type.String({ pattern: SCOPE_PATTERN, maxLength: 64 }), { maxItems: 32 }),
  missedPolicy: Type.Union(MISSED_POLICIES.map((p) => Type.Literal(p))),
  timeoutMs: Type.Integer({ minimum: 1, maximum: MAX_SESSION_TIMEOUT_MS }),
  enabled: Type.Boolean(),
};

export const CronAddParams = Type.Object(
  {
    schedule: cronFields.schedule,
    timezone: Type.Optional(cronFields.timezone),
    name: Type.Optional(cronFields.name),
    command: cronFields.command,
    args: Type.Optional(cronFields.args),
    cwd: Type.Optional(cronFields.cwd),
    scopes: Type.Optional(cronFields.scopes),
    missedPolicy: Type.Optional(cronFields.missedPolicy),
    timeoutMs: Type.Optional(cronFields.timeoutMs),
    enabled: Type.Optional(cronFields.enabled),
  },
  closed,
);
export type CronAddRequest = Static<typeof CronAddParams>;

/** Every field but `id` optional; `null` clears an optional field. */
export const CronUpdateParams = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    schedule: Type.Optional(cronFields.schedule),
    timezone: Type.Optional(Type.Union([cronFields.timezone, Type.Null()])),
    name: Type.Optional(Type.Union([cronFields.name, Type.Null()])),
    command: Type.Optional(cronFields.command),
    args: Type.Optional(cronFields.args),
    cwd: Type.Optional(Type.Union([cronFields.cwd, Type.Null()])),
    scopes: Type.Optional(cronFields.scopes),
    missedPolicy: Type.Optional(cronFields.missedPolicy),
    timeoutMs: Type.Optional(Type.Union([cronFields.timeoutMs, Type.Null()])),
    enabled: Type.Optional(cronFields.enabled),
  },
  closed,
);
export type CronUpdateRequest = Static<typeof CronUpdateParams>;

/**
 * OpenClaw's `cron list` paging: `includeDisabled: false` leaves disabled jobs out (absent: all
 * jobs, as before), `offset`/`limit` page through them in their usual order.
 */
export const CronListParams = Type.Object(
  {
    includeDisabled: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
);

// node.list, node.invoke, node.invoke.result
export const NodeInvokeParams = Type.Object(
  {
    nodeId: NonEmpty,
    command: NonEmpty,
    params: Type.Optional(Type.Unknown()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NODE_INVOKE_TIMEOUT_MS })),
    // OpenClaw clients always send one; accepted, not required.
    idempotencyKey: Type.Optional(NonEmpty),
  },
  closed,
);
// `invokeId` is Gatehouse's name; `id` (+ `nodeId`, `payloadJSON`) is how OpenClaw node hosts answer.
export const NodeInvokeResultParams = Type.Object(
  {
    invokeId: Type.Optional(NonEmpty),
    id: Type.Optional(NonEmpty),
    nodeId: Type.Optional(NonEmpty),
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    payloadJSON: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    error: Type.Optional(
      Type.Union([
        Type.Object({ code: Type.Optional(Type.String()), message: Type.Optional(Type.String()) }, closed),
        Type.Null(),
      ]),
    ),
  },
  closed,
);

// The node host's commands: system.which, system.run
const BinName = Type.String({ minLength: 1, maxLength: 255 });
/** Gatehouse's `{bin}` (answered `{path}`), or OpenClaw's `{bins: [...]}` (answered `{bins: {name: path}}`). */
export const NodeWhichParams = Type.Union([
  Type.Object({ bin: BinName }, closed),
  Type.Object({ bins: Type.Array(BinName, { minItems: 1, maxItems: 64 }) }, closed),
]);
export const NodeRunParams = Type.Object(
  {
    command: Type.Array(Type.String(), { minItems: 1 }),
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  closed,
);
export type SystemRunParams = Static<typeof NodeRunParams>;
