// /overlay/stream/{tournament id}: one OBS browser source for the whole event. It follows the
// station marked for the stream (or ?station=<id>): the match played there is shown as
// /overlay/match shows it (overlaycard.js), switching by itself when the next one starts; a
// finished match's result stays ?hold_s= seconds (20), then "Next on stream: …" for a match
// called there and not started yet, else nothing (the source is transparent).

import { byId, h, render, segment } from "../dom.js";
import { LiveRoom } from "../live.js";
import { applyTournamentEvent, bracketLeftOut, FINAL_STATES, loadMatches, MatchBook, matchTitle, Names, NAMING,
  slotLabel, takeSnapshot } from "../matches.js";
import { mountOverlayCard } from "../overlaycard.js";
import { QueueState } from "../stations.js";
import { takeToken } from "../token.js";

const HOLD_S = 20; // a result stays on stream this long before the next match is announced
const ON_AIR = new Set(["live", "pending_result", "disputed"]); // the match being played: its card is shown

const tournamentId = segment(2);
const params = new URL(location.href).searchParams;
const holdMs = 1000 * (Number.isFinite(Number(params.get("hold_s"))) && params.get("hold_s") !== null
  ? Math.max(0, Number(params.get("hold_s"))) : HOLD_S);
const stationId = params.get("station"); // follow this station rather than the stream's
const stage = dressAsOverlay();
const token = takeToken();
const book = new MatchBook();
const names = new Names();
const queue = new QueueState(book);
const card = mountOverlayCard(stage, names);
let shown = null; // the id of the match whose card is up
let heldUntil = 0; // when the shown match's result gives way (epoch ms), 0 while it plays
let holdTimer = null;

if (!token) {
  card.note("Add ?token=… to this overlay's address.");
} else {
  const live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    onSnapshot(data) {
      names.set(data.participants);
      queue.welcome(data);
      takeSnapshot(book, tournamentId, data).then(refresh, () => {});
      refresh();
    },
    onEvent(frame) {
      const data = frame.data ?? {};
      if (NAMING.has(frame.type)) names.add(data.participant);
      applyTournamentEvent(book, null, frame);
      if (bracketLeftOut(frame)) loadMatches(book, tournamentId).then(refresh, () => {});
      queue.apply(frame);
      refresh();
    },
    onState: (state) => {
      document.body.dataset.connection = state; // for the operator's dev tools, not shown
    },
    onAuthFailed: (message) => {
      clearTimeout(holdTimer);
      card.note(`Token refused: ${message}`);
    },
    onGone: () => {
      clearTimeout(holdTimer);
      card.note("The tournament was deleted.");
    },
  });
  live.start();
}

/** page.html dresses only /overlay/match as an OBS source: this page takes the same dress, its
 * stylesheet and a bare stage (app.css already keeps .page-stream transparent until then). */
function dressAsOverlay() {
  const sheet = document.querySelector('link[rel="stylesheet"]');
  if (sheet) sheet.href = "/static/css/overlay.css";
  const main = h("main", { id: "overlay", class: "overlay", "aria-live": "polite", "aria-atomic": "true" });
  document.body.replaceChildren(main);
  return main;
}

/** The station followed: ?station=, else the first one marked for the stream. */
function followed() {
  const stations = queue.stations();
  return stationId ? stations.find((s) => s.id === stationId) ?? null : stations.find((s) => s.stream) ?? null;
}

/** The match on `station`: the one being played there, else the one called there (from the
 * matches the socket keeps newest; the queue's entry if the page does not hold it yet). */
function onStation(station) {
  if (!station) return null;
  const here = book.all().filter((m) => !FINAL_STATES.has(m.state) && m.call?.station_id === station.id);
  const fromQueue = station.match ? book.get(station.match.match_id) ?? { ...station.match, id: station.match.match_id }
    : null;
  return here.find((m) => ON_AIR.has(m.state)) ?? here[0] ?? fromQueue;
}

function onAir(match) {
  return ON_AIR.has(match.state) || Boolean(match.veto && !match.veto.complete);
}

function refresh() {
  const now = Date.now();
  const current = onStation(followed());
  if (current && onAir(current)) return showCard(current, "match");
  const last = shown ? book.get(shown) : null;
  if (last && FINAL_STATES.has(last.state)) {
    if (!heldUntil) {
      heldUntil = now + holdMs;
      clearTimeout(holdTimer);
      holdTimer = setTimeout(refresh, holdMs + 50);
    }
    if (now < heldUntil) return showCard(last, "result");
  }
  shown = null;
  heldUntil = 0;
  if (current) return nextUp(current);
  stage.dataset.phase = "idle";
  delete stage.dataset.matchId;
  return card.clear();
}

function showCard(match, phase) {
  if (phase === "match") {
    if (shown !== match.id) clearTimeout(holdTimer);
    heldUntil = 0;
  }
  shown = match.id;
  stage.dataset.phase = phase;
  stage.dataset.matchId = match.id;
  card.show(match, { station: false });
}

/** "Next on stream: W1-2 · Bob vs Carol": a match called to the station, not started yet. */
function nextUp(match) {
  stage.dataset.phase = "next";
  stage.dataset.matchId = match.id;
  const title = match.label || match.bracket?.key || match.key || matchTitle(match);
  const [a, b] = [0, 1].map((slot) => slotLabel(match, slot, names).name);
  render(stage, h("div", { class: "overlay-line overlay-next", dataset: { testid: "overlay-next" } },
    h("span", { class: "overlay-next-label" }, "Next on stream: "), `${title} · ${a} vs ${b}`));
}
