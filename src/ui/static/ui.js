// Confirmation dialogs and notices. The dialog is a native <dialog> (focus stays inside, Escape
// cancels); notices go to an aria-live region.

import { h, replace } from "./dom.js";

/**
 * Asks before doing something. `body` is what will happen, spelled out; with `input` the dialog
 * has one text field and resolves with its value (null on cancel). Otherwise resolves true/false.
 */
export function confirmAction({ title, body, confirmLabel = "Confirm", danger = false, input = null }) {
  const dialog = document.getElementById("dialog");
  return new Promise((resolve) => {
    let field = null;
    const cancel = h("button", { type: "button", class: "btn", value: "cancel" }, "Cancel");
    const ok = h(
      "button",
      { type: "submit", class: ["btn", danger ? "btn-danger" : "btn-primary"] },
      confirmLabel,
    );
    if (input) {
      field = h("input", {
        id: "dialog-input",
        type: "text",
        value: input.value ?? "",
        required: true,
        minlength: input.minLength ?? 1,
        maxlength: input.maxLength ?? 64,
        autocomplete: "off",
        spellcheck: "false",
      });
    }
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", { id: "dialog-title" }, title),
      h("div", { class: "dialog-body" }, body),
      input ? h("label", { class: "field", for: "dialog-input" }, input.label, field) : null,
      h("div", { class: "dialog-actions" }, cancel, ok),
    );
    let answered = false;
    const finish = (value) => {
      if (answered) return;
      answered = true;
      dialog.close();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(input ? null : false));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (field && !field.reportValidity()) return;
      finish(input ? field.value.trim() : true);
    });
    dialog.onclose = () => finish(input ? null : false);
    dialog.setAttribute("aria-labelledby", "dialog-title");
    replace(dialog, form);
    dialog.showModal();
    (field ?? (danger ? cancel : ok)).focus();
  });
}

/** A short notice at the bottom of the page (errors stay until dismissed). */
export function notify(message, kind = "info") {
  const region = document.getElementById("notices");
  const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss" }, "×");
  const el = h(
    "div",
    { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : "status" },
    h("span", {}, message),
    close,
  );
  close.addEventListener("click", () => el.remove());
  region.appendChild(el);
  // At most three at a time: the oldest give way.
  while (region.children.length > 3) region.firstElementChild.remove();
  if (kind !== "error") setTimeout(() => el.remove(), 4000);
}
