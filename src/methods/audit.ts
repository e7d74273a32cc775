/** `audit.list`: the audit log's tail over RPC (the Control UI's audit page); admin only. */
import type { MethodHandler } from "../gateway/methods.js";
import { sentencesFor } from "../policy/rules.js";
import { paramsParser } from "./params.js";

const parseList = paramsParser("AuditListParams");

/**
 * Newest rows first (default 100), or with `afterId` the rows after it, oldest first, for
 * following the log; `beforeId` pages back. Filters: one device, some decisions, refusals only,
 * and `hideRoutine` (leave out the `admit` row every covered connect leaves — `hiddenRoutine`
 * then says how many matching rows that hid). Queued connect rows are written first, so the tail
 * is current. `rules` holds the sentence of every rule id in the rows' traces (the policy's one
 * table), for display; `decisions` lists the decisions in the log, for filter menus.
 */
export const auditList: MethodHandler = (ctx, params) => {
  const query = parseList(params);
  ctx.pairing.flushAudit();
  const audit = ctx.pairing.store.audit;
  const rows = audit.list(query);
  // What the routine filter hid, under the other filters: all matching rows minus the shown ones.
  const filters = { deviceId: query.deviceId, decisions: query.decisions, refusalsOnly: query.refusalsOnly };
  const hiddenRoutine = query.hideRoutine
    ? audit.count(filters) - audit.count({ ...filters, hideRoutine: true })
    : undefined;
  return {
    rows,
    rules: sentencesFor(rows.map((r) => r.trace)),
    decisions: audit.decisions(),
    ...(hiddenRoutine !== undefined ? { hiddenRoutine } : {}),
  };
};

export const auditMethods: Readonly<Record<string, MethodHandler>> = { "audit.list": auditList };
