/** `node.pair.list|approve|reject|remove` and `node.rename` (reference §6.1): thin handlers over node-surface management. */
import type { MethodHandler } from "../gateway/methods.js";
import { callerOf } from "./device.js";
import { paramsParser as parse } from "./params.js";

const parseList = parse("NodePairListParams");
const parseRequestId = parse("NodePairRequestIdParams");
const parseRemove = parse("NodePairRemoveParams");
const parseRename = parse("NodeRenameParams");

export const nodePairingMethods: Readonly<Record<string, MethodHandler>> = {
  "node.pair.list": (ctx, params) => {
    parseList(params);
    return ctx.devices.nodes.list(callerOf(ctx));
  },
  "node.pair.approve": (ctx, params) =>
    ctx.devices.nodes.approve(callerOf(ctx), parseRequestId(params).requestId),
  "node.pair.reject": (ctx, params) =>
    ctx.devices.nodes.reject(callerOf(ctx), parseRequestId(params).requestId),
  "node.pair.remove": (ctx, params) =>
    ctx.devices.nodes.remove(callerOf(ctx), parseRemove(params).nodeId.trim()),
  "node.rename": (ctx, params) => {
    const p = parseRename(params);
    return ctx.devices.nodes.rename(callerOf(ctx), p.nodeId.trim(), p.displayName.trim());
  },
};
