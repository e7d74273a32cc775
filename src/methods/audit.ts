/** `audit.list`: the audit log's tail over RPC (the Control UI's audit page); admin only. */
import { Type } from "@sinclair/typebox";
import type { MethodHandler } from "../gateway/methods.js";
import { sentencesFor } from "../policy/rules.js";
import { paramsParser } from "./params.js";

const AuditListParams = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    afterId: Type.Optional(Type.Integer({ minimum: 0 })),
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

const parseList = paramsParser(AuditListParams);

/**
 * Newest rows first (default 100), or with `afterId` the rows after it, oldest first, for
 * following the log. Queued connect rows are written first, so the tail is current. `rules` holds
 * the sentence of every rule id in the rows' traces (the policy's one table), for display.
 */
export const auditList: MethodHandler = (ctx, params) => {
  const query = parseList(params);
  ctx.pairing.flushAudit();
  const rows = ctx.pairing.store.audit.list(query);
  return { rows, rules: sentencesFor(rows.map((r) => r.trace)) };
};

export const auditMethods: Readonly<Record<string, MethodHandler>> = { "audit.list": auditList };
