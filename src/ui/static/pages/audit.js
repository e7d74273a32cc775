// The audit tail: every admission decision and management action, newest first, with the rules
// that produced it and what each rule means (sentences from the gateway's policy, sent with the
// rows by audit.list). New rows arrive with gateway events (no polling).

import { chips, h, shortId, table, timeAgo } from "../dom.js";

function decisionBadge(r) {
  const kind = /reject|refus|revok|remov/.test(r.decision)
    ? "bad"
    : /pend/.test(r.decision)
      ? "pending"
      : "ok";
  return h("span", { class: ["badge", `badge-${kind}`] }, r.decision);
}

/** `device:<id>` with the id shortened; other actors as they are. */
function actor(a) {
  if (!a) return h("span", { class: "muted" }, "—");
  const m = /^device:([0-9a-f]{64})$/.exec(a);
  return m ? h("span", {}, "device ", shortId(m[1])) : h("code", {}, a);
}

export const auditPage = {
  id: "audit",
  title: "Audit",
  needs: ["audit"],
  render(ctx) {
    const rows = ctx.data.audit;
    return h(
      "div",
      { class: "page" },
      h("h1", {}, "Audit log"),
      h(
        "p",
        { class: "muted" },
        "The newest entries first. Expand a row's trace to see which rules decided it.",
      ),
      !rows
        ? h("p", { class: "muted" }, ctx.errors.audit ?? "Loading…")
        : table(
            [
              { label: "When", cell: (r) => timeAgo(r.tsMs) },
              {
                label: "Event",
                cell: (r) =>
                  h(
                    "span",
                    { class: "event" },
                    h("code", {}, r.kind),
                    " ",
                    decisionBadge(r),
                    r.reason ? h("code", { class: "reason" }, r.reason) : null,
                  ),
              },
              { label: "Device", cell: (r) => shortId(r.deviceId) },
              {
                label: "Who",
                cell: (r) =>
                  h(
                    "span",
                    {},
                    r.client ? r.client : actor(r.actor),
                    r.role ? h("span", { class: "muted" }, ` · ${r.role}`) : null,
                    r.peer ? h("span", { class: "muted block" }, `from ${r.peer}`) : null,
                    r.client && r.actor ? h("span", { class: "muted block" }, "by ", actor(r.actor)) : null,
                  ),
              },
              {
                label: "Scopes",
                cell: (r) => (r.scopes ? chips(r.scopes) : h("span", { class: "muted" }, "—")),
              },
              {
                label: "Trace",
                cell: (r) =>
                  r.trace && r.trace.length > 0
                    ? h(
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
                              ctx.data.auditRules[t]
                                ? h("span", { class: "muted block" }, ctx.data.auditRules[t])
                                : null,
                            ),
                          ),
                        ),
                      )
                    : h("span", { class: "muted" }, "—"),
              },
            ],
            rows,
            {
              empty: "The audit log is empty.",
              rowAttrs: (r) => ({
                "data-audit-id": String(r.id),
                class: ctx.freshAudit.has(r.id) ? "fresh" : "",
              }),
            },
          ),
    );
  },
};
