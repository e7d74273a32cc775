/**
 * What an OpenClaw node host reports about itself after connecting (`openclaw node run`): events,
 * its worker-runner protocol, its skills and plugin tools. Gatehouse runs no agents that could use
 * them, so each is validated, acknowledged in OpenClaw's result shape and not kept: the node host
 * carries on instead of logging "unknown method" on every connect.
 */
import type { MethodContext, MethodHandler, MethodTable } from "../gateway/methods.js";
import { GatewayError } from "../protocol/errors.js";
import type { NodeEventResult } from "../protocol/openclaw-compat.js";
import { paramsParser } from "./params.js";

const parseEvent = paramsParser("NodeEventParams");
const parseSkills = paramsParser("NodeSkillsUpdateParams");
const parseTools = paramsParser("NodePluginToolsUpdateParams");
const parseInventory = paramsParser("NodeRunnerInventoryParams");

/** The calling node's id: its device (a node session always has one once admitted). */
function nodeIdOf(ctx: MethodContext): string {
  if (!ctx.deviceId) throw new GatewayError("INVALID_PARAMS", { message: "nodeId required" });
  return ctx.deviceId;
}

const nodeEvent: MethodHandler = (ctx, params): NodeEventResult => {
  nodeIdOf(ctx);
  const { event } = parseEvent(params);
  return { ok: true, event, handled: false, reason: "gatehouse-has-no-node-event-consumers" };
};

const skillsUpdate: MethodHandler = (ctx, params) => {
  const nodeId = nodeIdOf(ctx);
  return { nodeId, skills: parseSkills(params).skills };
};

const pluginToolsUpdate: MethodHandler = (ctx, params) => {
  const nodeId = nodeIdOf(ctx);
  return { nodeId, tools: parseTools(params).tools };
};

const runnerInventoryUpdate: MethodHandler = (ctx, params) => {
  const nodeId = nodeIdOf(ctx);
  parseInventory(params);
  return { nodeId };
};

export const nodeReportMethods: MethodTable = {
  "node.event": nodeEvent,
  "node.skills.update": skillsUpdate,
  "node.pluginTools.update": pluginToolsUpdate,
  "node.runnerInventory.update": runnerInventoryUpdate,
};
