// The desk's one confirmation for what destroys something: a modal <dialog> that says what will
// happen, with the destructive button named for it ("Dave forfeits W1-1"), and, for what cannot
// be undone at all (deleting a tournament), the name typed before the button wakes.

import { h } from "./dom.js";

/**
 * `confirmAction({title, text, confirm, typed})` resolves true when the organizer confirms, false
 * when they cancel (the button, Escape, or the backdrop). `text` is a string or nodes; `typed`,
 * when given, must be typed exactly before `confirm` can be pressed.
 */
export function confirmAction({ title, text, confirm, typed = null }) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "submit", class: "danger", id: "confirm-yes", disabled: typed !== null }, confirm);
    const input = typed === null ? null : h("input", { id: "confirm-typed", autocomplete: "off", spellcheck: "false",
      "aria-describedby": "confirm-text", oninput: () => { yes.disabled = input.value.trim() !== typed; } });
    const dialog = h("dialog", { class: "confirm-dialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("form", { method: "dialog", class: "stack", onsubmit: (e) => {
        e.preventDefault();
        if (!yes.disabled) dialog.close("yes");
      } },
      h("h2", { id: "confirm-title" }, title),
      h("div", { id: "confirm-text" }, text),
      input ? h("div", { class: "field" }, h("label", { for: "confirm-typed" }, `Type “${typed}” to confirm`), input)
        : null,
      h("div", { class: "row" }, yes,
        h("button", { type: "button", id: "confirm-no", onclick: () => dialog.close("no") }, "Keep it"))));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close("no"); // the backdrop
    });
    document.body.append(dialog);
    dialog.showModal();
    (input ?? yes).focus();
  });
}
