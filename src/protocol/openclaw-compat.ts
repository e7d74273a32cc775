/**
 * Payloads of the methods OpenClaw's own clients call (`openclaw status`, `gateway probe`,
 * `openclaw node run`, `openclaw-node`), in OpenClaw 2026.9's field names and shapes. Gatehouse has
 * no agents, channels, chat sessions or task registry: those parts are present and empty, so a
 * client reads "none" rather than failing on a missing field.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TASK_AUDIT_CODES, TASK_RUNTIMES, TASK_STATUSES } from "./task-vocabulary.js";

const closed = { additionalProperties: false } as const;
const NonEmpty = Type.String({ minLength: 1 });
const Count = Type.Integer({ minimum: 0 });

/** `sessions` of OpenClaw's status summary: agent chat sessions (Gatehouse has none). */
export const AgentSessionsSummarySchema = Type.Object({
  paths: Type.Array(Type.String()),
  count: Count,
  defaults: Type.Object({ model: Type.Null(), contextTokens: Type.Null() }),
  recent: Type.Array(Type.Unknown()),
  byAgent: Type.Array(Type.Unknown()),
});

const countsOf = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Count])));

/**
 * The part of `status` OpenClaw's CLI reads (its status summary). Gatehouse's own `status` fields
 * (`gateway`, `connections`, `self`) sit beside these.
 */
export const OpenClawStatusSummarySchema = Type.Object({
  /** The gateway's release version (Gatehouse's, on Gatehouse). */
  runtimeVersion: Type.String(),
  heartbeat: Type.Object({ defaultAgentId: Type.Null(), agents: Type.Array(Type.Unknown()) }),
  channelSummary: Type.Array(Type.Unknown()),
  queuedSystemEvents: Type.Array(Type.Unknown()),
  degradedSecretOwners: Type.Array(Type.Unknown()),
  degradedPlugins: Type.Array(Type.Unknown()),
  tasks: Type.Object({
    total: Count,
    active: Count,
    terminal: Count,
    failures: Count,
    byStatus: countsOf(TASK_STATUSES),
    byRuntime: countsOf(TASK_RUNTIMES),
  }),
  taskAudit: Type.Object({
    total: Count,
    warnings: Count,
    errors: Count,
    byCode: countsOf(TASK_AUDIT_CODES),
  }),
  sessions: AgentSessionsSummarySchema,
});
export type OpenClawStatusSummary = Static<typeof OpenClawStatusSummarySchema>;

/** One `system-presence` entry (OpenClaw's PresenceEntry, the fields Gatehouse knows). */
export const PresenceEntrySchema = Type.Object(
  {
    host: Type.Optional(NonEmpty),
    clientId: Type.Optional(NonEmpty),
    ip: Type.Optional(NonEmpty),
    version: Type.Optional(NonEmpty),
    platform: Type.Optional(NonEmpty),
    mode: Type.Optional(NonEmpty),
    reason: Type.Optional(NonEmpty),
    text: Type.Optional(Type.String()),
    ts: Count,
    deviceId: Type.Optional(NonEmpty),
    roles: Type.Optional(Type.Array(NonEmpty)),
    scopes: Type.Optional(Type.Array(NonEmpty)),
  },
  closed,
);
export type PresenceEntry = Static<typeof PresenceEntrySchema>;
export const SystemPresenceResultSchema = Type.Array(PresenceEntrySchema);

/** `config.get`: the gateway's non-secret settings (never a token, password or key). */
export const ConfigGetResultSchema = Type.Object({
  /** Gatehouse's gateway does not read a config file itself: whoever started it did. */
  path: Type.Null(),
  exists: Type.Boolean(),
  valid: Type.Boolean(),
  config: Type.Object({
    gateway: Type.Object({
      port: Type.Integer(),
      bind: Type.Array(Type.String()),
      urls: Type.Array(Type.String()),
      auth: Type.Object({ mode: Type.String() }),
      tls: Type.Object({ enabled: Type.Boolean(), fingerprint: Type.Union([Type.String(), Type.Null()]) }),
    }),
  }),
  issues: Type.Array(Type.Unknown()),
  warnings: Type.Array(Type.Unknown()),
});
export type ConfigGetResult = Static<typeof ConfigGetResultSchema>;

/** `agents.list`: Gatehouse runs no agents. */
export const AgentsListResultSchema = Type.Object({
  defaultId: Type.Null(),
  agents: Type.Array(Type.Unknown(), { maxItems: 0 }),
});
export type AgentsListResult = Static<typeof AgentsListResultSchema>;

/** `channels.status`: Gatehouse has no messaging channels. */
export const ChannelsStatusResultSchema = Type.Object({
  ts: Count,
  channelOrder: Type.Array(Type.String()),
  channelLabels: Type.Record(Type.String(), Type.String()),
  channelMeta: Type.Array(Type.Unknown()),
  channels: Type.Record(Type.String(), Type.Unknown()),
  channelAccounts: Type.Record(Type.String(), Type.Unknown()),
  channelDefaultAccountId: Type.Record(Type.String(), Type.String()),
  statusIssues: Type.Array(Type.Unknown()),
});
export type ChannelsStatusResult = Static<typeof ChannelsStatusResultSchema>;

/** `node.event` params: a node's event, payload inline or as JSON text. */
export const NodeEventParamsSchema = Type.Object(
  { event: NonEmpty, payload: Type.Optional(Type.Unknown()), payloadJSON: Type.Optional(Type.String()) },
  closed,
);
/** `node.event` result: Gatehouse records no node events, and says so (`handled: false`). */
export const NodeEventResultSchema = Type.Object(
  { ok: Type.Boolean(), event: NonEmpty, handled: Type.Boolean(), reason: Type.Optional(NonEmpty) },
  closed,
);
export type NodeEventResult = Static<typeof NodeEventResultSchema>;

/** `node.skills.update` params (a node's agent-visible skills). */
export const NodeSkillsUpdateParamsSchema = Type.Object(
  {
    skills: Type.Array(
      Type.Object(
        {
          name: NonEmpty,
          description: Type.String({ minLength: 1, maxLength: 1024 }),
          content: Type.String({ minLength: 1, maxLength: 65536 }),
        },
        closed,
      ),
      { maxItems: 64 },
    ),
  },
  closed,
);

/** `node.pluginTools.update` params (a node's agent-visible tools). */
export const NodePluginToolsUpdateParamsSchema = Type.Object(
  {
    tools: Type.Array(
      Type.Object(
        {
          pluginId: NonEmpty,
          name: NonEmpty,
          description: NonEmpty,
          parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          command: Type.Optional(NonEmpty),
          mcp: Type.Optional(Type.Object({ server: NonEmpty, tool: NonEmpty }, closed)),
        },
        closed,
      ),
      { maxItems: 256 },
    ),
  },
  closed,
);

/** `node.runnerInventory.update` params: which worker-supervisor protocol the node host speaks. */
export const NodeRunnerInventoryParamsSchema = Type.Object({
  protocolFeatures: Type.Array(NonEmpty, { maxItems: 8 }),
});
