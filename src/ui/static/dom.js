// Tiny DOM helpers. Text always goes in as text (never HTML), so nothing a device claims about
// itself (display names, client ids) can inject markup.

/**
 * `h("button", {class: "btn", onclick}, "Approve")`. Attributes starting with `on` become event
 * listeners; `false`/null/undefined attributes and children are skipped; strings become text.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** "12s ago", "5 min ago", "3 h ago", "2 d ago"; "in 4 min" for the future. */
export function relativeTime(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return "never";
  const d = Math.round((now - ms) / 1000);
  const abs = Math.abs(d);
  const text =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)} min`
        : abs < 86400
          ? `${Math.floor(abs / 3600)} h`
          : `${Math.floor(abs / 86400)} d`;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** A `<time>` that keeps its relative text current (see refreshTimes). */
export function timeAgo(ms) {
  if (ms === null || ms === undefined) return h("span", { class: "muted" }, "never");
  return h(
    "time",
    {
      datetime: new Date(ms).toISOString(),
      title: new Date(ms).toLocaleString(),
      dataset: { ts: String(ms) },
    },
    relativeTime(ms),
  );
}

/** Updates every timeAgo() on the page (local clock only; asks the gateway nothing). */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll("time[data-ts]"))
    el.textContent = relativeTime(Number(el.dataset.ts), now);
}

/** "3m12s"-style durations. */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hr / 24)}d${String(hr % 24).padStart(2, "0")}h`;
}

/** First 12 hex characters of a deviceId, full id in the title. */
export function shortId(id) {
  if (!id) return h("span", { class: "muted" }, "—");
  return h("code", { class: "id", title: id }, id.length > 12 ? `${id.slice(0, 12)}…` : id);
}

/** A row of scope/role chips; `highlight` marks the ones that are new. */
export function chips(values, { highlight = [], empty = "none" } = {}) {
  if (!values || values.length === 0) return h("span", { class: "muted" }, empty);
  return h(
    "span",
    { class: "chips" },
    values.map((v) => h("span", { class: ["chip", highlight.includes(v) && "chip-new"] }, v)),
  );
}

/** A table that turns into labelled cards at narrow widths (labels come from `data-label`). */
export function table(columns, rows, { empty = "Nothing here.", rowAttrs } = {}) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => h("th", { scope: "col" }, c.label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            rowAttrs ? rowAttrs(r) : {},
            columns.map((c) => h("td", { "data-label": c.label, class: c.class }, c.cell(r))),
          ),
        ),
      ),
    ),
  );
}

/** Display name precedence: label > displayName > clientId > short deviceId. */
export function deviceName(d) {
  return d.label || d.displayName || d.clientId || (d.deviceId ? d.deviceId.slice(0, 12) : "unknown device");
}

/** Scopes in a few words: `admin` covers every operator scope, others lose their `operator.` prefix. */
export function scopeSummary(scopes, roles = []) {
  // Scopes are an operator's: a node-only device has none, and that is not a lack.
  if ((!scopes || scopes.length === 0) && roles.length > 0 && !roles.includes("operator")) return "—";
  if (!scopes || scopes.length === 0) return "none";
  if (scopes.includes("operator.admin")) return "admin";
  const words = scopes.map((s) => s.replace(/^operator\./, ""));
  return words.length <= 3 ? words.join(", ") : `${words.slice(0, 2).join(", ")} +${words.length - 2}`;
}
