// /join/{tournament id}: a player types the short code from the organizer's sheet and gets their
// link for the whole event (POST /api/tournaments/{id}/join), then goes to /me/{id}.

import { ApiError, post } from "../api.js";
import { byId, h, render, segment, waitBeforeRetry } from "../dom.js";
import { forgetToken, saveToken } from "../token.js";

const main = byId("main");
const tournamentId = segment(1);

/** A code as typed ("abcd-efgh ", "ab cd ef gh") as the sheet prints it. */
function cleanCode(typed) {
  return typed.toUpperCase().replace(/[\s-]+/g, "");
}

const input = h("input", { id: "join-code", name: "code", class: "code-input", required: true, maxlength: 40,
  autocomplete: "off", autocapitalize: "characters", spellcheck: "false", enterkeyhint: "go",
  "aria-describedby": "join-hint" });
const submit = h("button", { type: "submit", class: "primary big-action", id: "join-submit" }, "Open my matches");
const error = h("p", { id: "join-error", class: "error", role: "alert" });

document.title = "Join · livebracket";
byId("page-title").textContent = "Join the tournament";
render(main,
  h("section", { class: "panel join" },
    h("form", { class: "stack", onsubmit: (e) => {
      e.preventDefault();
      join();
    } },
    h("label", { for: "join-code", class: "join-label" }, "Your code"),
    h("p", { id: "join-hint", class: "muted" }, "The 8-letter code from the sheet or card the organizer gave you. "
      + "Small letters, spaces and dashes are fine."),
    input, submit, error)));
input.focus();
// A printed card's QR code opens /join/<id>?code=...: join at once, and take the code out of the address.
const fromQr = new URL(location.href).searchParams.get("code");
if (fromQr) {
  input.value = fromQr;
  history.replaceState(history.state, "", location.pathname);
  join();
}

async function join() {
  const code = cleanCode(input.value);
  error.textContent = "";
  if (!code) {
    error.textContent = "Type your code first.";
    input.focus();
    return;
  }
  submit.disabled = true;
  try {
    // A link kept from before (revoked, say) would be sent along and refused: typing a code replaces it.
    forgetToken();
    const link = await post(`/api/tournaments/${tournamentId}/join`, { code });
    saveToken(link.token);
    location.assign(`/me/${encodeURIComponent(tournamentId)}`);
  } catch (e) {
    submit.disabled = false;
    refused(e);
  }
}

function refused(e) {
  if (!(e instanceof ApiError)) {
    error.textContent = String(e);
  } else if (e.status === 404) {
    error.textContent = `No player of this tournament has the code ${cleanCode(input.value)}: check it and try again.`;
  } else if (e.status === 429) {
    waitBeforeRetry(submit, error, e);
    return;
  } else if (e.status === 422 || e.status === 400) {
    error.textContent = "That is not a code: it has 8 letters and digits.";
  } else {
    error.textContent = e.message || `The server refused (${e.status}).`;
  }
  input.focus();
  input.select();
}
