/** Request, response and event frames (reference §1.2); every object rejects unknown fields. */
import { Type, type Static } from "@sinclair/typebox";

export const ErrorShapeSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    retryable: Type.Optional(Type.Boolean()),
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, $id: "ErrorShape" },
);

export const RequestFrameSchema = Type.Object(
  {
    type: Type.Literal("req"),
    id: Type.String({ minLength: 1 }),
    method: Type.String({ minLength: 1 }),
    params: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false, $id: "RequestFrame" },
);
/**
 * A request frame: `{type:"req", id, method, params?}` (reference §1.2).
 *
 * @example
 * ```ts
 * import { validateRequestFrame, type RequestFrame } from "gatehouse-gateway/protocol";
 *
 * const frame: RequestFrame = { type: "req", id: "1", method: "health" };
 * console.log(validateRequestFrame(frame).ok); // true
 * ```
 */
export type RequestFrame = Static<typeof RequestFrameSchema>;

export const ResponseFrameSchema = Type.Object(
  {
    type: Type.Literal("res"),
    id: Type.String(),
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    error: Type.Optional(ErrorShapeSchema),
  },
  { additionalProperties: false, $id: "ResponseFrame" },
);
/**
 * A response frame: `{type:"res", id, ok, payload?, error?}`.
 *
 * @example
 * ```ts
 * import type { ResponseFrame } from "gatehouse-gateway/protocol";
 *
 * const res: ResponseFrame = { type: "res", id: "1", ok: true, payload: { ok: true } };
 * console.log(res.ok); // true
 * ```
 */
export type ResponseFrame = Static<typeof ResponseFrameSchema>;

export const EventFrameSchema = Type.Object(
  {
    type: Type.Literal("event"),
    event: Type.String({ minLength: 1 }),
    payload: Type.Optional(Type.Unknown()),
    seq: Type.Optional(Type.Integer({ minimum: 0 })),
    stateVersion: Type.Optional(
      Type.Object(
        { presence: Type.Optional(Type.Integer()), health: Type.Optional(Type.Integer()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: "EventFrame" },
);
/**
 * An event frame: `{type:"event", event, payload?, seq?, stateVersion?}`.
 *
 * @example
 * ```ts
 * import type { EventFrame } from "gatehouse-gateway/protocol";
 *
 * const tick: EventFrame = { type: "event", event: "tick", payload: { ts: Date.now() }, seq: 0 };
 * console.log(tick.event); // tick
 * ```
 */
export type EventFrame = Static<typeof EventFrameSchema>;

export const CancelFrameSchema = Type.Object(
  { type: Type.Literal("cancel"), id: Type.String({ minLength: 1 }) },
  { additionalProperties: false, $id: "CancelFrame" },
);
export type CancelFrame = Static<typeof CancelFrameSchema>;

export const GatewayFrameSchema = Type.Union(
  [RequestFrameSchema, ResponseFrameSchema, EventFrameSchema, CancelFrameSchema],
  { $id: "GatewayFrame" },
);
export type GatewayFrame = Static<typeof GatewayFrameSchema>;
