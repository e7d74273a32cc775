// The audit log: every admission decision and management action, newest first, with the rules
// that produced it and what each rule means (sentences from the gateway's policy, sent with the
// rows by audit.list). Filters (decision, device, refusals only) run on the gateway. The `admit`
// row every CLI command leaves is hidden by default — the page says how many — and when shown,
// runs of the same row are folded into one. New rows arrive with gateway events (no polling).

import { deviceName, h, scopeSummary, timeAgo } from "../dom.js";

const PAGE = 100;

/** The filters survive re-renders and page changes; the devices page can set the device. */
const filters = { decision: "", deviceId: "", refusalsOnly: false, showRoutine: false };
const opened = new Set();

/** Shows the audit page filtered to one device. */
export function auditForDevice(deviceId) {
  Object.assign(filters, { decision: "", deviceId, refusalsOnly: false });
  location.hash = "#/audit";
}

/** The audit.list filter params for the current filters. */
export function auditQuery() {
  return {
    ...(filters.decision ? { decisions: [filters.decision] } : {}),
    ...(filters.deviceId ? { deviceId: filters.deviceId } : {}),
    ...(filters.refusalsOnly ? { refusalsOnly: true } : {}),
    ...(filters.showRoutine ? {} : { hideRoutine: true }),
  };
}

/**
 * Loads the newest rows for the current filters (as many as are shown, so a refresh does not
 * drop the pages loaded with "Older"); marks rows that were not there before as fresh.
 */
export async function loadAudit(request, previous, rules, fresh) {
  const query = auditQuery();
  const key = JSON.stringify(query);
  const same = previous?.key === key;
  const limit = same ? Math.min(1000, Math.max(PAGE, previous.rows.length)) : PAGE;
  const res = await request("audit.list", { ...query, limit });
  Object.assign(rules, res.rules ?? {});
  if (same && previous.rows.length > 0) {
    const newest = previous.rows[0].id;
    const added = res.rows.filter((r) => r.id > newest).map((r) => r.id);
    for (const id of added) fresh.add(id);
    setTimeout(() => {
      for (const id of added) fresh.delete(id);
    }, 4000);
  }
  return {
    key,
    rows: res.rows,
    more: res.rows.length === limit,
    hiddenRoutine: res.hiddenRoutine ?? 0,
    decisions: res.decisions ?? [],
  };
}

function isRefusal(r) {
  return r.decision === "reject" || r.decision.startsWith("pend");
}

function decisionBadge(r) {
  const kind = /reject|refus|revok|remov/.test(r.decision)
    ? "bad"
    : /pend/.test(r.decision)
      ? "pending"
      : "ok";
  return h("span", { class: ["badge", `badge-${kind}`] }, r.decision);
}

/** Consecutive rows that say the same thing (kind, decision, device, client, peer) fold into one. */
export function groupRows(rows) {
  const groups = [];
  for (const r of rows) {
    const last = groups[groups.length - 1];
    const same =
      last &&
      last.head.kind === r.kind &&
      last.head.decision === r.decision &&
      last.head.deviceId === r.deviceId &&
      last.head.client === r.client &&
      last.head.peer === r.peer &&
      last.head.reason === r.reason;
    if (same) last.rows.push(r);
    else groups.push({ head: r, rows: [r] });
  }
  return groups;
}

function shortDevice(id, names) {
  if (!id) return h("span", { class: "muted" }, "—");
  const name = names.get(id);
  return h(
    "span",
    { class: "adev", title: id },
    name ? h("span", { class: "adev-name" }, name) : null,
    h("code", { class: "id" }, id.slice(0, 8)),
  );
}

/** `device:<id>` with the device's name; other actors as they are. */
function actor(a, names) {
  if (!a) return null;
  const m = /^device:([0-9a-f]{64})$/.exec(a);
  return h("span", { class: "muted block" }, "by ", m ? shortDevice(m[1], names) : h("code", {}, a));
}

function traceCell(ctx, r) {
  if (!r.trace || r.trace.length === 0) return h("span", { class: "muted" }, "—");
  return h(
    "details",
    {},
    h("summary", {}, `${r.trace.length} rules`),
    h(
      "ol",
      { class: "trace" },
      r.trace.map((t) =>
        h(
          "li",
          {},
          h("code", {}, t),
          ctx.data.auditRules[t] ? h("span", { class: "muted block" }, ctx.data.auditRules[t]) : null,
        ),
      ),
    ),
  );
}

function row(ctx, r, names, group) {
  const n = group?.rows.length ?? 1;
  const oldest = group ? group.rows[n - 1] : r;
  const open = group && opened.has(r.id);
  return h(
    "tr",
    {
      "data-audit-id": String(r.id),
      class: [ctx.freshAudit.has(r.id) && "fresh", isRefusal(r) && "refusal", group && "grouped"],
    },
    h(
      "td",
      { class: "a-when" },
      timeAgo(r.tsMs),
      n > 1 ? h("span", { class: "muted block small" }, "first ", timeAgo(oldest.tsMs)) : null,
    ),
    h(
      "td",
      { class: "a-what" },
      h(
        "span",
        { class: "event" },
        decisionBadge(r),
        n > 1
          ? h(
              "button",
              {
                type: "button",
                class: "times",
                "aria-expanded": open ? "true" : "false",
                title: open ? "Fold these rows" : `Show all ${n} rows`,
                "data-key": `group:${r.id}`,
                onclick: () => {
                  if (open) opened.delete(r.id);
                  else opened.add(r.id);
                  ctx.rerender();
                },
              },
              `×${n}`,
            )
          : null,
        h("code", { class: "kind" }, r.kind),
        r.reason ? h("code", { class: "reason" }, r.reason) : null,
      ),
    ),
    h("td", { class: "a-dev" }, shortDevice(r.deviceId, names)),
    h(
      "td",
      { class: "a-who" },
      r.client ? h("span", {}, r.client) : null,
      r.role
        ? h(
            "span",
            { class: "muted", title: r.scopes?.join(" ") ?? "" },
            ` · ${r.role}`,
            r.scopes ? ` (${scopeSummary(r.scopes, [r.role])})` : "",
          )
        : null,
      r.peer ? h("span", { class: "muted" }, ` · ${r.peer}`) : null,
      actor(r.actor, names),
    ),
    h("td", { class: "a-trace" }, traceCell(ctx, r)),
  );
}

function toolbar(ctx, data, names) {
  const set = (patch) => {
    Object.assign(filters, patch);
    ctx.refresh("audit");
  };
  const devices = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  if (filters.deviceId && !names.has(filters.deviceId))
    devices.unshift([filters.deviceId, filters.deviceId.slice(0, 12)]);
  const decisions = [...new Set([...(data?.decisions ?? []), filters.decision].filter(Boolean))];
  return h(
    "div",
    { class: "toolbar audit-filters", role: "group", "aria-label": "Filter the audit log" },
    h(
      "label",
      { class: "sort-select" },
      h("span", { class: "muted small" }, "Decision"),
      h(
        "select",
        {
          id: "audit-decision",
          "data-key": "audit-decision",
          onchange: (e) => set({ decision: e.target.value }),
        },
        h("option", { value: "" }, "all"),
        decisions.map((d) => h("option", { value: d, selected: filters.decision === d }, d)),
      ),
    ),
    h(
      "label",
      { class: "sort-select" },
      h("span", { class: "muted small" }, "Device"),
      h(
        "select",
        {
          id: "audit-device",
          "data-key": "audit-device",
          onchange: (e) => set({ deviceId: e.target.value }),
        },
        h("option", { value: "" }, "all devices"),
        devices.map(([id, name]) =>
          h("option", { value: id, selected: filters.deviceId === id }, `${name} · ${id.slice(0, 8)}`),
        ),
      ),
    ),
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        id: "audit-refusals",
        "data-key": "audit-refusals",
        checked: filters.refusalsOnly,
        onchange: (e) => set({ refusalsOnly: e.target.checked }),
      }),
      "Refusals only",
    ),
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        id: "audit-routine",
        "data-key": "audit-routine",
        checked: filters.showRoutine,
        onchange: (e) => set({ showRoutine: e.target.checked }),
      }),
      "Show routine admits",
    ),
  );
}

function summary(ctx, data) {
  if (!data) return null;
  const parts = [`${data.rows.length}${data.more ? "+" : ""} entries`];
  return h(
    "p",
    { class: "muted small audit-summary", id: "audit-summary" },
    parts.join(""),
    !filters.showRoutine && data.hiddenRoutine > 0
      ? [
          ` · ${data.hiddenRoutine.toLocaleString("en")} routine admits hidden (a device its approval already covers, connecting again) · `,
          h(
            "button",
            {
              type: "button",
              class: "link-btn inline-link",
              "data-key": "show-routine",
              onclick: () => {
                filters.showRoutine = true;
                ctx.refresh("audit");
              },
            },
            "show them",
          ),
        ]
      : null,
  );
}

async function older(ctx, data) {
  const last = data.rows[data.rows.length - 1];
  try {
    const res = await ctx.request("audit.list", { ...auditQuery(), beforeId: last.id, limit: PAGE });
    Object.assign(ctx.data.auditRules, res.rules ?? {});
    data.rows = [...data.rows, ...res.rows];
    data.more = res.rows.length === PAGE;
    ctx.rerender();
  } catch (err) {
    ctx.notify(`Could not load older entries: ${err.message}`, "error");
  }
}

export const auditPage = {
  id: "audit",
  title: "Audit",
  needs: ["audit", "devices"],
  render(ctx) {
    const data = ctx.data.audit;
    const names = new Map((ctx.data.devices?.paired ?? []).map((d) => [d.deviceId, deviceName(d)]));
    const groups = data ? groupRows(data.rows) : [];
    const body = groups.flatMap((g) => {
      if (g.rows.length === 1) return [row(ctx, g.head, names, null)];
      const head = row(ctx, g.head, names, g);
      return opened.has(g.head.id) ? [head, ...g.rows.slice(1).map((r) => row(ctx, r, names, null))] : [head];
    });
    return h(
      "div",
      { class: "page" },
      h("h1", {}, "Audit log"),
      h("p", { class: "muted" }, "Newest first. Open a row's rules to see why it was decided that way."),
      toolbar(ctx, data, names),
      summary(ctx, data),
      !data
        ? h("p", { class: "muted" }, ctx.errors.audit ?? "Loading…")
        : body.length === 0
          ? h("p", { class: "empty" }, "No entries match these filters.")
          : h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { class: "atable", id: "audit-table" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ["When", "Decision", "Device", "Client", "Rules"].map((l) =>
                      h("th", { scope: "col" }, l),
                    ),
                  ),
                ),
                h("tbody", {}, body),
              ),
            ),
      data?.more
        ? h(
            "div",
            { class: "actions" },
            h(
              "button",
              { type: "button", class: "btn", "data-key": "audit-older", onclick: () => older(ctx, data) },
              "Older entries",
            ),
          )
        : null,
    );
  },
};
