// Sessions: processes the gateway runs for callers (sub-agents, cron runs), and what they printed.
// A session's output comes from sessions.get, which shows it to the session's chain of creators
// and to admins only; anyone else gets the redacted record, and the page says so.

import { h, replace, shortId, timeAgo } from "../dom.js";

/** Session ids whose output panel is open; kept across redraws. */
const open = new Set();
/** The last sessions.get answer per open session. */
const outputs = new Map();
/** While a running session's output is open it is re-read this often (no output events exist). */
const LIVE_MS = 2000;
let liveTimer = null;

function statusBadge(s) {
  return h("span", { class: ["badge", `badge-${s.status}`] }, s.status);
}

function commandText(cmd) {
  return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** `device:<id>` with the id shortened; other callers as they are. */
export function by(createdBy) {
  const m = /^device:([0-9a-f]{64})$/.exec(createdBy ?? "");
  return m ? h("span", {}, "device ", shortId(m[1])) : h("code", {}, createdBy ?? "—");
}

async function kill(ctx, s) {
  const ok = await ctx.confirm({
    title: `Stop session ${s.id}?`,
    body: h(
      "p",
      {},
      "The process ",
      h("code", {}, commandText(s.command)),
      ` (pid ${s.pid ?? "?"}) gets SIGTERM, then SIGKILL if it does not exit. Its runtime token stops working.`,
    ),
    confirmLabel: "Stop session",
    danger: true,
  });
  if (!ok) return;
  await ctx.act("sessions.kill", { id: s.id }, `Stopped session ${s.id}.`, ["sessions"]);
  if (open.has(s.id)) void loadOutput(ctx, s.id);
}

/** Reads a session's output, then again every LIVE_MS while it runs and its panel stays open. */
async function loadOutput(ctx, id) {
  try {
    outputs.set(id, await ctx.request("sessions.get", { id }));
  } catch (err) {
    outputs.set(id, { error: err.message });
  }
  const panel = document.getElementById(`output-${id}`);
  if (panel) replace(panel, outputBody(outputs.get(id)));
  else ctx.rerender();
  clearTimeout(liveTimer);
  const live = [...open].filter((sid) => outputs.get(sid)?.status === "running");
  if (live.length > 0 && location.hash.startsWith("#/sessions")) {
    liveTimer = setTimeout(() => {
      for (const sid of live) if (open.has(sid)) void loadOutput(ctx, sid);
    }, LIVE_MS);
  }
}

function stream(label, text, cls) {
  return h(
    "div",
    { class: "stream" },
    h("div", { class: "stream-head muted small" }, label),
    text
      ? h("pre", { class: ["output", cls], tabindex: "0" }, text)
      : h("p", { class: "muted small" }, "(nothing)"),
  );
}

function outputBody(s) {
  if (!s) return h("p", { class: "muted" }, "Loading output…");
  if (s.error) return h("p", { class: "warn" }, `Could not read the output: ${s.error}`);
  if (s.redacted)
    return h(
      "p",
      { class: "muted", "data-redacted": "true" },
      "Output hidden: only the session's chain of creators and operator.admin see its command, label and output.",
    );
  return [
    s.status === "running"
      ? h(
          "p",
          { class: "muted small live" },
          h("span", { class: "dot", "aria-hidden": "true" }),
          "running — updating",
        )
      : h(
          "p",
          { class: "muted small" },
          `${s.status}`,
          s.exitCode !== null ? ` with exit code ${s.exitCode}` : "",
          s.signal ? ` (${s.signal})` : "",
          s.endReason ? ` — ${s.endReason}` : "",
        ),
    s.error ? h("p", { class: "warn" }, s.error) : null,
    stream("stdout (last part)", s.stdoutTail, "stdout"),
    stream("stderr (last part)", s.stderrTail, "stderr"),
  ];
}

function toggle(ctx, s) {
  if (open.has(s.id)) {
    open.delete(s.id);
    ctx.rerender();
    return;
  }
  open.add(s.id);
  ctx.rerender();
  void loadOutput(ctx, s.id);
}

function rows(ctx, sessions) {
  return sessions.flatMap((s) => {
    const isOpen = open.has(s.id);
    const row = h(
      "tr",
      { "data-session-id": s.id, class: ["session-row", isOpen && "is-open"] },
      h(
        "td",
        { class: "s-id" },
        h(
          "button",
          {
            type: "button",
            class: "link-btn",
            "aria-expanded": isOpen ? "true" : "false",
            "aria-controls": `output-${s.id}`,
            "data-key": `output:${s.id}`,
            title: isOpen ? "Hide the output" : "Show the output",
            onclick: () => toggle(ctx, s),
          },
          h("span", { class: "caret", "aria-hidden": "true" }, isOpen ? "▾" : "▸"),
          h("code", {}, s.id),
        ),
      ),
      h("td", { class: "s-status" }, statusBadge(s)),
      h(
        "td",
        { class: "s-cmd" },
        s.redacted
          ? h("span", { class: "muted" }, "hidden")
          : h("code", { class: "cmd" }, (s.label ? `[${s.label}] ` : "") + commandText(s.command)),
      ),
      h("td", { class: "s-started" }, timeAgo(s.startedAtMs)),
      h("td", { class: "s-by" }, by(s.createdBy)),
      h("td", { class: "s-exit" }, s.signal ?? (s.exitCode === null ? "—" : String(s.exitCode))),
      h(
        "td",
        { class: "s-act" },
        s.status === "running" && !s.redacted
          ? h(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                "data-key": `kill:${s.id}`,
                onclick: () => kill(ctx, s),
              },
              "Stop…",
            )
          : null,
      ),
    );
    if (!isOpen) return [row];
    return [
      row,
      h(
        "tr",
        { class: "output-row", "data-output-for": s.id },
        h(
          "td",
          { colspan: "7" },
          h("div", { id: `output-${s.id}`, class: "output-box" }, outputBody(outputs.get(s.id))),
        ),
      ),
    ];
  });
}

export const sessionsPage = {
  id: "sessions",
  title: "Sessions",
  needs: ["sessions"],
  refreshOnVisit: ["sessions"],
  render(ctx) {
    const data = ctx.data.sessions;
    return h(
      "div",
      { class: "page" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "Sessions"),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            "data-key": "refresh-sessions",
            onclick: () => {
              ctx.refresh("sessions");
              for (const id of open) void loadOutput(ctx, id);
            },
          },
          "Refresh",
        ),
      ),
      h(
        "p",
        { class: "muted" },
        "Processes the gateway started for its callers. Each runs with a short-lived runtime token, never the shared secret. Open a session to see what it printed.",
      ),
      !data
        ? h("p", { class: "muted" }, ctx.errors.sessions ?? "Loading…")
        : data.sessions.length === 0
          ? h("p", { class: "empty" }, "No sessions yet.")
          : h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { class: "stable", id: "session-table" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ["Session", "Status", "Command", "Started", "By", "Exit", ""].map((l) =>
                      h("th", { scope: "col" }, l),
                    ),
                  ),
                ),
                h("tbody", {}, rows(ctx, data.sessions)),
              ),
            ),
    );
  },
};
