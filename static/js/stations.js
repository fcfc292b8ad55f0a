// Stations and the call queue as the pages show them: the queue kept live from the tournament
// socket, times in words (ETAs, check-in countdowns on the server's clock), the pieces the desk
// and the venue board share, and the desk's stations panel (add, rename, enable, remove, the
// calling settings, calling and taking off, no-show forfeits, and the screens opened with links
// of their own: the queue board, the projector view, the stream overlay); minting screen and
// player links, for the desk and the links sheet alike.

import { post, request } from "./api.js";
import { announce, byId, h } from "./dom.js";
import { FINAL_STATES, STATE_LABELS } from "./matches.js";
import { seriesScore } from "./series.js";

const REFRESH_MS = 1000;

/** The server's clock as the pages see it: the local clock moved by the offset the pings show
 * (a venue PC's clock can be minutes off, and check-in countdowns are the server's deadlines). */
export class ServerClock {
  constructor() {
    this.offsetMs = 0;
  }

  /** Learn the offset from a frame: pings carry the server's time when sent. */
  observe(frame) {
    if (frame?.type === "ping" && typeof frame.timestamp === "number") this.offsetMs = frame.timestamp - Date.now();
  }

  now() {
    return Date.now() + this.offsetMs;
  }
}

// -- times in words -----------------------------------------------------------------------------

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** "14:05": a moment (epoch ms) as a local clock time. */
export function clockTime(ms) {
  return CLOCK.format(new Date(ms));
}

/** "in 12 min", "in 1 h 05 min", "now": how far `ms` is from `now`. */
export function fromNow(ms, now) {
  const minutes = Math.round((ms - now) / 60000);
  if (minutes <= 0) return "now";
  if (minutes < 60) return `in ${minutes} min`;
  return `in ${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "4:05" left until `deadline` (epoch ms); "0:00" once past. */
export function countdown(deadline, now) {
  const left = Math.max(0, Math.ceil((deadline - now) / 1000));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

/** Epoch ms of an ISO time from the server, or null. */
export function msOf(iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** A countdown to a call's deadline, kept ticking by `keepTicking`. */
export function countdownEl(deadlineIso, clock, attrs = {}) {
  const deadline = msOf(deadlineIso);
  if (deadline === null) return null;
  return h("span", { class: "countdown", ...attrs, dataset: { deadline: String(deadline) } },
    countdown(deadline, clock.now()));
}

/** An ETA: "14:05 · in 12 min" (the relative part ticking), or "no estimate". */
export function etaEl(iso, clock) {
  const at = msOf(iso);
  if (at === null) return h("span", { class: "eta muted" }, "no estimate");
  return h("span", { class: "eta" }, h("time", { datetime: iso, class: "eta-clock" }, clockTime(at)), " · ",
    h("span", { class: "eta-rel", dataset: { eta: String(at) } }, fromNow(at, clock.now())));
}

/** Every second, bring the countdowns and ETAs on the page up to `clock` (text only: no redraw,
 * so an open select or a typed name stays as it is). `onTick(now)` runs after. Returns a stop. */
export function keepTicking(clock, onTick) {
  const tick = () => {
    const now = clock.now();
    for (const el of document.querySelectorAll("[data-deadline]")) {
      const text = countdown(Number(el.dataset.deadline), now);
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("over", Number(el.dataset.deadline) <= now);
    }
    for (const el of document.querySelectorAll("[data-eta]")) {
      const text = fromNow(Number(el.dataset.eta), now);
      if (el.textContent !== text) el.textContent = text;
    }
    onTick?.(now);
  };
  const timer = setInterval(tick, REFRESH_MS);
  return () => clearInterval(timer);
}

// -- the queue, live ----------------------------------------------------------------------------

const CALL_EVENTS = new Set(["station_updated", "station_removed", "calling_updated", "queue_updated"]);

/**
 * The stations, the queue and the calling settings of one tournament, kept from its socket:
 * `welcome(data)` on a snapshot, `apply(frame)` on every event (true when it changed this).
 * The station list and the settings are the newest of their events and the queue's; a station's
 * match is the queue's, shown in the newest version `book` (the page's MatchBook) holds.
 */
export class QueueState {
  constructor(book) {
    this.book = book;
    this.queue = null; // the server's view (tournament/callqueue.py view), or null: no stations yet
    this.stationList = [];
    this.calling = null;
  }

  /** From the tournament (REST) before the socket's welcome. */
  tournament(t) {
    if (!t) return;
    this.stationList = t.stations ?? this.stationList;
    this.calling = t.calling ?? this.calling;
  }

  welcome(data) {
    this.queue = data.queue ?? null;
    this.tournament(data.tournament);
    if (this.queue) this.took(this.queue);
  }

  apply(frame) {
    const data = frame.data ?? {};
    if (!CALL_EVENTS.has(frame.type)) return false;
    if (data.stations) this.stationList = data.stations;
    if (data.calling) this.calling = data.calling;
    if (frame.type === "queue_updated" && data.queue) {
      this.queue = data.queue;
      this.took(data.queue);
    }
    return true;
  }

  took(queue) {
    this.stationList = queue.stations.map(({ match, free_at, ...station }) => station);
    this.calling = queue.calling ?? this.calling;
  }

  /** Every station with `match` (what is called to it, or null) and `free_at`. */
  stations() {
    const viewed = new Map((this.queue?.stations ?? []).map((s) => [s.id, s]));
    return this.stationList.map((s) => {
      const seen = viewed.get(s.id);
      return { ...s, match: this.current(seen?.match ?? null, s.id), free_at: seen?.free_at ?? null };
    });
  }

  /** The queue's entry of a station's match with the book's newer state of it; null when the
   * book already knows the match left the station (the queue's next view says so too). */
  current(entry, stationId) {
    if (!entry) return null;
    const held = this.book?.get(entry.match_id);
    if (!held) return entry;
    if (FINAL_STATES.has(held.state) || held.call?.station_id !== stationId) return null;
    return { ...entry, state: held.state, checked_in: held.checked_in, call: held.call,
      participant_ids: held.participant_ids, scores: held.scores, series: held.series };
  }

  /** The queue's rows in play order. */
  rows() {
    return this.queue?.queue ?? [];
  }

  freeStations() {
    return this.stations().filter((s) => s.enabled && !s.match);
  }
}

// -- pieces shared by the desk and the board ----------------------------------------------------

/** A queue row's or station match's title: its label, else its bracket key. */
export function entryTitle(entry) {
  return entry.label || entry.key || "Match";
}

/** The two sides of a queue entry: names, or where a player comes from ("Winner of W1-1"). */
export function sidesOf(entry, names) {
  const feeds = [...(entry.waiting_for ?? [])];
  return entry.participant_ids.map((id) => {
    if (id) return names.of(id);
    const feed = feeds.shift();
    return feed ? feed.charAt(0).toUpperCase() + feed.slice(1) : "To be decided";
  });
}

/** What a called match is doing at its station: "Check-in", "Live", "Ready". */
export function entryState(entry) {
  return STATE_LABELS[entry.state] ?? entry.state;
}

/** The players still missing after a call's check-in time ran out (a late arrival is not one). */
export function noShows(entry) {
  if (!entry?.call?.expired) return [];
  return (entry.call.no_show ?? []).filter((id) => !(entry.checked_in ?? []).includes(id));
}

/** Why a queue row waits: "waiting for winner of W1-1", "busy: Alice is in another match", "". */
export function waitText(row, names) {
  if (row.waiting_for?.length) return `waiting for ${row.waiting_for.join(" and ")}`;
  if (row.busy?.length) {
    const who = row.busy.map((id) => names.of(id));
    return `busy: ${who.join(" and ")} ${who.length > 1 ? "are" : "is"} in another match`;
  }
  if (row.held) return "held by the organizers";
  return "";
}

/** A live station match's score: "Series 1–0", or "3–1". */
export function scoreText(entry) {
  return seriesScore(entry) ?? entry.participant_ids.map((id) => entry.scores?.[id] ?? 0).join("–");
}

/** A called match waiting for its players: check-in open (or ready), not started. */
export function waitingAtStation(entry) {
  return Boolean(entry?.call) && (entry.state === "check_in" || entry.state === "ready" || entry.state === "scheduled");
}

// -- screens -----------------------------------------------------------------------------------

/** The screens the desk opens, each with a link of its own: what it is called, where it is. */
const SCREENS = {
  board: { name: "Queue board", label: "Open the queue board", button: "open-board", link: "board-link", opens: true,
    hint: "Queue board for a venue screen", path: (id) => `/board/${id}` },
  projector: { name: "Projector", label: "Open the projector view", button: "open-projector", link: "projector-link",
    opens: true, hint: "The live bracket for a projector", path: (id) => `/tournaments/${id}?projector=1` },
  overlay: { name: "Stream overlay", label: "Stream overlay link", button: "make-overlay-link", link: "overlay-link",
    opens: false, hint: "Stream overlay: add it to OBS as a browser source (1920 × 1080, transparent)",
    path: (id) => `/overlay/stream/${id}` },
};

/** A screen link of the tournament (POST /screens, named `name`): the page at `path` with its token. */
export async function screenLink(tournamentId, name, path) {
  const minted = await post(`/api/tournaments/${tournamentId}/screens`, { name });
  const url = new URL(path, location.origin);
  url.searchParams.set("token", minted.token);
  return url.href;
}

/** The players' event links of the tournament (POST /links; `options`: `subjects`, only theirs;
 * `members`, `qr`): each with `url`, the player's page for the whole event, /me/<tournament>
 * with the token, on the address the desk was opened by (the server makes it). */
export async function playerLinks(tournamentId, options = {}) {
  return (await post(`/api/tournaments/${tournamentId}/links`, options)).links;
}

/** Put `text` on the clipboard; on a page without the clipboard API (plain http on a LAN
 * address is not a secure context) through a selected text field. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    /* not allowed here: the old way */
  }
  const field = h("textarea", { class: "visually-hidden", readonly: true, "aria-hidden": "true" }, text);
  document.body.append(field);
  field.select();
  document.execCommand("copy");
  field.remove();
}

// -- the desk's stations panel ------------------------------------------------------------------

const CHECK_IN_CHOICES = [null, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600];

function checkInWords(seconds) {
  if (seconds === null || seconds === undefined) return "No timer";
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/**
 * `stationsDesk({tournamentId, state, names, book, clock, redraw})`: `view()` is the stations
 * panel of /organize/{id}. `state` is the page's QueueState, `book` its MatchBook (the answers
 * of calls and forfeits are merged into it), `redraw()` asks for a draw.
 */
export function stationsDesk({ tournamentId, state, names, book, clock, redraw }) {
  const errors = new Map(); // a control's scope ("add", "calling", a station or match id) -> its last refusal
  const editing = new Set(); // station ids whose edit controls are open
  let confirming = null; // the station id whose removal waits for a yes
  const screens = new Map(); // a SCREENS kind -> the address minted for it last
  let copied = null; // the kind whose address was just copied
  let newStream = false; // the add form's stream box (a redraw makes a new one)
  const base = `/api/tournaments/${tournamentId}`;

  async function run(scope, button, action, done) {
    errors.delete(scope);
    if (button) button.disabled = true;
    try {
      const answer = await action();
      if (answer?.id && answer.version && answer.tournament_id) book.merge(answer);
      if (done) announce(byId("announcer"), done);
      return answer;
    } catch (e) {
      errors.set(scope, e.message || String(e));
      return undefined;
    } finally {
      if (button) button.disabled = false;
      redraw();
    }
  }

  /** Forget what was typed in the input `id` (the one on the page now: a redraw may have made
   * another), so the next draw shows the server's value. */
  function settle(id) {
    const input = byId(id);
    if (!input) return;
    delete input.dataset.dirty;
    input.value = "";
  }

  const errorLine = (scope) => h("p", { class: "error", role: "alert", id: `st-err-${scope}` }, errors.get(scope) ?? "");

  function view() {
    const stations = state.stations();
    return [
      h("div", { class: "stations-head" },
        h("h2", { id: "stations-title" }, "Stations"),
        h("span", { class: "row screen-buttons" }, Object.entries(SCREENS).map(([kind, screen]) =>
          h("button", { type: "button", id: screen.button, onclick: (e) => openScreen(kind, e.currentTarget) }, screen.label)))),
      Object.keys(SCREENS).filter((kind) => screens.has(kind)).map((kind) => screenLine(kind, screens.get(kind), stations)),
      errorLine("screens"),
      stations.length
        ? h("ul", { class: "desk-stations", "aria-labelledby": "stations-title" }, stations.map(stationItem))
        : h("p", { class: "empty stations-empty" }, "No station yet: add the setups matches are played on, and the queue calls "
          + "players to them."),
      addForm(stations.length),
      stations.length ? [callingForm(), queueList(stations)] : null,
    ];
  }

  // -- a station, its match ----------------------------------------------------------------------

  function stationItem(s) {
    const m = s.match;
    const toggle = h("button", { type: "button", id: `st-enable-${s.id}`,
      onclick: (e) => run(s.id, e.currentTarget, () => request("PATCH", `${base}/stations/${s.id}`, { enabled: !s.enabled }),
        `${s.name} ${s.enabled ? "disabled" : "enabled"}`) }, s.enabled ? "Disable" : "Enable");
    const edit = h("button", { type: "button", id: `st-edit-${s.id}`, class: "link", "aria-expanded": String(editing.has(s.id)),
      onclick: () => {
        if (editing.has(s.id)) editing.delete(s.id);
        else editing.add(s.id);
        if (confirming === s.id) confirming = null;
        redraw();
      } }, `Edit ${s.name}`);
    return h("li", { class: `desk-station${s.enabled ? "" : " disabled"}${m ? " busy" : ""}`,
      dataset: { stationId: s.id, stationName: s.name } },
    h("header", { class: "station-head" },
      h("h3", {}, s.name),
      s.stream ? h("span", { class: "badge stream" }, "Stream") : null,
      s.enabled ? null : h("span", { class: "badge" }, "Disabled"),
      h("span", { class: "station-tools" }, toggle, edit)),
    m ? stationMatch(s, m) : h("p", { class: "muted station-free" }, s.enabled ? "Free" : "Free · calls nothing while disabled"),
    editing.has(s.id) ? editControls(s) : null,
    errorLine(s.id));
  }

  function stationMatch(s, m) {
    const [a, b] = sidesOf(m, names);
    const here = new Set(m.checked_in ?? []);
    const players = m.participant_ids.filter(Boolean);
    const absent = noShows(m);
    const waiting = waitingAtStation(m);
    const takeOff = waiting ? h("button", { type: "button", id: `uncall-${m.match_id}`,
      onclick: (e) => run(m.match_id, e.currentTarget, () => post(`/api/matches/${m.match_id}/uncall`, {}),
        `${entryTitle(m)} taken off ${s.name}`) }, "Take off") : null;
    return h("div", { class: `station-match state-${m.state}`, dataset: { matchId: m.match_id, state: m.state } },
      h("p", { class: "station-line" },
        h("span", { class: "key" }, entryTitle(m)), " ", h("span", { class: "versus" }, `${a} vs ${b}`), " ",
        h("span", { class: `badge state-${m.state}` }, entryState(m)), " ",
        m.state === "live" ? h("span", { class: "muted" }, scoreText(m)) : null),
      waiting && m.call?.deadline && !m.call.expired && m.state === "check_in"
        ? h("p", { class: "small" }, "Check-in closes in ", countdownEl(m.call.deadline, clock, { id: `countdown-${m.match_id}` }))
        : null,
      waiting && players.length ? h("p", { class: "small checkins" },
        players.map((p) => `${names.of(p)} ${here.has(p) ? "checked in" : "not yet"}`).join(" · ")) : null,
      absent.length ? h("div", { class: "no-show", role: "alert", id: `no-show-${m.match_id}` },
        h("strong", { class: "no-show-flag" }, "NO-SHOW"), " ",
        `${absent.map((p) => names.of(p)).join(" and ")} did not check in in time.`,
        h("span", { class: "row" }, absent.map((p) => h("button", { type: "button", class: "danger",
          id: `forfeit-${m.match_id}-${m.participant_ids.indexOf(p)}`,
          onclick: (e) => run(m.match_id, e.currentTarget,
            () => post(`/api/matches/${m.match_id}/forfeit`, { participant_id: p }), `${names.of(p)} forfeits`) },
        `Forfeit ${names.of(p)}`)))) : null,
      takeOff ? h("p", { class: "row" }, takeOff) : null,
      errorLine(m.match_id));
  }

  function editControls(s) {
    const nameId = `st-name-${s.id}`;
    const name = h("input", { id: nameId, name: "name", maxlength: 60, required: true, autocomplete: "off", value: s.name });
    const stream = h("input", { id: `st-stream-${s.id}`, type: "checkbox", checked: s.stream,
      onchange: (e) => run(s.id, null, () => request("PATCH", `${base}/stations/${s.id}`, { stream: e.currentTarget.checked })) });
    const rename = h("button", { type: "submit", id: `st-rename-${s.id}` }, "Rename");
    return h("div", { class: "station-edit" },
      h("form", { class: "row", onsubmit: (e) => {
        e.preventDefault();
        run(s.id, rename, async () => {
          const done = await request("PATCH", `${base}/stations/${s.id}`, { name: name.value.trim() });
          settle(nameId);
          return done;
        }, "Station renamed");
      } },
      h("div", { class: "field" }, h("label", { for: nameId }, "Name"), name), rename),
      h("div", { class: "field check" }, stream, h("label", { for: `st-stream-${s.id}` }, "The stream's station")),
      confirming === s.id
        ? h("div", { class: "confirm", role: "group", "aria-label": `Remove ${s.name}?` },
          h("p", {}, `Remove ${s.name}? Its history stays with its matches.`),
          h("p", { class: "row" },
            h("button", { type: "button", class: "danger", id: `st-remove-yes-${s.id}`,
              onclick: (e) => run(s.id, e.currentTarget, async () => {
                await request("DELETE", `${base}/stations/${s.id}`);
                confirming = null;
                editing.delete(s.id);
              }, `${s.name} removed`) }, `Remove ${s.name}`),
            h("button", { type: "button", id: `st-remove-no-${s.id}`, onclick: () => {
              confirming = null;
              redraw();
            } }, "Keep it")))
        : h("p", {}, h("button", { type: "button", id: `st-remove-${s.id}`, onclick: () => {
          confirming = s.id;
          errors.delete(s.id);
          redraw();
        } }, "Remove…")));
  }

  function addForm(count) {
    const suggested = `Station ${count + 1}`;
    const name = h("input", { id: "st-new-name", name: "name", maxlength: 60, autocomplete: "off", placeholder: suggested });
    const stream = h("input", { id: "st-new-stream", type: "checkbox", name: "stream", checked: newStream,
      onchange: (e) => {
        newStream = e.currentTarget.checked;
      } });
    const submit = h("button", { type: "submit", id: "st-add" }, "Add the station");
    return h("form", { class: "station-add", "aria-labelledby": "st-add-title", onsubmit: (e) => {
      e.preventDefault();
      const body = { name: name.value.trim() || suggested, stream: newStream };
      run("add", submit, async () => {
        const added = await post(`${base}/stations`, body);
        settle("st-new-name");
        newStream = false;
        return added;
      }, `${body.name} added`).then(() => byId("st-new-name")?.focus());
    } },
    h("h3", { id: "st-add-title" }, "Add a station"),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "st-new-name" }, "Station name"), name),
      h("div", { class: "field check" }, stream, h("label", { for: "st-new-stream" }, "Stream station")),
      submit),
    errorLine("add"));
  }

  // -- how matches are called -------------------------------------------------------------------

  function callingForm() {
    const c = state.calling ?? { auto_assign: false, check_in_s: 300, forfeit_no_show: false, stream_first: "none" };
    const change = (body, done) => run("calling", null, () => request("PATCH", `${base}/calling`, body).then((policy) => {
      state.calling = policy;
    }), done);
    const seconds = c.check_in_s === null ? null : Math.round(c.check_in_s);
    const choices = CHECK_IN_CHOICES.includes(seconds) ? CHECK_IN_CHOICES : [...CHECK_IN_CHOICES, seconds];
    const check = (id, label, checked, field, hint) => h("div", { class: "field check" },
      h("input", { id, type: "checkbox", checked, onchange: (e) => change({ [field]: e.currentTarget.checked },
        `${label}: ${e.currentTarget.checked ? "on" : "off"}`) }),
      h("label", { for: id }, label), hint ? h("small", {}, hint) : null);
    return h("fieldset", { class: "calling", id: "calling" },
      h("legend", {}, "Calling matches"),
      check("calling-auto", "Auto-assign", c.auto_assign, "auto_assign", "free stations take the queue's next match (one taken off waits until you call it)"),
      h("div", { class: "field" }, h("label", { for: "calling-check-in" }, "Check-in time after a call"),
        h("select", { id: "calling-check-in", onchange: (e) => {
          delete e.currentTarget.dataset.dirty;
          const value = e.currentTarget.value;
          change({ check_in_s: value === "" ? null : Number(value) }, `Check-in time: ${checkInWords(value === "" ? null : Number(value))}`);
        } }, choices.map((s) => h("option", { value: s === null ? "" : String(s), selected: s === seconds }, checkInWords(s))))),
      check("calling-forfeit", "Forfeit no-shows", c.forfeit_no_show, "forfeit_no_show",
        "when the time runs out and one player is missing, that player loses"),
      h("div", { class: "field" }, h("label", { for: "calling-stream" }, "Stream station priority"),
        h("select", { id: "calling-stream", onchange: (e) => {
          delete e.currentTarget.dataset.dirty;
          change({ stream_first: e.currentTarget.value }, "Stream priority changed");
        } },
        h("option", { value: "none", selected: c.stream_first === "none" }, "None: the queue's next match"),
        h("option", { value: "top_seeds", selected: c.stream_first === "top_seeds" }, "Top seeds first"))),
      errorLine("calling"));
  }

  // -- the queue ---------------------------------------------------------------------------------

  function queueList(stations) {
    const rows = state.rows();
    const free = stations.filter((s) => s.enabled && !s.match);
    return h("section", { class: "desk-queue", "aria-labelledby": "queue-title" },
      h("h3", { id: "queue-title" }, `Queue (${rows.length})`),
      rows.length ? h("ol", { class: "queue-rows" }, rows.map((row) => queueRow(row, free)))
        : h("p", { class: "empty" }, stations.length ? "Nothing waits for a station." : "The queue starts with the first station."));
  }

  function queueRow(row, free) {
    const [a, b] = sidesOf(row, names);
    const why = waitText(row, names);
    const selectId = `call-to-${row.match_id}`;
    const select = h("select", { id: selectId, name: "station" },
      free.map((s) => h("option", { value: s.id }, s.name)));
    const call = h("button", { type: "button", id: `call-${row.match_id}`, onclick: (e) => {
      delete select.dataset.dirty;
      const station = free.find((s) => s.id === select.value);
      const stationId = station?.id ?? free[0]?.id; // a remembered choice that is no longer free: the first free one
      run(row.match_id, e.currentTarget, () => post(`/api/matches/${row.match_id}/call`, { station_id: stationId }),
        `${entryTitle(row)} called to ${free.find((s) => s.id === stationId)?.name ?? "a station"}`);
    } }, "Call");
    return h("li", { class: `queue-row${row.ready ? " ready" : ""}`, dataset: { matchId: row.match_id, key: row.key ?? "" } },
      h("span", { class: "key" }, entryTitle(row)), " ",
      row.participant_ids.some(Boolean) ? [h("span", { class: "versus" }, `${a} vs ${b}`), " "] : null,
      etaEl(row.eta, clock), " ",
      why ? [h("span", { class: "wait muted" }, why), " "] : null,
      row.ready
        ? free.length ? h("span", { class: "call-to" }, h("label", { for: selectId }, "Call to…"), select, call)
          : h("span", { class: "muted" }, "no free station")
        : null,
      errorLine(row.match_id));
  }

  // -- screens ------------------------------------------------------------------------------------

  /** Mint a screen link (a venue screen should not hold the organizer's token, and a screen
   * link is revocable and renews itself) and open it in a new tab, or, for the overlay, show
   * it to paste into OBS. */
  async function openScreen(kind, button) {
    const screen = SCREENS[kind];
    // Opened in the click, so a popup blocker lets it through; its address follows.
    const tab = screen.opens ? window.open("about:blank", "_blank") : null;
    const url = await run("screens", button, async () => {
      const address = await screenLink(tournamentId, screen.name, screen.path(tournamentId));
      screens.set(kind, address);
      copied = null;
      return address;
    }, screen.opens ? null : `${screen.name} link made`);
    if (url && tab) {
      tab.opener = null;
      tab.location.href = url;
    } else {
      tab?.close();
    }
  }

  function screenLine(kind, url, stations) {
    const screen = SCREENS[kind];
    const copy = h("button", { type: "button", id: `copy-${screen.link}`,
      "aria-label": `Copy the ${screen.name.toLowerCase()} link`,
      onclick: async () => {
        await copyText(url);
        copied = kind;
        announce(byId("announcer"), `${screen.name} link copied`);
        redraw();
      } }, copied === kind ? "Copied" : "Copy");
    const noStream = kind === "overlay" && !stations.some((s) => s.stream);
    return h("div", { class: "screen-link small", dataset: { screen: kind } },
      h("p", {}, `${screen.hint}: `,
        h("a", { id: screen.link, class: "long-link", href: url, target: "_blank", rel: "noopener" }, url), " ", copy),
      noStream ? h("p", { class: "hint" }, "No station is the stream's yet: mark one (Edit, “The stream's station”) "
        + "and the overlay follows whatever is played on it.") : null);
  }

  return { view };
}
