// The paired-devices table: one dense row per device (name, id, roles, scopes, last seen,
// connected), searchable and sortable, connected devices first. Destructive actions live in each
// row's menu, never as a row of red buttons; the full id and the tokens are one click away.

import { deviceName, h, scopeSummary, timeAgo } from "../dom.js";
import { auditForDevice } from "./audit.js";
import { retireStaleBrowsers } from "./retire.js";

/** The table's view state survives re-renders (gateway events redraw the whole page). */
const view = {
  query: "",
  sort: { key: "status", dir: "desc" },
  expanded: new Set(),
  /** deviceId whose row menu is open; reopened after a redraw. */
  menu: null,
};

/** Columns that sort, with the direction a first click picks. */
const SORTS = {
  name: { label: "Name", first: "asc" },
  roles: { label: "Role", first: "asc" },
  scopes: { label: "Scopes", first: "desc" },
  lastSeen: { label: "Last seen", first: "desc" },
  status: { label: "Status", first: "desc" },
};

const SHORT_ID = 8;

/** How wide a grant is, for sorting by scopes: admin above everything. */
function scopeWeight(d) {
  return d.scopes.includes("operator.admin") ? 1000 : d.scopes.length;
}

const byName = (a, b) => deviceName(a).localeCompare(deviceName(b), undefined, { sensitivity: "base" });
const seen = (d) => d.lastSeenAtMs ?? 0;

const COMPARE = {
  name: byName,
  roles: (a, b) => a.roles.join(",").localeCompare(b.roles.join(",")) || byName(a, b),
  scopes: (a, b) => scopeWeight(a) - scopeWeight(b) || byName(a, b),
  lastSeen: (a, b) => seen(a) - seen(b) || byName(a, b),
  // Connected first, then the most recently seen (for "desc", the default order).
  status: (a, b) => Number(a.connected) - Number(b.connected) || seen(a) - seen(b) || -byName(a, b),
};

/** The devices in the current order (a copy). */
export function sortDevices(devices, sort = view.sort) {
  const cmp = COMPARE[sort.key] ?? COMPARE.status;
  const sign = sort.dir === "asc" ? 1 : -1;
  return [...devices].sort((a, b) => sign * cmp(a, b));
}

/** True when every word of the query is in the device's name, id, client, platform or address. */
export function matchesQuery(d, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [
    d.label,
    d.displayName,
    d.clientId,
    d.clientMode,
    d.platform,
    d.deviceFamily,
    d.deviceId,
    d.lastSeenIp,
    ...d.roles,
    ...d.scopes,
    d.owner ? "owner" : "",
    d.connected ? "connected" : "offline",
  ]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** Revoked token roles of a device (the row says so). */
function revokedRoles(d) {
  return (d.tokens ?? []).filter((t) => t.revokedAtMs).map((t) => t.role);
}

function copy(ctx, text, what) {
  const done = navigator.clipboard?.writeText(text);
  if (!done) {
    ctx.notify(`Copy failed: select the ${what} in the device's details instead.`, "error");
    return;
  }
  done.then(
    () => ctx.notify(`Copied the ${what}.`, "ok"),
    () => ctx.notify(`Copy failed: select the ${what} in the device's details instead.`, "error"),
  );
}

function statusCell(d) {
  const revoked = revokedRoles(d);
  return h(
    "span",
    { class: "status" },
    h(
      "span",
      { class: ["presence", d.connected ? "on" : "off"], "data-connected": d.connected ? "true" : "false" },
      h("span", { class: "dot", "aria-hidden": "true" }),
      d.connected ? "connected" : "offline",
    ),
    revoked.length > 0
      ? h("span", { class: "badge badge-revoked", title: `revoked: ${revoked.join(", ")}` }, "revoked")
      : null,
  );
}

function nameCell(ctx, d, self) {
  const open = view.expanded.has(d.deviceId);
  const client = [d.clientId, d.platform].filter(Boolean).join(" · ");
  return h(
    "span",
    { class: "dname" },
    h(
      "button",
      {
        type: "button",
        class: "link-btn",
        "aria-expanded": open ? "true" : "false",
        "aria-controls": `details-${d.deviceId}`,
        "data-key": `details:${d.deviceId}`,
        title: "Show details",
        onclick: () => {
          if (open) view.expanded.delete(d.deviceId);
          else view.expanded.add(d.deviceId);
          ctx.rerender();
        },
      },
      deviceName(d),
    ),
    d.owner ? h("span", { class: "badge badge-owner" }, "owner") : null,
    self ? h("span", { class: "badge badge-self" }, "this browser") : null,
    client ? h("span", { class: "client muted" }, client) : null,
  );
}

function idCell(ctx, d) {
  return h(
    "button",
    {
      type: "button",
      class: "id-btn",
      title: `${d.deviceId}\nClick to copy the full device ID`,
      "aria-label": `Copy device ID ${d.deviceId.slice(0, SHORT_ID)}…`,
      "data-key": `copy:${d.deviceId}`,
      onclick: () => copy(ctx, d.deviceId, "device ID"),
    },
    d.deviceId.slice(0, SHORT_ID),
  );
}

/** The row menu: what can be done to this device; destructive items last, set apart. */
function rowMenu(ctx, d, actions) {
  const self = d.deviceId === ctx.identity.deviceId;
  const id = `menu-${d.deviceId}`;
  const liveTokens = (d.tokens ?? []).filter((t) => !t.revokedAtMs);
  const revocable = [...new Set([...d.roles, ...liveTokens.map((t) => t.role)])].filter(
    (r) => !(d.tokens ?? []).some((t) => t.role === r && t.revokedAtMs),
  );
  const item = (label, run, { danger = false, key } = {}) =>
    h(
      "button",
      {
        type: "button",
        role: "menuitem",
        class: ["menu-item", danger && "menu-danger"],
        "data-key": key,
        onclick: () => {
          view.menu = null;
          menu.hidePopover();
          run();
        },
      },
      label,
    );
  const menu = h(
    "div",
    {
      id,
      popover: "auto",
      role: "menu",
      class: "menu",
      "aria-label": `Actions for ${deviceName(d)}`,
      ontoggle: (e) => {
        if (e.newState === "open") {
          view.menu = d.deviceId;
          placeMenu(menu, button);
          menu.querySelector("[role=menuitem]")?.focus();
        } else if (view.menu === d.deviceId) view.menu = null;
      },
      onkeydown: (e) => menuKeys(e, menu),
    },
    item(view.expanded.has(d.deviceId) ? "Hide details" : "Show details", () => {
      if (view.expanded.has(d.deviceId)) view.expanded.delete(d.deviceId);
      else view.expanded.add(d.deviceId);
      ctx.rerender();
    }),
    item("Copy device ID", () => copy(ctx, d.deviceId, "device ID")),
    item("Audit log", () => auditForDevice(d.deviceId), { key: `audit:${d.deviceId}` }),
    item("Rename…", () => actions.rename(ctx, d), { key: `rename:${d.deviceId}` }),
    liveTokens.map((t) =>
      item(`Rotate ${t.role} token…`, () => actions.rotate(ctx, d, t), {
        key: `rotate:${d.deviceId}:${t.role}`,
      }),
    ),
    d.owner
      ? h(
          "p",
          { class: "menu-note" },
          "The owner key lives in the gateway's state dir: it cannot be revoked or removed here.",
        )
      : [
          h("hr", { class: "menu-sep" }),
          revocable.map((role) =>
            item(`Revoke ${role} token…`, () => actions.revoke(ctx, d, role), {
              danger: true,
              key: `revoke:${d.deviceId}:${role}`,
            }),
          ),
          item(self ? "Remove this browser…" : "Remove device…", () => actions.remove(ctx, d), {
            danger: true,
            key: `remove:${d.deviceId}`,
          }),
        ],
  );
  const button = h(
    "button",
    {
      type: "button",
      class: "menu-btn",
      popovertarget: id,
      "aria-haspopup": "menu",
      "aria-label": `Actions for ${deviceName(d)}`,
      "data-key": `menu:${d.deviceId}`,
    },
    h("span", { "aria-hidden": "true" }, "⋯"),
  );
  if (view.menu === d.deviceId) {
    // A redraw (a gateway event) replaced the open menu: open the new one where the old one was.
    queueMicrotask(() => {
      if (menu.isConnected && !menu.matches(":popover-open")) menu.showPopover();
    });
  }
  return [button, menu];
}

/** Puts an open menu under its button, inside the viewport (CSSOM, so the CSP needs no inline styles). */
function placeMenu(menu, button) {
  const r = button.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  const left = Math.max(8, Math.min(r.right - m.width, window.innerWidth - m.width - 8));
  const below = r.bottom + 4;
  const top = below + m.height > window.innerHeight - 8 ? Math.max(8, r.top - m.height - 4) : below;
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
}

/** Arrow keys move between menu items (Escape closes: the popover does that itself). */
function menuKeys(e, menu) {
  const items = [...menu.querySelectorAll("[role=menuitem]")];
  const i = items.indexOf(document.activeElement);
  const go = (n) => items[(n + items.length) % items.length]?.focus();
  if (e.key === "ArrowDown") go(i + 1);
  else if (e.key === "ArrowUp") go(i - 1);
  else if (e.key === "Home") go(0);
  else if (e.key === "End") go(items.length - 1);
  else return;
  e.preventDefault();
}

function detailsRow(ctx, d, tokenList, clientOf, columns) {
  const self = d.deviceId === ctx.identity.deviceId;
  return h(
    "tr",
    { class: "details-row", id: `details-${d.deviceId}`, "data-details-for": d.deviceId },
    h(
      "td",
      { colspan: String(columns) },
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Device ID"),
        h(
          "dd",
          {},
          h("code", { class: "id-full" }, d.deviceId),
          " ",
          h(
            "button",
            { type: "button", class: "btn btn-small", onclick: () => copy(ctx, d.deviceId, "device ID") },
            "Copy",
          ),
        ),
        h("dt", {}, "Client"),
        h("dd", {}, clientOf(d)),
        h("dt", {}, "Scopes"),
        h("dd", {}, d.scopes.length ? d.scopes.join(", ") : h("span", { class: "muted" }, "no scopes")),
        h("dt", {}, "Tokens"),
        h("dd", {}, tokenList(d)),
        h("dt", {}, "Last seen"),
        h(
          "dd",
          {},
          timeAgo(d.lastSeenAtMs),
          d.lastSeenIp ? h("span", { class: "muted" }, ` from ${d.lastSeenIp}`) : null,
        ),
        h("dt", {}, "Approved"),
        h("dd", {}, timeAgo(d.approvedAtMs), h("span", { class: "muted" }, ` (${d.approvedVia})`)),
        self ? [h("dt", {}, "Note"), h("dd", {}, "This is the browser you are using.")] : null,
      ),
    ),
  );
}

function sortHeader(ctx, key, cls) {
  const active = view.sort.key === key;
  const dir = active ? view.sort.dir : null;
  return h(
    "th",
    {
      scope: "col",
      class: cls,
      "aria-sort": active ? (dir === "asc" ? "ascending" : "descending") : false,
    },
    h(
      "button",
      {
        type: "button",
        class: "sort-btn",
        "data-key": `sort:${key}`,
        onclick: () => {
          view.sort = active ? { key, dir: dir === "asc" ? "desc" : "asc" } : { key, dir: SORTS[key].first };
          ctx.rerender();
        },
      },
      SORTS[key].label,
      h("span", { class: "sort-mark", "aria-hidden": "true" }, active ? (dir === "asc" ? "▲" : "▼") : ""),
    ),
  );
}

function toolbar(ctx, shown, total, connected) {
  const input = h("input", {
    id: "device-search",
    type: "search",
    placeholder: "Search name, id, client, address…",
    autocomplete: "off",
    spellcheck: "false",
    value: view.query,
    "aria-controls": "device-table",
    "data-key": "device-search",
    oninput: (e) => {
      view.query = e.target.value;
      ctx.rerender();
    },
  });
  const select = h(
    "select",
    {
      id: "device-sort",
      "aria-label": "Sort devices by",
      "data-key": "device-sort",
      onchange: (e) => {
        const key = e.target.value;
        view.sort = { key, dir: SORTS[key].first };
        ctx.rerender();
      },
    },
    Object.entries(SORTS).map(([key, s]) =>
      h(
        "option",
        { value: key, selected: view.sort.key === key },
        key === "status" ? "Connected first" : s.label,
      ),
    ),
  );
  return h(
    "div",
    { class: "toolbar" },
    h(
      "label",
      { class: "search", for: "device-search" },
      h("span", { class: "sr-only" }, "Search devices"),
      input,
    ),
    h("label", { class: "sort-select" }, h("span", { class: "muted small" }, "Sort"), select),
    h(
      "span",
      { class: "muted small result-count", id: "device-count", "aria-live": "polite" },
      shown === total ? `${total} devices` : `${shown} of ${total} devices`,
      ` · ${connected} connected`,
    ),
    h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        "data-key": "retire-stale",
        onclick: () => retireStaleBrowsers(ctx),
      },
      "Retire stale browsers…",
    ),
  );
}

/**
 * The paired-devices section: toolbar and table. `actions` holds the confirmed management
 * actions (rename, rotate, revoke, remove); `tokenList` and `clientOf` render the details.
 */
export function deviceTable(ctx, devices, { actions, tokenList, clientOf }) {
  const shown = sortDevices(devices.filter((d) => matchesQuery(d, view.query)));
  const connected = devices.filter((d) => d.connected).length;
  const COLUMNS = 7;
  const rows = shown.flatMap((d) => {
    const self = d.deviceId === ctx.identity.deviceId;
    const row = h(
      "tr",
      {
        "data-device-id": d.deviceId,
        class: ["device-row", d.connected && "is-connected", view.expanded.has(d.deviceId) && "is-open"],
      },
      h("td", { class: "c-name" }, nameCell(ctx, d, self)),
      h("td", { class: "c-id" }, idCell(ctx, d)),
      h(
        "td",
        { class: "c-roles" },
        d.roles.join(", ") || "no role",
        // At phone width the scopes and last-seen columns fold into this line.
        h(
          "span",
          { class: "meta-narrow" },
          ` · ${scopeSummary(d.scopes, d.roles)} · `,
          d.connected ? "now" : timeAgo(d.lastSeenAtMs),
        ),
      ),
      h(
        "td",
        { class: "c-scopes", title: d.scopes.join("\n") || "no scopes" },
        h(
          "span",
          { class: ["scope-sum", d.scopes.includes("operator.admin") && "scope-admin"] },
          scopeSummary(d.scopes, d.roles),
        ),
      ),
      h(
        "td",
        { class: "c-seen" },
        d.connected ? h("span", { class: "muted" }, "now") : timeAgo(d.lastSeenAtMs),
      ),
      h("td", { class: "c-status" }, statusCell(d)),
      h("td", { class: "c-menu" }, rowMenu(ctx, d, actions)),
    );
    return view.expanded.has(d.deviceId) ? [row, detailsRow(ctx, d, tokenList, clientOf, COLUMNS)] : [row];
  });
  return [
    toolbar(ctx, shown.length, devices.length, connected),
    shown.length === 0
      ? h(
          "p",
          { class: "empty" },
          `No device matches “${view.query}”. `,
          h(
            "button",
            {
              type: "button",
              class: "link-btn",
              onclick: () => {
                view.query = "";
                ctx.rerender();
              },
            },
            "Clear the search",
          ),
        )
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "dtable", id: "device-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                sortHeader(ctx, "name", "c-name"),
                h("th", { scope: "col", class: "c-id" }, "ID"),
                sortHeader(ctx, "roles", "c-roles"),
                sortHeader(ctx, "scopes", "c-scopes"),
                sortHeader(ctx, "lastSeen", "c-seen"),
                sortHeader(ctx, "status", "c-status"),
                h("th", { scope: "col", class: "c-menu" }, h("span", { class: "sr-only" }, "Actions")),
              ),
            ),
            h("tbody", {}, rows),
          ),
        ),
  ];
}
