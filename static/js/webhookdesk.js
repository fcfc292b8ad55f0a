// The desk's webhooks panel: the tournament's webhooks (address, events, on or off, paused and
// why), add one (its secret shown once), edit, send a test, delete, and a webhook's delivery log
// with "Replay from here" and "Resume" after a pause. No socket event tells of deliveries: the
// panel reads them when the log opens, after its own writes, on "Refresh", and by a poll while
// a log is open and the page is visible.

import { del, get, oneAtATime, patch, post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, h } from "./dom.js";
import { copyText } from "./stations.js";

const POLL_MS = 5000; // an open log is read again this often while the page is visible
const POLL_BUSY_MS = 1500; // ... and this often while its deliveries are on their way
const LOG_PAGE = 50;
const MAX_WEBHOOKS = 10; // tournament/webhooks.py MAX_WEBHOOKS: the form gives way to a note

/** The event types an organizer picks from, in words, grouped (the server knows a few more,
 * tournament/webhooks.py EVENT_TYPES: "Every event" gets them all, new ones too). */
export const EVENT_GROUPS = [
  ["Matches", [["match_called", "A match is called to a station"], ["match_started", "A match starts"],
    ["score_updated", "A live score changes"], ["match_completed", "A match ends"],
    ["result_corrected", "A result is corrected"]]],
  ["Series and map vetoes", [["game_started", "A game of a series starts"], ["game_completed", "A game of a series ends"],
    ["series_updated", "A series' score or format changes"], ["veto_updated", "A map veto turn is taken"]]],
  ["Disputes", [["dispute_created", "A result is disputed"], ["dispute_resolved", "A dispute is settled"]]],
  ["Bracket and tournament", [["bracket_generated", "The bracket is made (the start)"],
    ["bracket_updated", "A player moves on in the bracket"],
    ["tournament_state_changed", "The tournament starts, ends or is cancelled"],
    ["tournament_completed", "The tournament has its winner"]]],
  ["Players", [["participant_added", "A player is added or registers"],
    ["participant_updated", "A player is renamed, approved or checks in"],
    ["participant_removed", "A player is removed"], ["participant_disqualified", "A player is disqualified"]]],
];
const EVENT_WORDS = new Map(EVENT_GROUPS.flatMap(([, types]) => types));

// What a failed try's error says, in words (the server gives the client's exception).
const FAILURES = [
  [/refused/i, "the connection was refused (is the receiver running?)"],
  [/timeout|timed out/i, "no answer in time"],
  [/gaierror|name or service not known|nodename nor servname|cannot be resolved/i, "its host name was not found"],
  [/ssl|certificate/i, "its TLS certificate was not accepted"],
  [/reset|closed/i, "the connection was cut"],
];
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const DAY = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

/** A refusal's message as a sentence ("url must ..." -> "URL must ..."). */
function sentence(message) {
  const text = String(message || "Something went wrong.").replace(/^url\b/, "URL");
  return text[0].toUpperCase() + text.slice(1);
}

function failureWords(error) {
  const known = FAILURES.find(([pattern]) => pattern.test(error));
  return known ? known[1] : error;
}

/** What the last try of a delivery got: "HTTP 500", "the connection was refused ...", "—". */
function answerWords(d) {
  if (d.last_status !== null && d.last_status !== undefined) return `HTTP ${d.last_status}`;
  return d.last_error ? failureWords(d.last_error) : "—";
}

/** The delivery a paused webhook waits at (a replay from it resumes). */
function pausedAt(webhook) {
  return webhook.paused_seq ?? null;
}

/** A pause's reason in words: "Delivery 3 failed all 2 tries; the last was answered HTTP 500." */
function pausedWords(reason) {
  const found = /^delivery (\d+) failed (\d+) times? \(last: (.*)\)$/s.exec(reason);
  if (!found) return sentence(reason);
  const [, seq, tries, last] = found;
  const status = /^answered (\d+)$/.exec(last);
  return `Delivery ${seq} failed all ${tries} tries; the last ${status ? `was answered HTTP ${status[1]}`
    : `got no answer: ${failureWords(last)}`}.`;
}

function eventsWords(events) {
  return events.length ? events.map((type) => EVENT_WORDS.get(type) ?? type).join(" · ") : "Every event";
}

/** "14:05:09", or "3 Mar 14:05:09" for another day. */
function timeWords(ms) {
  const at = new Date(ms);
  const time = TIME.format(at);
  return at.toDateString() === new Date().toDateString() ? time : `${DAY.format(at)} ${time}`;
}

/** `text` with a line-break chance at each match of `at` (a phone breaks it there, if it must). */
function breakable(text, at) {
  return text.split(at).flatMap((part, i) => (i ? [h("wbr"), part] : [part]));
}

function deliveries(count) {
  return `${count} ${count === 1 ? "delivery" : "deliveries"}`;
}

/** Focus the element `id` once the draw asked for before this call is done. */
function focusAfterDraw(id) {
  requestAnimationFrame(() => byId(id)?.focus());
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A form's draft: the URL, every event or the chosen ones, the secret (add only). */
function draftOf(webhook = null) {
  const events = webhook?.events ?? [];
  return { url: webhook?.url ?? "", secret: "", ownSecret: false, every: events.length === 0, events: new Set(events),
    others: events.filter((type) => !EVENT_WORDS.has(type)) }; // asked for elsewhere (the API): kept on show
}

/**
 * `webhookDesk({tournamentId, redraw})`: `view()` is the webhooks panel of /organize/{id};
 * `refresh()` reads the webhooks (and the open log) again; `redraw()` asks for a draw.
 */
export function webhookDesk({ tournamentId, redraw }) {
  const base = `/api/tournaments/${tournamentId}/webhooks`;
  let webhooks = null; // GET .../webhooks, as last read
  let loadError = "";
  let adding = draftOf();
  const editing = new Map(); // webhook id -> its edit form's draft
  const errors = new Map(); // "add", a webhook id -> its last refusal {field, message}
  let secret = null; // {id, value, copied}: a new webhook's secret, shown until put away
  let log = null; // the open delivery log: {id, rows, before, error, readAt}
  let watching = null; // {id, seq}: a test whose outcome is told when the log shows it
  let said = ""; // the panel's last result, also announced
  let timer = null;

  const readList = oneAtATime(async () => {
    try {
      webhooks = (await get(base)).webhooks;
      loadError = "";
    } catch (e) {
      loadError = sentence(e.message);
    }
  });

  const readLog = oneAtATime(async () => {
    const open = log;
    if (!open) return;
    const limit = Math.min(200, Math.max(LOG_PAGE, open.rows.length)); // the older pages shown stay
    try {
      const answer = await get(`${base}/${encodeURIComponent(open.id)}/deliveries?limit=${limit}`);
      Object.assign(open, { rows: answer.deliveries, before: answer.before, error: "", readAt: Date.now() });
    } catch (e) {
      open.error = sentence(e.message);
    }
  });

  /** Read the webhooks and the open log, tell a watched test's outcome, draw, poll on. */
  async function refresh() {
    clearTimeout(timer);
    await Promise.all([readList(), readLog()]);
    if (log && webhooks && !webhooks.some((w) => w.id === log.id)) log = null; // deleted meanwhile
    tellOutcome();
    redraw();
    poll();
  }

  function poll() {
    clearTimeout(timer);
    if (!log || document.visibilityState !== "visible" || !byId("t-webhooks")) return;
    timer = setTimeout(refresh, underWay() ? POLL_BUSY_MS : POLL_MS);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && log) refresh();
    else poll();
  });

  /** Whether the open log's webhook has deliveries on their way (not waiting at a pause). */
  function underWay() {
    const w = webhooks?.find((x) => x.id === log?.id);
    return Boolean(watching) || Boolean(w?.enabled && !w.paused && log.rows.some((d) => d.status === "pending"));
  }

  function tellOutcome() {
    if (!watching || log?.id !== watching.id) return;
    const d = log.rows.find((row) => row.seq === watching.seq);
    const w = webhooks?.find((x) => x.id === watching.id);
    if (d?.status === "delivered") say(`The test (delivery ${d.seq}) was delivered: ${answerWords(d)}.`);
    else if (d?.status === "failed") say(`The test (delivery ${d.seq}) failed: the webhook is paused.`);
    else if (w?.paused) say(`The test (delivery ${watching.seq}) waits behind the pause at delivery ${pausedAt(w) ?? "?"}.`);
    else return;
    watching = null;
  }

  function say(text) {
    said = text;
    announce(byId("announcer"), text);
  }

  /** Run a write of the panel with `button` disabled; a refusal goes to `errors[scope]` (the
   * field it names, if the server says); the list is read again afterwards either way. True
   * when the write was made. */
  async function act(scope, button, action) {
    errors.delete(scope);
    if (button) button.disabled = true;
    try {
      await action();
      return true;
    } catch (e) {
      errors.set(scope, { field: e.details?.field ?? null, message: sentence(e.message) });
      return false;
    } finally {
      if (button) button.disabled = false;
      await refresh();
    }
  }

  /** Forget what was typed in `form` (a draft that is done): the next draw shows the new state. */
  function settle(form) {
    for (const input of form.querySelectorAll("[data-dirty]")) delete input.dataset.dirty;
  }

  /** Open the log of webhook `id` (read by the next refresh), unless it is open already. */
  function showLog(id) {
    if (log?.id !== id) log = { id, rows: [], before: null, error: "", readAt: null };
  }

  function toggleLog(w) {
    const opening = log?.id !== w.id;
    log = null;
    if (opening) showLog(w.id);
    refresh(); // reads it, or (closed) stops the poll
  }

  // -- the panel -------------------------------------------------------------------------------

  function view() {
    return [
      h("h2", { id: "webhooks-title" }, "Webhooks"),
      h("p", { class: "small" }, "Send this tournament's events to your own server (a bot, a stream tool, a "
        + "spreadsheet): one signed POST per event, in order, tried again when it fails."),
      loadError ? h("p", { class: "error", role: "alert" }, loadError) : null,
      !webhooks ? (loadError ? null : h("p", { class: "muted" }, "Loading…")) : [
        webhooks.length ? h("ul", { class: "webhook-list", "aria-labelledby": "webhooks-title" }, webhooks.map(card))
          : h("p", { class: "empty", id: "wh-none" }, "No webhook yet."),
        h("p", { class: "small wh-said", id: "wh-said" }, said),
        webhooks.length < MAX_WEBHOOKS ? addForm()
          : h("p", { class: "muted" }, `A tournament has at most ${MAX_WEBHOOKS} webhooks: delete one to add another.`)],
    ];
  }

  /** A form's refusal of `field` (one naming another field, or none, goes to the URL's). */
  function refusalOf(scope, field) {
    const error = errors.get(scope);
    const at = ["events", "secret"].includes(error?.field) ? error.field : "url";
    return error && at === field ? error.message : null;
  }

  function fieldError(scope, field) {
    return h("p", { class: "error", role: "alert", id: `${scope === "add" ? "wh-add" : `wh-${scope}`}-${field}-error` },
      refusalOf(scope, field) ?? "");
  }

  // -- adding ----------------------------------------------------------------------------------

  function addForm() {
    const d = adding;
    const submit = h("button", { type: "submit", class: "primary", id: "wh-add" }, "Add the webhook");
    const form = h("form", { class: "stack webhook-form", "aria-labelledby": "wh-add-title", novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        act("add", submit, async () => {
          const body = { url: d.url.trim(), events: chosenEvents(d) };
          if (d.secret) body.secret = d.secret;
          const made = await post(base, body);
          settle(form);
          adding = draftOf();
          secret = { id: made.id, value: made.secret, copied: false };
          say(`Webhook added for ${hostOf(made.url)}: copy its secret now, it is not shown again.`);
        }).then((made) => made && focusAfterDraw("wh-secret"));
      } },
    h("h3", { id: "wh-add-title" }, "Add a webhook"),
    urlField("add", "wh-add-url", d),
    eventsChoice("add", "wh-add", d),
    h("details", { class: "webhook-own-secret", open: d.ownSecret, ontoggle: (e) => { d.ownSecret = e.currentTarget.open; } },
      h("summary", {}, "Use my own secret (optional)"),
      h("div", { class: "field" }, h("label", { for: "wh-add-secret" }, "Secret, 16 to 128 characters"),
        h("input", { id: "wh-add-secret", autocomplete: "off", spellcheck: "false", maxlength: 128, value: d.secret,
          "aria-invalid": refusalOf("add", "secret") ? "true" : null, "aria-describedby": "wh-add-secret-hint wh-add-secret-error",
          oninput: (e) => { d.secret = e.currentTarget.value; } }),
        h("small", { id: "wh-add-secret-hint" }, "Empty: the server makes one. Either way it is shown once."),
        fieldError("add", "secret"))),
    submit);
    return form;
  }

  function urlField(scope, id, d) {
    return h("div", { class: "field" }, h("label", { for: id }, "Receiver URL"),
      h("input", { id, type: "text", inputmode: "url", autocomplete: "off", spellcheck: "false", maxlength: 2048,
        placeholder: "https://example.org/livebracket", value: d.url, required: true,
        "aria-invalid": refusalOf(scope, "url") ? "true" : null, "aria-describedby": `${id}-error`,
        oninput: (e) => { d.url = e.currentTarget.value; } }),
      fieldError(scope, "url"));
  }

  /** The events body of a draft; throws Error (shown at the events) when "only" has none ticked. */
  function chosenEvents(d) {
    if (d.every) return [];
    const none = "Tick at least one event, or choose “Every event”.";
    if (!d.events.size) throw Object.assign(new Error(none), { details: { field: "events" } });
    return [...d.events];
  }

  function eventsChoice(scope, prefix, d) {
    const radio = (value, label) => h("div", { class: "field check" },
      h("input", { type: "radio", id: `${prefix}-${value}`, name: `${prefix}-events`, checked: d.every === (value === "every"),
        onchange: () => { d.every = value === "every"; redraw(); } }),
      h("label", { for: `${prefix}-${value}` }, label));
    const box = (type, words) => h("div", { class: "field check" },
      h("input", { type: "checkbox", id: `${prefix}-ev-${type}`, checked: d.events.has(type),
        onchange: (e) => (e.currentTarget.checked ? d.events.add(type) : d.events.delete(type)) }),
      h("label", { for: `${prefix}-ev-${type}` }, words, " ", h("code", { class: "event-type" }, type)));
    return h("fieldset", { class: "webhook-events", "aria-describedby": `${prefix}-events-error` },
    h("legend", {}, "Events"),
    radio("every", "Every event, new kinds too"),
    radio("some", "Only the ones I tick"),
    d.every ? null : h("div", { class: "event-groups" },
      EVENT_GROUPS.map(([group, types]) => h("fieldset", { class: "event-group" }, h("legend", {}, group),
        types.map(([type, words]) => box(type, words)))),
      d.others.length ? h("fieldset", { class: "event-group" }, h("legend", {}, "Others (asked for through the API)"),
        d.others.map((type) => box(type, type))) : null),
    fieldError(scope, "events"));
  }

  // -- a webhook ---------------------------------------------------------------------------------

  function card(w) {
    const state = !w.enabled ? "disabled" : w.paused ? "paused" : "flowing";
    return h("li", { class: `webhook ${state}`, dataset: { webhookId: w.id } },
      h("header", { class: "webhook-head" },
        h("h3", { id: `wh-url-${w.id}`, class: "webhook-url" }, breakable(w.url, /(?<=[/?&])(?!\/)/)),
        w.paused ? h("span", { class: "badge paused" }, "Paused") : null,
        w.enabled ? null : h("span", { class: "badge" }, "Disabled")),
      h("p", { class: "small webhook-events-line" }, h("span", { class: "muted" }, "Events: "), eventsWords(w.events)),
      w.paused ? pausedBox(w) : null,
      w.enabled ? null : h("p", { class: "muted small" }, "Disabled: nothing is queued for it while it is off, "
        + "so the events of that time are never sent."),
      secret?.id === w.id ? secretBox() : null,
      editing.has(w.id) ? editForm(w) : tools(w),
      editing.has(w.id) ? null : h("p", { class: "error", role: "alert", id: `wh-${w.id}-error` }, errors.get(w.id)?.message ?? ""),
      log?.id === w.id ? logView(w) : null);
  }

  function pausedBox(w) {
    const from = pausedAt(w) ?? log?.rows.find((d) => d.status === "failed")?.seq ?? null;
    const resume = h("button", { type: "button", class: "primary", id: `wh-resume-${w.id}`,
      "aria-label": from ? `Resume from delivery ${from}` : "Resume",
      onclick: (e) => act(w.id, e.currentTarget, async () => {
        if (!from) throw new Error("The failed delivery is not known: open the log and use “Replay from here” on it.");
        const { pending } = await post(`${base}/${encodeURIComponent(w.id)}/replay`, { from_seq: from });
        showLog(w.id); // to see them go
        say(`Resumed: ${deliveries(pending)} on their way again, from delivery ${from}.`);
      }) }, "Resume");
    return h("div", { class: "webhook-paused", role: "group", "aria-label": `Paused: ${w.url}` },
      h("p", {}, h("strong", { class: "paused-flag" }, "PAUSED"), " ", pausedWords(w.paused)),
      h("p", {}, "Nothing more is sent until you resume. Fix the receiver, then resume: ",
        `${from ? `delivery ${from}` : "the failed delivery"} and everything after it are sent, in order.`),
      h("p", { class: "row" }, resume));
  }

  function secretBox() {
    const copy = h("button", { type: "button", id: "wh-secret-copy", onclick: async () => {
      await copyText(secret.value);
      secret.copied = true;
      say("Secret copied");
      redraw();
    } }, secret.copied ? "Copied" : "Copy the secret");
    return h("div", { class: "webhook-secret", role: "group", "aria-labelledby": "wh-secret-title" },
      h("p", { id: "wh-secret-title" }, h("strong", {}, "Its signing secret: copy it now, it is not shown again.")),
      h("div", { class: "field" }, h("label", { for: "wh-secret" }, "Signing secret"),
        h("input", { id: "wh-secret", class: "secret-value", readonly: true, value: secret.value, spellcheck: "false",
          onfocus: (e) => e.currentTarget.select() })),
      h("p", { class: "row" }, copy,
        h("button", { type: "button", id: "wh-secret-done", onclick: () => { secret = null; redraw(); } }, "I have copied it")),
      h("p", { class: "small muted" }, "Each delivery carries X-Livebracket-Signature: t=<unix seconds>,v1=<hex "
        + "HMAC-SHA256 of “t.” and the body, with this secret>. Check it, and drop a seq you have seen."));
  }

  function tools(w) {
    const id = encodeURIComponent(w.id);
    const host = hostOf(w.url);
    // No test of a disabled webhook (refused) nor of a paused one (it would wait behind the pause).
    const test = w.enabled && !w.paused ? h("button", { type: "button", id: `wh-test-${w.id}`, "aria-label": `Send a test to ${host}`,
      onclick: (e) => act(w.id, e.currentTarget, async () => {
        const { seq } = await post(`${base}/${id}/ping`, {});
        watching = { id: w.id, seq };
        showLog(w.id); // to see it go
        say(`Test sent to ${host} (delivery ${seq}): waiting for its answer.`);
      }) }, "Send a test") : null;
    const open = log?.id === w.id;
    return h("p", { class: "row webhook-tools" },
      test,
      h("button", { type: "button", id: `wh-log-toggle-${w.id}`, "aria-expanded": String(open),
        "aria-controls": `wh-log-${w.id}`, onclick: () => toggleLog(w) }, open ? "Hide the log" : "Delivery log"),
      h("button", { type: "button", id: `wh-enable-${w.id}`, onclick: (e) => act(w.id, e.currentTarget, async () => {
        await patch(`${base}/${id}`, { enabled: !w.enabled });
        say(`Webhook for ${host} ${w.enabled ? "disabled" : "enabled"}`);
      }) }, w.enabled ? "Disable" : "Enable"),
      h("button", { type: "button", class: "link", id: `wh-edit-${w.id}`, "aria-label": `Edit the webhook for ${host}`,
        onclick: () => { editing.set(w.id, draftOf(w)); errors.delete(w.id); redraw(); focusAfterDraw(`wh-${w.id}-url`); } },
      "Edit"),
      h("button", { type: "button", class: "link", id: `wh-delete-${w.id}`, "aria-label": `Delete the webhook for ${host}`,
        onclick: (e) => act(w.id, e.currentTarget, async () => {
          if (!await confirmAction({ title: "Delete this webhook?",
            text: [h("p", { class: "long-link" }, w.url), h("p", {}, "It stops at once: nothing more is sent to it, and "
              + "its delivery log goes with it. Adding it again makes a new secret.")],
            confirm: "Delete the webhook" })) return;
          await del(`${base}/${id}`);
          if (log?.id === w.id) log = null;
          if (secret?.id === w.id) secret = null;
          say(`Webhook for ${host} deleted`);
        }) }, "Delete…"));
  }

  function editForm(w) {
    const d = editing.get(w.id);
    const save = h("button", { type: "submit", class: "primary", id: `wh-save-${w.id}` }, "Save");
    const form = h("form", { class: "stack webhook-form webhook-edit", "aria-label": `Edit the webhook for ${hostOf(w.url)}`,
      novalidate: true, onsubmit: (e) => {
        e.preventDefault();
        act(w.id, save, async () => {
          await patch(`${base}/${encodeURIComponent(w.id)}`, { url: d.url.trim(), events: chosenEvents(d) });
          settle(form);
          editing.delete(w.id);
          say("Webhook saved");
        }).then((saved) => saved && focusAfterDraw(`wh-edit-${w.id}`));
      } },
    urlField(w.id, `wh-${w.id}-url`, d),
    eventsChoice(w.id, `wh-${w.id}`, d),
    h("p", { class: "row" }, save, h("button", { type: "button", id: `wh-cancel-${w.id}`,
      onclick: () => { settle(form); editing.delete(w.id); errors.delete(w.id); redraw(); focusAfterDraw(`wh-edit-${w.id}`); } },
    "Cancel")));
    return form;
  }

  // -- the delivery log --------------------------------------------------------------------------

  function logView(w) {
    const refreshButton = h("button", { type: "button", id: `wh-refresh-${w.id}`,
      onclick: (e) => act(w.id, e.currentTarget, async () => {}) }, "Refresh");
    const older = log.before ? h("button", { type: "button", id: `wh-older-${w.id}`, onclick: (e) => act(w.id, e.currentTarget,
      async () => {
        const open = log;
        const answer = await get(`${base}/${encodeURIComponent(w.id)}/deliveries?limit=${LOG_PAGE}&before=${open.before}`);
        open.rows = [...open.rows, ...answer.deliveries];
        open.before = answer.before;
      }) }, "Older deliveries") : null;
    return h("section", { class: "webhook-log", id: `wh-log-${w.id}`, "aria-labelledby": `wh-log-title-${w.id}` },
      h("div", { class: "webhook-log-head" },
        h("h4", { id: `wh-log-title-${w.id}` }, "Delivery log"), refreshButton,
        h("span", { class: "muted small" }, log.readAt ? `Read at ${TIME.format(new Date(log.readAt))}, again every `
          + `${POLL_MS / 1000} s while open` : "Reading…")),
      log.error ? h("p", { class: "error", role: "alert" }, log.error) : null,
      log.rows.length
        ? h("div", { class: "table-scroll", id: `wh-rows-${w.id}`, role: "region", tabindex: 0,
          "aria-label": "Deliveries, newest first" },
          h("table", { class: "delivery-log" },
            h("thead", {}, h("tr", {}, ["Seq", "Event", "Status", "Last answer", "Tries", "Time"].map((label) =>
              h("th", { scope: "col" }, label)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Replay")))),
            h("tbody", {}, log.rows.map((d) => deliveryRow(w, d)))))
        : log.readAt ? h("p", { class: "empty" }, "Nothing sent yet: the events it asks for show here as they happen.") : null,
      older);
  }

  function deliveryRow(w, d) {
    const status = d.status === "pending" ? (d.attempts ? "Retrying" : "Waiting") : d.status === "failed" ? "Failed" : "Delivered";
    const replay = h("button", { type: "button", class: "link", id: `wh-replay-${w.id}-${d.seq}`,
      "aria-label": `Replay from here (delivery ${d.seq})`, onclick: (e) => act(w.id, e.currentTarget, async () => {
        const count = Math.max(1, (log?.rows[0]?.seq ?? d.seq) - d.seq + 1);
        if (!await confirmAction({ title: `Replay from delivery ${d.seq}?`,
          text: h("p", {}, count === 1 ? "This delivery is" : `Delivery ${d.seq} and the ${count - 1} after it, ${count} in all, are`,
            ` sent again to ${w.url}, in order, the delivered ones too: the receiver gets those twice (their seqs tell).`),
          confirm: `Send ${count} again` })) return;
        const { pending } = await post(`${base}/${encodeURIComponent(w.id)}/replay`, { from_seq: d.seq });
        say(`${deliveries(pending)} on their way again, from delivery ${d.seq}.`);
      }) }, "Replay from here");
    return h("tr", { class: `delivery status-${d.status}`, dataset: { seq: String(d.seq) } },
      h("td", { class: "num" }, String(d.seq)),
      h("td", { class: "type" }, h("code", { class: "event-type" }, breakable(d.type, /(?<=_)/))),
      h("td", {}, h("span", { class: `badge delivery-${d.status}` }, status)),
      h("td", { class: "answer", title: d.last_error ?? null }, answerWords(d)),
      h("td", { class: "num" }, String(d.attempts)),
      h("td", {}, h("time", { datetime: new Date(d.ts).toISOString() }, timeWords(d.ts))),
      h("td", {}, replay));
  }

  return { view, refresh };
}
