// Devices: pending requests (requested versus approved, and the page a browser asked from) as
// cards, and paired devices as a dense table (device-table.js), with approve, reject, remove,
// rename, rotate and revoke — each confirmed with exactly what it grants or takes away.

import { chips, deviceName, h, shortId, timeAgo } from "../dom.js";
import { deviceTable } from "./device-table.js";
import { nodeSurfaceSection } from "./node-surfaces.js";
import { pairDevice } from "./pair.js";

const REASONS = {
  "not-paired": "new device",
  "role-upgrade": "asks for a new role",
  "scope-upgrade": "asks for more scopes",
  "metadata-upgrade": "platform changed",
  "key-changed": "key changed",
};

function facts(...pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function clientOf(x) {
  if (x.owner && !x.clientId) return h("span", {}, "owner key in the gateway's state dir");
  const client = [x.clientId, x.clientMode].filter(Boolean).join("/");
  const platform = [x.platform, x.deviceFamily].filter(Boolean).join(" · ");
  return h("span", {}, client || "—", platform ? h("span", { class: "muted" }, ` (${platform})`) : null);
}

/** Requested versus approved for one pending request. */
function grantFacts(p, current) {
  const approvedRoles = current?.roles ?? [];
  const approvedScopes = current?.scopes ?? [];
  return facts(
    ["Requested roles", chips(p.roles, { highlight: p.roles.filter((r) => !approvedRoles.includes(r)) })],
    ["Requested scopes", chips(p.scopes, { highlight: p.scopes.filter((s) => !approvedScopes.includes(s)) })],
    [
      "Approved now",
      current
        ? h("span", {}, chips(approvedRoles), " ", chips(approvedScopes, { empty: "no scopes" }))
        : h("span", { class: "muted" }, "nothing (not paired)"),
    ],
    ...nodeSurfaceFacts(p),
  );
}

/**
 * A node's request (C19): the commands it declares, which of them run programs, and the scopes
 * the approver's session needs — approving pins exactly these commands as its surface.
 */
function nodeSurfaceFacts(p) {
  if (!p.commands) return [];
  const exec = p.execCommands ?? [];
  return [
    [
      "Commands",
      h(
        "span",
        { class: "node-commands" },
        p.commands.length === 0
          ? h("span", { class: "muted" }, "none declared")
          : h(
              "span",
              { class: "chips" },
              p.commands.map((c) =>
                h(
                  "span",
                  {
                    class: ["chip", exec.includes(c) && "chip-exec"],
                    title: exec.includes(c) ? "runs programs on the node" : "",
                  },
                  c,
                ),
              ),
            ),
        exec.length > 0
          ? h(
              "span",
              { class: "muted block small" },
              `${exec.join(", ")} ${exec.length === 1 ? "runs" : "run"} programs on that machine: approving needs operator.admin.`,
            )
          : null,
      ),
    ],
    p.requiredApproveScopes ? ["Approving needs", chips(p.requiredApproveScopes)] : null,
  ];
}

/** The request was made by this very Control UI's origin (another browser profile, or this one). */
function isOwnPage(p) {
  return p.browserOrigin === location.origin;
}

/**
 * Where a browser's request came from: the page's Origin, and a warning when it is not this
 * Control UI's origin (some other page holds the key that asks), so the owner can tell.
 */
function pageNotice(p) {
  if (!p.browserOrigin) return null;
  const own = isOwnPage(p);
  return h(
    "p",
    { class: own ? "muted" : "warn", "data-origin": p.browserOrigin },
    "Asked from the browser page ",
    h("code", {}, p.browserOrigin),
    own
      ? " (this Control UI)."
      : " — not the origin of this Control UI. Approve only if you know that page and expect it to manage this gateway.",
  );
}

async function approve(ctx, p, current) {
  const ok = await ctx.confirm({
    title: `Approve ${deviceName(p)}?`,
    body: [
      h(
        "p",
        {},
        "Request ",
        h("code", {}, p.requestId),
        ` from ${p.remoteIp ?? "an unknown address"} (${[p.clientId, p.clientMode].filter(Boolean).join("/")}). `,
        "Approving grants exactly this — new items are highlighted:",
      ),
      pageNotice(p),
      grantFacts(p, current),
      h("p", { class: "muted" }, "The device gets a device token for each role the next time it connects."),
    ],
    confirmLabel: "Approve",
  });
  if (!ok) return;
  await ctx.act("device.pair.approve", { requestId: p.requestId }, `Approved ${deviceName(p)}.`);
}

async function reject(ctx, p) {
  const ok = await ctx.confirm({
    title: `Reject ${deviceName(p)}?`,
    body: [
      h(
        "p",
        {},
        "Request ",
        h("code", {}, p.requestId),
        " is dropped. Nothing is granted; the device stays as it is",
        p.isRepair ? " (its current approval is unchanged)." : " (not paired).",
        " If it connects again it makes a new request.",
      ),
      pageNotice(p),
    ],
    confirmLabel: "Reject",
    danger: true,
  });
  if (!ok) return;
  await ctx.act("device.pair.reject", { requestId: p.requestId }, `Rejected request ${p.requestId}.`);
}

async function remove(ctx, d) {
  const ok = await ctx.confirm({
    title: `Remove ${deviceName(d)}?`,
    body: [
      h(
        "p",
        {},
        "The device ",
        h("code", {}, d.deviceId),
        " is forgotten: its approval (roles ",
        chips(d.roles),
        "), all its tokens and any pending request are deleted, and its live sessions close now.",
      ),
      h("p", {}, "To connect again it has to pair again."),
      d.deviceId === ctx.identity.deviceId
        ? h("p", { class: "warn" }, "This is the browser you are using: this page will be disconnected.")
        : null,
    ],
    confirmLabel: "Remove device",
    danger: true,
  });
  if (!ok) return;
  await ctx.act("device.pair.remove", { deviceId: d.deviceId }, `Removed ${deviceName(d)}.`);
}

async function rename(ctx, d) {
  const label = await ctx.confirm({
    title: `Rename ${deviceName(d)}`,
    body: h("p", {}, "A label for ", h("code", {}, d.deviceId), " shown in device lists. It grants nothing."),
    confirmLabel: "Rename",
    input: { label: "Label (1–64 characters)", value: d.label ?? d.displayName ?? "", maxLength: 64 },
  });
  if (!label) return;
  await ctx.act("device.pair.rename", { deviceId: d.deviceId, label }, `Renamed to ${label}.`);
}

async function rotate(ctx, d, t) {
  const self = d.deviceId === ctx.identity.deviceId;
  const ok = await ctx.confirm({
    title: `Rotate the ${t.role} token of ${deviceName(d)}?`,
    body: [
      facts(["Role", h("code", {}, t.role)], ["Scopes of the new token", chips(t.scopes)]),
      h(
        "p",
        {},
        `The current ${t.role} token stops working at once and the device's other ${t.role} sessions close.`,
      ),
      self
        ? h("p", {}, "This browser receives the new token and keeps working.")
        : h(
            "p",
            {},
            "The new token is not shown here (it belongs to that device): the device gets a fresh one the next time it connects with the shared gateway token.",
          ),
    ],
    confirmLabel: "Rotate token",
    danger: !self,
  });
  if (!ok) return;
  const res = await ctx.act(
    "device.token.rotate",
    { deviceId: d.deviceId, role: t.role },
    `Rotated the ${t.role} token of ${deviceName(d)}.`,
  );
  if (res?.token && self) await ctx.storeOwnToken(t.role, res.token, res.rotatedAtMs);
}

async function revoke(ctx, d, role) {
  const ok = await ctx.confirm({
    title: `Revoke the ${role} token of ${deviceName(d)}?`,
    body: [
      h(
        "p",
        {},
        `The ${role} token of `,
        h("code", {}, d.deviceId),
        ` stops working for good and the device's live ${role} sessions close now.`,
      ),
      h(
        "p",
        {},
        `To act as ${role} again the device needs a new approval. Its other roles are not affected.`,
      ),
      d.deviceId === ctx.identity.deviceId
        ? h("p", { class: "warn" }, "This is the browser you are using: this page will be disconnected.")
        : null,
    ],
    confirmLabel: `Revoke ${role} token`,
    danger: true,
  });
  if (!ok) return;
  await ctx.act(
    "device.token.revoke",
    { deviceId: d.deviceId, role },
    `Revoked the ${role} token of ${deviceName(d)}.`,
  );
}

function tokenList(d) {
  if (!d.tokens || d.tokens.length === 0) return h("span", { class: "muted" }, "none issued");
  return h(
    "ul",
    { class: "tokens" },
    d.tokens.map((t) =>
      h(
        "li",
        { class: t.revokedAtMs ? "revoked" : "" },
        h("code", {}, t.role),
        " ",
        t.revokedAtMs
          ? h("span", { class: "badge badge-revoked" }, "revoked ", timeAgo(t.revokedAtMs))
          : h(
              "span",
              { class: "muted" },
              "issued ",
              timeAgo(t.rotatedAtMs ?? t.createdAtMs),
              t.lastUsedAtMs ? [", used ", timeAgo(t.lastUsedAtMs)] : null,
            ),
        " ",
        chips(t.scopes, { empty: "no scopes" }),
      ),
    ),
  );
}

function pendingCard(ctx, p, current) {
  return h(
    "article",
    {
      class: "card device pending",
      "data-request-id": p.requestId,
      "aria-label": `Pending request from ${deviceName(p)}`,
    },
    h(
      "header",
      { class: "card-head" },
      h("h3", {}, deviceName(p)),
      h("span", { class: "badge badge-pending" }, REASONS[p.reason] ?? p.reason),
    ),
    facts(
      ["Request", h("code", { class: "request-id" }, p.requestId)],
      ["Device", shortId(p.deviceId)],
      ["Client", clientOf(p)],
      ["From", h("code", {}, p.remoteIp ?? "unknown")],
      p.browserOrigin
        ? [
            "Page",
            h(
              "span",
              {},
              h("code", { class: "origin" }, p.browserOrigin),
              " ",
              isOwnPage(p)
                ? "(this Control UI)"
                : h("span", { class: "badge badge-pending" }, "other origin"),
            ),
          ]
        : null,
      ["Asked", timeAgo(p.refreshedAtMs ?? p.ts)],
      ["Expires", timeAgo(p.expiresAtMs)],
    ),
    grantFacts(p, current),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-primary",
          "data-key": `approve:${p.requestId}`,
          onclick: () => approve(ctx, p, current),
        },
        "Approve…",
      ),
      h(
        "button",
        { type: "button", class: "btn", "data-key": `reject:${p.requestId}`, onclick: () => reject(ctx, p) },
        "Reject…",
      ),
    ),
  );
}

export const devicesPage = {
  id: "devices",
  title: "Devices",
  needs: ["devices", "nodes"],
  render(ctx) {
    const devices = ctx.data.devices;
    if (!devices) return h("p", { class: "muted" }, ctx.errors.devices ?? "Loading…");
    const byId = new Map(devices.paired.map((d) => [d.deviceId, d]));
    return h(
      "div",
      { class: "page" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "Devices"),
        h(
          "button",
          {
            type: "button",
            class: "btn btn-primary",
            "data-key": "pair-device",
            onclick: () => pairDevice(ctx),
          },
          "Pair a new device…",
        ),
      ),
      h(
        "section",
        { "aria-labelledby": "pending-title", id: "pending" },
        h(
          "h2",
          { id: "pending-title" },
          "Pending requests ",
          h("span", { class: "count" }, String(devices.pending.length)),
        ),
        devices.pending.length === 0
          ? h(
              "p",
              { class: "empty compact" },
              "No device is waiting for approval. New requests appear here as they arrive.",
            )
          : h(
              "div",
              { class: "cards" },
              devices.pending.map((p) => pendingCard(ctx, p, byId.get(p.deviceId))),
            ),
      ),
      nodeSurfaceSection(ctx),
      h(
        "section",
        { "aria-labelledby": "paired-title", id: "paired" },
        h(
          "h2",
          { id: "paired-title" },
          "Paired devices ",
          h("span", { class: "count" }, String(devices.paired.length)),
        ),
        deviceTable(ctx, devices.paired, {
          actions: { rename, rotate, revoke, remove },
          tokenList,
          clientOf,
        }),
      ),
    );
  },
};
