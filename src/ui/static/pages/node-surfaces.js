// Node command surfaces waiting for approval (C19), on the Devices page: a node's first surface
// and a node back with more commands than were approved (it exposes only the approved ones
// meanwhile). Each card lists the commands, marks the new ones and the exec-capable ones, says
// what approving needs, and approves or rejects that exact request (`node.pair.approve|reject`).

import { chips, h, shortId, timeAgo } from "../dom.js";

function nodeName(r) {
  return r.displayName || shortId(r.nodeId);
}

/** The declared commands: new ones highlighted, exec-capable ones marked. */
function commandChips(r) {
  const added = r.addedCommands ?? r.commands;
  const exec = r.execCapable ?? r.execCommands ?? [];
  if (r.commands.length === 0) return h("span", { class: "muted" }, "none declared");
  return h(
    "span",
    { class: "chips node-commands" },
    r.commands.map((c) =>
      h(
        "span",
        {
          class: ["chip", added.includes(c) && "chip-new", exec.includes(c) && "chip-exec"],
          "data-command": c,
          "data-exec": exec.includes(c) ? "true" : null,
          title: exec.includes(c) ? "exec-capable: runs programs or touches files on the node" : "",
        },
        c,
        exec.includes(c) ? " (exec)" : null,
      ),
    ),
  );
}

function surfaceFacts(r) {
  const exec = r.execCommands ?? [];
  const approvedExec = (r.execCapable ?? []).filter((c) => !exec.includes(c));
  return h(
    "dl",
    { class: "facts" },
    [
      ["Request", h("code", { class: "request-id" }, r.requestId)],
      ["Node", h("span", {}, shortId(r.nodeId), r.remoteIp ? ` from ${r.remoteIp}` : "")],
      ["Declares", commandChips(r)],
      [
        "Approved now",
        r.approvedCommands === null
          ? h("span", { class: "muted" }, "nothing yet: it exposes no command until approved")
          : h(
              "span",
              {},
              chips(r.approvedCommands, { empty: "no commands" }),
              h("span", { class: "muted" }, " — the only commands it exposes until approved"),
            ),
      ],
      [
        "New",
        h(
          "span",
          {},
          chips(r.addedCommands, { empty: "nothing new" }),
          exec.length > 0
            ? h(
                "span",
                { class: "warn block small", "data-exec-note": "" },
                `${exec.join(", ")} ${exec.length === 1 ? "is" : "are"} exec-capable: approving needs operator.admin.`,
              )
            : approvedExec.length > 0
              ? h(
                  "span",
                  { class: "muted block small", "data-exec-note": "" },
                  `Nothing new is exec-capable, but ${approvedExec.join(", ")} (approved before) ${approvedExec.length === 1 ? "is" : "are"}: approving the whole surface needs operator.admin.`,
                )
              : null,
        ),
      ],
      ["Approving needs", chips(r.requiredApproveScopes)],
      ["Asked", timeAgo(r.refreshedAtMs ?? r.ts)],
    ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

async function approve(ctx, r) {
  const ok = await ctx.confirm({
    title: `Approve the command surface of ${nodeName(r)}?`,
    body: [
      h(
        "p",
        {},
        "Request ",
        h("code", {}, r.requestId),
        ". Approving pins exactly these commands as what operators may invoke on the node — new ones are highlighted:",
      ),
      surfaceFacts(r),
    ],
    confirmLabel: "Approve surface",
  });
  if (!ok) return;
  await ctx.act(
    "node.pair.approve",
    { requestId: r.requestId },
    `Approved the command surface of ${nodeName(r)}.`,
    ["nodes"],
  );
}

async function reject(ctx, r) {
  const ok = await ctx.confirm({
    title: `Reject the command surface of ${nodeName(r)}?`,
    body: h(
      "p",
      {},
      "Request ",
      h("code", {}, r.requestId),
      " is dropped. ",
      r.approvedCommands === null
        ? "The node keeps exposing no command."
        : `The node keeps exposing only ${r.approvedCommands.join(", ") || "no command"}.`,
      " It asks again the next time it connects.",
    ),
    confirmLabel: "Reject",
    danger: true,
  });
  if (!ok) return;
  await ctx.act("node.pair.reject", { requestId: r.requestId }, `Rejected surface request ${r.requestId}.`, [
    "nodes",
  ]);
}

function surfaceCard(ctx, r) {
  return h(
    "article",
    {
      class: "card device pending node-surface",
      "data-surface-request-id": r.requestId,
      "aria-label": `Command surface request from node ${nodeName(r)}`,
    },
    h(
      "header",
      { class: "card-head" },
      h("h3", {}, nodeName(r)),
      h(
        "span",
        { class: "badge badge-pending" },
        r.approvedCommands === null ? "first command surface" : "wider command surface",
      ),
    ),
    surfaceFacts(r),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-primary",
          "data-key": `approve-surface:${r.requestId}`,
          onclick: () => approve(ctx, r),
        },
        "Approve…",
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn",
          "data-key": `reject-surface:${r.requestId}`,
          onclick: () => reject(ctx, r),
        },
        "Reject…",
      ),
    ),
  );
}

/** The section of the Devices page: node surface requests, or why they cannot be shown. */
export function nodeSurfaceSection(ctx) {
  const nodes = ctx.data.nodes;
  const pending = nodes?.pending ?? [];
  return h(
    "section",
    { "aria-labelledby": "surfaces-title", id: "node-surfaces" },
    h(
      "h2",
      { id: "surfaces-title" },
      "Node command surfaces waiting ",
      h("span", { class: "count" }, String(pending.length)),
    ),
    !nodes
      ? h("p", { class: "muted" }, ctx.errors.nodes ?? "Loading…")
      : pending.length === 0
        ? h(
            "p",
            { class: "empty compact" },
            "No node waits for approval of its commands. A node that declares more commands than were approved appears here.",
          )
        : h(
            "div",
            { class: "cards" },
            pending.map((r) => surfaceCard(ctx, r)),
          ),
  );
}
