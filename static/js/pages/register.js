// /register/{tournament id}?code=XXXX: a player registers themselves with the code of the
// organizer's registration link (POST /api/tournaments/{id}/register, no token needed), is told
// where they stand (registered, on the waitlist with their place, waiting for approval), and
// keeps the link the server answers, as /join does, for their page /me/{id}.

import { ApiError, get, post } from "../api.js";
import { byId, h, render, segment, stopWaiting, waitBeforeRetry } from "../dom.js";
import { currentToken, forgetToken, saveToken } from "../token.js";

const main = byId("main");
const tournamentId = segment(1);
const fromLink = new URL(location.href).searchParams.get("code") ?? "";

/** A code as typed ("abcd-efgh ", "ab cd ef gh"), as the server reads it. */
function cleanCode(typed) {
  return typed.toUpperCase().replace(/[\s-]+/g, "");
}

const codeInput = h("input", { id: "reg-code-input", name: "code", class: "code-input", maxlength: 40, value: fromLink,
  autocomplete: "off", autocapitalize: "characters", spellcheck: "false", "aria-describedby": "reg-code-hint" });
const codeField = h("div", { class: "field", hidden: Boolean(fromLink) },
  h("label", { for: "reg-code-input" }, "Registration code"), codeInput,
  h("small", { id: "reg-code-hint" }, "The 8-letter code of the organizer's registration link or poster."));
const nameInput = h("input", { id: "reg-name", name: "name", required: true, maxlength: 100, autocomplete: "nickname",
  enterkeyhint: "go" });
const idInput = h("input", { id: "reg-id", name: "id", maxlength: 64, pattern: "[A-Za-z0-9_\\-]{1,64}", autocomplete: "off",
  autocapitalize: "none", spellcheck: "false", "aria-describedby": "reg-id-hint" });
const submit = h("button", { type: "submit", class: "primary big-action", id: "reg-submit" }, "Register");
const error = h("p", { id: "reg-error", class: "error", role: "alert" });

title("Register");
render(main,
  h("section", { class: "panel register", "aria-labelledby": "reg-form-title" },
    h("h2", { id: "reg-form-title" }, "Sign up to play"),
    h("form", { class: "stack", onsubmit: (e) => {
      e.preventDefault();
      register();
    } },
    codeField,
    h("div", { class: "field" }, h("label", { for: "reg-name" }, "Your name"), nameInput,
      h("small", {}, "As it shows in the bracket.")),
    h("div", { class: "field" }, h("label", { for: "reg-id" }, "Player id (optional)"), idInput,
      h("small", { id: "reg-id-hint" }, "Letters, digits, _ and -, if the organizer asked for one.")),
    submit, error)));
if (!fromLink) codeInput.focus();
else nameInput.focus();
showName();

function title(text) {
  byId("page-title").textContent = text;
  document.title = `${text} · livebracket`;
}

/** The tournament's name, when a token kept from before may read it (the route needs one). */
async function showName() {
  if (!currentToken()) return;
  try {
    const tournament = await get(`/api/tournaments/${tournamentId}`);
    title(`Register: ${tournament.name}`);
  } catch {
    // no name to show: "Register" stays
  }
}

async function register() {
  stopWaiting(submit);
  error.textContent = "";
  const code = cleanCode(codeInput.value);
  const name = nameInput.value.trim();
  if (!code) {
    codeField.hidden = false;
    error.textContent = "Type the registration code first.";
    codeInput.focus();
    return;
  }
  if (!name) {
    error.textContent = "Type your name first.";
    nameInput.focus();
    return;
  }
  const body = { code, name };
  if (idInput.value.trim()) body.id = idInput.value.trim();
  submit.disabled = true;
  const kept = currentToken();
  forgetToken(); // registering needs no token; the answer brings the player's own
  try {
    const link = await post(`/api/tournaments/${tournamentId}/register`, body);
    saveToken(link.token);
    done(link);
  } catch (e) {
    if (kept) saveToken(kept);
    submit.disabled = false;
    refused(e, body);
  }
}

/** Where the player stands now, and the way to their page. */
function done(link) {
  const headline = {
    registered: "You are registered",
    waitlisted: `You are on the waitlist, place ${link.place}`,
    pending: "Waiting for the organizer's approval",
  }[link.status] ?? `You are ${link.status}`;
  const more = {
    registered: "Your page shows when to check in and, once the tournament starts, your matches.",
    waitlisted: "The tournament is full: you get a place as soon as one frees up, in waitlist order. "
      + "Your page shows it, and lets you check in meanwhile.",
    pending: "The organizer looks at each registration. Your page shows when you are in.",
  }[link.status] ?? "";
  title(headline);
  render(main,
    h("section", { class: `panel register reg-done ${link.status}`, "aria-labelledby": "reg-done-title" },
      h("h2", { id: "reg-done-title", role: "status" }, headline),
      h("p", {}, h("strong", {}, link.name), `. ${more}`),
      link.code ? h("p", { class: "reg-your-code" }, "Your code, to open your page on another phone at ",
        h("a", { href: `/join/${encodeURIComponent(tournamentId)}` }, `/join/${tournamentId}`), ": ",
        h("strong", { id: "reg-player-code", class: "reg-code" }, link.code)) : null,
      h("p", {}, h("a", { id: "reg-open-page", class: "button primary big-action",
        href: `/me/${encodeURIComponent(tournamentId)}` }, "Open my page"))));
  byId("reg-open-page").focus();
}

function refused(e, body) {
  let focus = nameInput;
  if (!(e instanceof ApiError)) {
    error.textContent = String(e);
  } else if (e.status === 404) {
    codeField.hidden = false;
    error.textContent = `This registration link does not work: ${body.code} is not this tournament's registration `
      + "code. Check it, or ask the organizer for the current link.";
    focus = codeInput;
  } else if (e.status === 429) {
    waitBeforeRetry(submit, error, e);
    return;
  } else if (e.code === "registration_closed") {
    error.textContent = "Registration is closed: ask the organizer.";
  } else if (e.code === "registration_full") {
    const cap = e.details.cap;
    error.textContent = `The tournament is full${cap ? ` (${cap} place${cap === 1 ? "" : "s"})` : ""} and has no waitlist.`;
  } else if (e.code === "already_exists" && body.id && !/named/.test(e.message)) {
    error.textContent = `The player id “${body.id}” is taken: pick another, or leave it empty.`;
    focus = idInput;
  } else if (e.code === "already_exists") {
    error.textContent = `The name “${body.name}” is taken: pick another.`;
  } else if (e.code === "draw_in_progress") {
    error.textContent = "The organizer is drawing the seeding live: try again in a moment.";
  } else if (e.code === "invalid_state") {
    error.textContent = "The tournament has started: registration is over.";
  } else {
    const message = e.message || `The server refused (${e.status}).`;
    error.textContent = message[0].toUpperCase() + message.slice(1);
    if (e.details.field === "id") focus = idInput;
  }
  focus.focus();
  focus.select?.();
}
