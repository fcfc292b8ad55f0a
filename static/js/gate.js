// The sign-in panel shown when a page has no usable token: paste one, or open a link that has it.

import { ApiError } from "./api.js";
import { h, render } from "./dom.js";
import { forgetToken, saveToken } from "./token.js";

export function showGate(main, reason = "") {
  document.body.dataset.connection = "offline";
  const input = h("input", { id: "token-input", name: "token", type: "password", autocomplete: "off",
    required: true, spellcheck: "false" });
  render(main,
    h("section", { class: "panel gate", "aria-labelledby": "gate-title" },
      h("h2", { id: "gate-title" }, "An access token is needed"),
      reason ? h("p", { role: "alert" }, reason) : null,
      h("p", {}, "Open the link the organizer gave you (it ends in ?token=…), or paste the token here. ",
        "The server prints an organizer token when it starts."),
      h("form", {
        class: "row",
        onsubmit: (e) => {
          e.preventDefault();
          saveToken(input.value.trim());
          location.reload();
        },
      },
      h("label", { for: "token-input" }, "Token"), input,
      h("button", { type: "submit" }, "Continue"))));
  input.focus();
}

/** A refused token: forget it and ask again. */
export function tokenRefused(main, message) {
  forgetToken();
  showGate(main, `The token was refused: ${message}`);
}

/** The tournament was deleted while the page watched it (its room's last event). */
export function tournamentGone(main, frame) {
  const name = frame?.data?.name;
  render(main, h("p", { role: "alert", id: "tournament-gone" },
    `${name ? `“${name}”` : "This tournament"} was deleted by its organizer.`));
}

/** A tournament page's first load failed: a refused token opens the gate, else the reason. */
export function loadFailed(main, error) {
  if (error instanceof ApiError && error.status === 401) tokenRefused(main, error.message);
  else render(main, h("p", { role: "alert" }, error.status === 404 ? "No such tournament." : error.message));
}
