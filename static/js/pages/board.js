// /board/{tournament id}: the venue's queue board, for a projector across the hall: the matches
// just called and where to go, every station with what is on it, the next matches with ETAs.
// Live from the tournament socket (a spectator token is enough).

import { get } from "../api.js";
import { announce, byId, h, onNextFrame, render, segment } from "../dom.js";
import { loadFailed, showGate, tokenRefused, tournamentGone } from "../gate.js";
import { LiveRoom } from "../live.js";
import { applyTournamentEvent, bracketLeftOut, loadMatches, MatchBook, Names, NAMING, takeSnapshot } from "../matches.js";
import { clockTime, countdownEl, entryState, entryTitle, etaEl, keepTicking, noShows, QueueState, ServerClock,
  scoreText, sidesOf, waitingAtStation, waitText } from "../stations.js";
import { showConnection } from "../status.js";
import { takeToken } from "../token.js";

const NEXT_SHOWN = 12; // queue rows shown (the rest is counted)
const FRESH_MS = 30000; // a call this recent is highlighted
const SMALLEST = 0.5; // the board's type shrinks to fit the screen, down to half its size

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();
const book = new MatchBook();
const names = new Names();
const clock = new ServerClock();
const queue = new QueueState(book);
const scheduleDraw = onNextFrame(draw);
let tournament = null;
let fresh = ""; // the calls highlighted at the last draw (ids joined), to redraw when one gets old

if (!token) {
  showGate(main);
} else {
  const live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    onSnapshot(data) {
      tournament = data.tournament;
      names.set(data.participants);
      queue.welcome(data);
      takeSnapshot(book, tournamentId, data).then(scheduleDraw, () => {});
      draw();
    },
    onEvent(frame) {
      const data = frame.data ?? {};
      if (NAMING.has(frame.type)) names.add(data.participant);
      tournament = applyTournamentEvent(book, tournament, frame);
      if (bracketLeftOut(frame)) loadMatches(book, tournamentId).then(scheduleDraw, () => {});
      queue.apply(frame);
      if (frame.type === "match_called" && data.match && data.station) {
        const [a, b] = data.match.participant_ids.map((id) => names.of(id));
        announce(byId("announcer"), `${entryTitle({ label: data.match.label, key: data.match.bracket?.key })}: `
          + `${a} and ${b}, go to ${data.station.name}.`);
      }
      scheduleDraw();
    },
    onFrame: (frame) => clock.observe(frame),
    onAuthFailed: (message) => tokenRefused(main, message),
    onGone: (frame) => tournamentGone(main, frame),
  });
  showConnection(byId("connection"), live);
  const time = h("time", { id: "board-clock", class: "board-clock" }, clockTime(clock.now()));
  byId("topbar").querySelector(".tools").prepend(time);
  keepTicking(clock, (now) => {
    time.textContent = clockTime(now);
    if (freshCalls(now) !== fresh) scheduleDraw();
  });
  addEventListener("resize", fit);
  firstPaint().then((ok) => ok && live.start());
}

/** The tournament from REST while the socket connects (its welcome brings the queue). */
async function firstPaint() {
  try {
    const t = await get(`/api/tournaments/${tournamentId}`);
    tournament = t;
    names.set(t.participants);
    queue.tournament(t);
    draw();
    return true;
  } catch (error) {
    loadFailed(main, error);
    return false;
  }
}

/** The ids of the calls made in the last FRESH_MS, joined. */
function freshCalls(now) {
  return queue.stations().filter((s) => waitingAtStation(s.match) && now - (Date.parse(s.match.call.called_at) || 0) < FRESH_MS)
    .map((s) => s.match.match_id).join(" ");
}

function draw() {
  if (!tournament) return;
  fresh = freshCalls(clock.now());
  document.title = `${tournament.name}: queue · livebracket`;
  byId("page-title").textContent = `${tournament.name}: matches and stations`;
  const stations = queue.stations();
  if (!stations.length) {
    render(main, h("p", { class: "board-empty" }, "No stations yet: matches appear here once the organizer adds them."));
    return;
  }
  const called = stations.filter((s) => waitingAtStation(s.match))
    .sort((a, b) => (b.match.call.called_at ?? "").localeCompare(a.match.call.called_at ?? ""));
  const rows = queue.rows();
  render(main,
    called.length ? h("section", { class: "board-called", "aria-labelledby": "called-title" },
      h("h2", { id: "called-title" }, "Go to your station"),
      h("ul", {}, called.map(calledLine))) : null,
    h("div", { class: "board-grid" },
      h("section", { class: "board-stations", "aria-labelledby": "stations-title" },
        h("h2", { id: "stations-title" }, "Stations"),
        h("ul", {}, stations.map(stationTile))),
      h("section", { class: "board-next", "aria-labelledby": "next-title" },
        h("h2", { id: "next-title" }, "Up next"),
        rows.length ? h("ol", {}, rows.slice(0, NEXT_SHOWN).map(nextRow)) : h("p", { class: "muted" }, "Nothing else waits."),
        rows.length > NEXT_SHOWN ? h("p", { class: "muted board-more" }, `and ${rows.length - NEXT_SHOWN} more`) : null)));
  fit();
}

/** Shrink the type until the board fits the screen without scrolling (a projector cannot scroll). */
function fit() {
  const body = document.body;
  body.style.fontSize = "";
  const base = parseFloat(getComputedStyle(body).fontSize);
  let scale = 1;
  for (let i = 0; i < 4 && document.documentElement.scrollHeight > innerHeight && scale > SMALLEST; i++) {
    scale = Math.max(SMALLEST, scale * Math.sqrt(innerHeight / document.documentElement.scrollHeight));
    body.style.fontSize = `${base * scale}px`;
  }
}

/** "W2-1: Alice vs Bob → Station 4", the check-in countdown, who is in, and who is late. */
function calledLine(s) {
  const m = s.match;
  const [a, b] = sidesOf(m, names);
  const late = noShows(m);
  const ins = (m.checked_in ?? []).map((id) => names.of(id));
  const isFresh = fresh.split(" ").includes(m.match_id);
  return h("li", { class: `called-line${late.length ? " late" : ""}${isFresh ? " fresh" : ""}`, dataset: { matchId: m.match_id, stationId: s.id } },
    h("span", { class: "called-match" }, h("span", { class: "key" }, `${entryTitle(m)}:`), ` ${a} vs ${b}`),
    h("span", { class: "arrow", "aria-hidden": "true" }, "→"),
    h("span", { class: "visually-hidden" }, " go to "),
    h("span", { class: "called-station" }, s.name),
    h("span", { class: "called-status" },
      late.length ? `${late.map((id) => names.of(id)).join(" and ")}: time is up, come now!`
        : m.state === "ready" ? "Both players are in"
          : m.call.deadline ? ["Check in within ", countdownEl(m.call.deadline, clock)] : "Check in at the station",
      !late.length && m.state !== "ready" && ins.length ? ` · ${ins.join(", ")} checked in` : ""));
}

function stationTile(s) {
  const m = s.match;
  if (!m) {
    return h("li", { class: `board-station free${s.enabled ? "" : " disabled"}`, dataset: { stationId: s.id } },
      h("div", { class: "tile-head" }, h("span", { class: "tile-name" }, s.name), s.stream ? h("span", { class: "badge stream" }, "Stream") : null),
      h("div", { class: "tile-free" }, s.enabled ? "Free" : "Closed"));
  }
  const [a, b] = sidesOf(m, names);
  return h("li", { class: `board-station state-${m.state}`, dataset: { stationId: s.id, matchId: m.match_id } },
    h("div", { class: "tile-head" },
      h("span", { class: "tile-name" }, s.name),
      s.stream ? h("span", { class: "badge stream" }, "Stream") : null,
      h("span", { class: `badge state-${m.state}` }, entryState(m))),
    h("div", { class: "tile-key" }, entryTitle(m)),
    h("div", { class: "tile-players" }, h("span", {}, a), h("span", { class: "vs" }, "vs"), h("span", {}, b)),
    m.state === "check_in" && m.call?.deadline && !m.call.expired
      ? h("div", { class: "tile-countdown" }, "Check in: ", countdownEl(m.call.deadline, clock)) : null,
    noShows(m).length ? h("div", { class: "tile-late" }, "Check-in time is up") : null,
    m.state === "live" ? h("div", { class: "tile-score" }, scoreText(m)) : null);
}

function nextRow(row) {
  const [a, b] = sidesOf(row, names);
  const why = row.waiting_for?.length ? "" : waitText(row, names); // the names already say whose winner
  return h("li", { class: `next-row${row.ready ? " ready" : ""}`, dataset: { matchId: row.match_id } },
    h("span", { class: "key" }, entryTitle(row)),
    h("span", { class: "next-players" }, `${a} vs ${b}`),
    etaEl(row.eta, clock),
    why ? h("span", { class: "next-why" }, why) : null);
}
