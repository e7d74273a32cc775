/** `gatehouse call <method>`: one RPC, its result printed as JSON; `call --list` names the methods. */
import { builtinMethodRequirements } from "../../policy/method-scopes.js";
import { withMethodClient, type CommonOptions } from "../connect.js";
import { CliError, EXIT, type Reporter } from "../output.js";
import { table } from "./client-flags.js";

export interface CallOptions extends CommonOptions {
  params?: string;
  list?: boolean;
}

/** What each built-in method does, in a few words (the scope comes from the policy's table). */
const WHAT: Readonly<Record<string, string>> = {
  health: "is the gateway up",
  status: "state, connections by role, pending count",
  "device.pair.list": "pending requests and paired devices",
  "device.pair.approve": "approve a request {requestId}",
  "device.pair.reject": "reject a request {requestId}",
  "device.pair.remove": "unpair a device {deviceId}",
  "device.pair.rename": "label a device {deviceId, label}",
  "device.token.rotate": "new token for a role {deviceId, role, scopes?}",
  "device.token.revoke": "revoke a role's token {deviceId, role}",
  "device.pair.setupCode": "mint a setup code {profile, ttlMs?}",
  "audit.list": "audit rows {limit?, afterId?, deviceId?}",
  "sessions.spawn": "start a sub-agent {command, args?, scopes?, timeoutMs?, …}",
  "sessions.kill": "stop a session {id}",
  "sessions.list": "sessions {status?, limit?}",
  "sessions.get": "one session with its output {id}",
  "cron.add": "schedule a job {schedule, command, args?, scopes?, …}",
  "cron.update": "change a job {id, enabled?, scopes?, …}",
  "cron.remove": "delete a job {id}",
  "cron.run": "run a job now {id}",
  "cron.list": "jobs and their next run",
  "node.list": "connected node hosts",
  "node.invoke": "run a command on a node {nodeId, command, params?}",
  "node.invoke.result": "a node's answer (node role)",
  "node.event": "a node's event (node role)",
};

/** Parses `--params`; it must be JSON (an object, usually). */
export function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(
      "INVALID_FLAG",
      `--params: not valid JSON (${err instanceof SyntaxError ? err.message : "parse error"})`,
      EXIT.usage,
    );
  }
}

/** `call --list`: the built-in methods with the role and scope each needs (no gateway needed). */
export function callList(out: Reporter): number {
  const methods = builtinMethodRequirements().map(([method, need]) => ({
    method,
    role: need.role,
    scope: need.scope,
    ...(WHAT[method] ? { description: WHAT[method] } : {}),
  }));
  out.result({ methods }, () =>
    [
      table([
        ["METHOD", "NEEDS", "WHAT"],
        ...methods.map((m) => [m.method, m.scope ?? `role ${m.role}`, m.description ?? ""]),
      ]),
      "",
      "operator.admin covers every scope, operator.write covers operator.read; running system.run on a node needs operator.admin.",
      "A gateway embedded in an application may serve more methods of its own.",
    ].join("\n"),
  );
  return EXIT.ok;
}

/** Asks only for the scope the method needs (least privilege), calls it, prints the payload. */
export async function call(method: string | undefined, opts: CallOptions, out: Reporter): Promise<number> {
  if (opts.list) return callList(out);
  if (method === undefined) {
    throw new CliError(
      "MISSING_ARGUMENT",
      "gatehouse call: a method name is required",
      EXIT.usage,
      "gatehouse call --list shows them",
    );
  }
  const params = parseParams(opts.params);
  return withMethodClient(opts, method, async (client) => {
    const payload = await client.request(method, params);
    out.result(payload, () => JSON.stringify(payload, null, 2));
    return EXIT.ok;
  });
}
