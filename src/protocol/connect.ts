/** `connect` params and the `hello-ok` payload of protocol 4 (reference §1.4, §1.7). */
import { Type, type Static } from "@sinclair/typebox";
import { GATEWAY_CLIENT_IDS, GATEWAY_CLIENT_MODES } from "./client-info.js";
import { RoleSchema } from "./devices.js";

const closed = { additionalProperties: false } as const;

export const ClientInfoSchema = Type.Object(
  {
    id: Type.Union(GATEWAY_CLIENT_IDS.map((id) => Type.Literal(id))),
    displayName: Type.Optional(Type.String()),
    version: Type.String(),
    platform: Type.String(),
    deviceFamily: Type.Optional(Type.String()),
    modelIdentifier: Type.Optional(Type.String()),
    mode: Type.Union(GATEWAY_CLIENT_MODES.map((m) => Type.Literal(m))),
    instanceId: Type.Optional(Type.String()),
  },
  closed,
);

export const DeviceProofSchema = Type.Object(
  {
    id: Type.String(),
    publicKey: Type.String(),
    signature: Type.String(),
    signedAt: Type.Integer({ minimum: 0 }),
    nonce: Type.String(),
  },
  closed,
);
export type DeviceProof = Static<typeof DeviceProofSchema>;

export const ConnectAuthSchema = Type.Object(
  {
    token: Type.Optional(Type.String()),
    bootstrapToken: Type.Optional(Type.String()),
    deviceToken: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    approvalRuntimeToken: Type.Optional(Type.String()),
    agentRuntimeIdentityToken: Type.Optional(Type.String()),
  },
  closed,
);
export type ConnectAuth = Static<typeof ConnectAuthSchema>;

export const ConnectParamsSchema = Type.Object(
  {
    minProtocol: Type.Integer({ minimum: 1 }),
    maxProtocol: Type.Integer({ minimum: 1 }),
    client: ClientInfoSchema,
    caps: Type.Optional(Type.Array(Type.String())),
    commands: Type.Optional(Type.Array(Type.String())),
    permissions: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
    pathEnv: Type.Optional(Type.String()),
    role: Type.Optional(Type.String()),
    scopes: Type.Optional(Type.Array(Type.String())),
    device: Type.Optional(DeviceProofSchema),
    auth: Type.Optional(ConnectAuthSchema),
    locale: Type.Optional(Type.String()),
    userAgent: Type.Optional(Type.String()),
  },
  { ...closed, $id: "ConnectParams" },
);
/**
 * The params of the first request on a connection, `connect`: protocol range, client info, role,
 * scopes, device proof and credentials.
 *
 * @example
 * ```ts
 * import { validateConnectParams, type ConnectParams } from "gatehouse-gateway/protocol";
 *
 * const params: ConnectParams = {
 *   minProtocol: 4,
 *   maxProtocol: 4,
 *   client: { id: "cli", version: "1.0.0", platform: "linux", mode: "cli" },
 *   role: "operator",
 *   scopes: ["operator.read"],
 *   auth: { token: "a-long-random-secret" },
 * };
 * console.log(validateConnectParams(params).ok); // true
 * ```
 */
export type ConnectParams = Static<typeof ConnectParamsSchema>;

export const ConnectChallengeSchema = Type.Object(
  { nonce: Type.String({ minLength: 1 }), ts: Type.Integer({ minimum: 0 }) },
  { $id: "ConnectChallenge" },
);
export type ConnectChallenge = Static<typeof ConnectChallengeSchema>;

const IssuedTokenSchema = Type.Object(
  {
    deviceToken: Type.String(),
    role: RoleSchema,
    scopes: Type.Array(Type.String()),
    issuedAtMs: Type.Integer({ minimum: 0 }),
  },
  closed,
);

/**
 * Gatehouse's, in a node's hello-ok (OpenClaw has no such field; its clients ignore it): the
 * commands this session exposes, the surface pinned for the node, and a wider surface it declared
 * that waits for approval (`node.pair.approve`) with the commands that wait.
 */
export const HelloNodeSurfaceSchema = Type.Object(
  {
    /** Declared and approved: what operators may invoke on this session now. */
    exposed: Type.Array(Type.String()),
    /** The pinned surface; null when none was approved yet. */
    approved: Type.Union([Type.Array(Type.String()), Type.Null()]),
    pending: Type.Union([
      Type.Object(
        {
          requestId: Type.String(),
          /** The whole surface declared; approving pins exactly this. */
          commands: Type.Array(Type.String()),
          /** Declared but not approved: not invocable until the request is approved. */
          waiting: Type.Array(Type.String()),
          /** The waiting commands that are exec-capable. */
          execCommands: Type.Array(Type.String()),
          /** What the approver's session must hold. */
          requiredApproveScopes: Type.Array(Type.String()),
        },
        closed,
      ),
      Type.Null(),
    ]),
  },
  closed,
);
/** A node's command surface as its hello-ok tells it (Gatehouse's field). */
export type HelloNodeSurface = Static<typeof HelloNodeSurfaceSchema>;

export const HelloOkSchema = Type.Object(
  {
    type: Type.Literal("hello-ok"),
    protocol: Type.Integer(),
    server: Type.Object({ version: Type.String(), connId: Type.String() }),
    features: Type.Object({
      methods: Type.Array(Type.String()),
      events: Type.Array(Type.String()),
      capabilities: Type.Optional(Type.Array(Type.String())),
    }),
    snapshot: Type.Record(Type.String(), Type.Unknown()),
    auth: Type.Object({
      method: Type.Optional(Type.String()),
      role: RoleSchema,
      scopes: Type.Array(Type.String()),
      deviceToken: Type.Optional(Type.String()),
      issuedAtMs: Type.Optional(Type.Integer({ minimum: 0 })),
      deviceTokens: Type.Optional(Type.Array(IssuedTokenSchema)),
    }),
    policy: Type.Object({
      maxPayload: Type.Integer(),
      maxBufferedBytes: Type.Integer(),
      tickIntervalMs: Type.Integer(),
    }),
    nodeSurface: Type.Optional(HelloNodeSurfaceSchema),
  },
  { $id: "HelloOk" },
);
/**
 * The payload of a successful connect: negotiated protocol, the methods and events offered, and
 * the session's role, scopes and any device token issued.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway } from "gatehouse-gateway";
 * import { GatewayClient } from "gatehouse-gateway/client";
 * import type { HelloOk } from "gatehouse-gateway/protocol";
 *
 * const gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0, auth: { token: "a-long-random-secret" } } },
 * });
 * const client = new GatewayClient({ url: gateway.url, auth: { token: "a-long-random-secret" } });
 * const hello: HelloOk = await client.connect();
 * console.log(hello.protocol, hello.features.methods.includes("health")); // 4 true
 * await client.close();
 * await gateway.close();
 * ```
 */
export type HelloOk = Static<typeof HelloOkSchema>;
