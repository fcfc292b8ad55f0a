// /tournaments/{id}: the live bracket, standings, matches in play; ?projector=1 fits it all to the screen.

import { get } from "../api.js";
import { renderBracket, renderPlacements, renderStandings, viewOf } from "../bracket.js";
import { announce, byId, h, onNextFrame, render, segment } from "../dom.js";
import { loadFailed, showGate, tokenRefused, tournamentGone } from "../gate.js";
import { LiveRoom } from "../live.js";
import { applyTournamentEvent, bracketLeftOut, FORMATS, IN_PLAY, loadMatches, MatchBook, matchTitle, Names, NAMING,
  stateLabel, TABLED, takeSnapshot, versus } from "../matches.js";
import { showConnection } from "../status.js";
import { takeToken } from "../token.js";

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();
const book = new MatchBook();
const names = new Names();
let tournament = null;
let standings = null;
const scheduleDraw = onNextFrame(draw);
let standingsTimer = null;

if (!token) {
  showGate(main);
} else {
  const live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    onSnapshot(data) {
      tournament = data.tournament;
      names.set(data.participants);
      takeSnapshot(book, tournamentId, data).then(scheduleDraw, () => {});
      refreshStandings();
      draw();
      byId("seq").textContent = String(data.seq);
    },
    onEvent(frame) {
      apply(frame);
      byId("seq").textContent = String(live.lastSeq);
    },
    onAuthFailed: (message) => tokenRefused(main, message),
    onGone: (frame) => tournamentGone(main, frame),
  });
  showConnection(byId("connection"), live);
  setUpProjector();
  firstPaint().then((ok) => ok && live.start());
}

/** The bracket from REST while the socket connects; the welcome's snapshot follows. */
async function firstPaint() {
  try {
    const [t, view] = await Promise.all([get(`/api/tournaments/${tournamentId}`),
      get(`/api/tournaments/${tournamentId}/bracket`)]);
    tournament = t;
    names.set(t.participants);
    for (const round of view.rounds) round.matches.forEach((m) => book.merge(m));
    draw();
    return true;
  } catch (error) {
    loadFailed(main, error);
    return false;
  }
}

function apply(frame) {
  if (NAMING.has(frame.type)) names.add(frame.data.participant);
  const match = frame.data?.match;
  const before = match && book.get(match.id);
  tournament = applyTournamentEvent(book, tournament, frame);
  if (bracketLeftOut(frame)) loadMatches(book, tournamentId).then(scheduleDraw, () => {});
  if (match && book.get(match.id) !== before) {
    if (match.participant_ids.some((id) => id && !names.has(id))) refreshNames();
    if (match.winner_id && !before?.winner_id && !match.bracket?.walkover) {
      announce(byId("announcer"), `${matchTitle(match)}: ${names.of(match.winner_id)} won.`);
    } else if (before && before.state !== match.state) {
      announce(byId("announcer"), `${matchTitle(match)}: ${stateLabel(match)}.`);
    }
  }
  if (["match_completed", "result_corrected", "bracket_updated", "tournament_completed"].includes(frame.type)) {
    refreshStandings();
  }
  scheduleDraw();
}

async function refreshNames() {
  if (await names.reload(tournamentId)) scheduleDraw();
}

function refreshStandings() {
  if (!tournament || !TABLED.has(tournament.format)) return;
  clearTimeout(standingsTimer); // several results at once: one read
  standingsTimer = setTimeout(async () => {
    try {
      standings = await get(`/api/tournaments/${tournamentId}/standings`);
      scheduleDraw();
    } catch {
      /* the table stays as it was */
    }
  }, 150);
}


function draw() {
  if (!tournament || !byId("stage")) return;
  document.title = `${tournament.name} · livebracket`;
  byId("page-title").textContent = tournament.name;
  const matches = book.all();
  const inPlay = matches.filter((m) => IN_PLAY.has(m.state) && !m.bracket?.walkover)
    .sort((a, b) => (a.round ?? 0) - (b.round ?? 0));
  const table = standings && TABLED.has(tournament.format)
    ? renderStandings(standings, names) : null;
  render(byId("stage"),
    h("p", { class: "subtitle" },
      [tournament.game, FORMATS[tournament.format] ?? tournament.format].filter(Boolean).join(" · "),
      " ", h("span", { class: `badge tstate-${tournament.state}` }, tournament.state)),
    renderPlacements(tournament.placements, names),
    h("div", { class: "board" },
      h("section", { class: "bracket-wrap", "aria-label": "Bracket" }, renderBracket(viewOf(matches), names)),
      table ? h("section", { class: "panel standings-wrap", "aria-label": "Standings" }, table) : null));
  render(byId("in-play"),
    h("h2", {}, "Matches in play"),
    inPlay.length
      ? h("ul", { class: "in-play-list" }, inPlay.map((m) => h("li", {},
        h("a", { href: `/matches/${m.id}`, class: `in-play state-${m.state}`, dataset: { matchId: m.id } },
          h("span", { class: "key" }, matchTitle(m)),
          h("span", {}, versus(m, names)),
          h("span", { class: `badge state-${m.state}` }, stateLabel(m))))))
      : h("p", { class: "empty" }, "No match is being played right now."));
  fit();
}

// -- projector mode: the whole bracket scaled to the screen, updating by itself ----------------

function setUpProjector() {
  const button = byId("projector-toggle");
  const on = new URL(location.href).searchParams.get("projector") === "1";
  setProjector(on);
  button.addEventListener("click", () => {
    const next = !document.body.classList.contains("projector");
    setProjector(next);
    if (next) document.documentElement.requestFullscreen?.().catch(() => {});
    else if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
  });
  addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.body.classList.contains("projector")) setProjector(false);
  });
  addEventListener("resize", fit);
  new ResizeObserver(fit).observe(byId("stage"));
}

function setProjector(on) {
  document.body.classList.toggle("projector", on);
  const button = byId("projector-toggle");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Leave projector mode" : "Projector mode";
  const url = new URL(location.href);
  if (on) url.searchParams.set("projector", "1");
  else url.searchParams.delete("projector");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  if (on) navigator.wakeLock?.request("screen").catch(() => {});
  fit();
}

function fit() {
  const stage = byId("stage");
  if (!stage) return;
  if (!document.body.classList.contains("projector")) {
    stage.style.transform = "";
    return;
  }
  stage.style.transform = "none";
  const width = stage.scrollWidth;
  const height = stage.scrollHeight;
  const top = byId("topbar").getBoundingClientRect().height;
  let scale = Math.min((innerWidth - 24) / width, (innerHeight - top - 24) / height, 3);
  if (!(scale > 0 && Number.isFinite(scale))) scale = 1;
  const left = Math.max(0, (innerWidth - width * scale) / 2);
  stage.style.transform = `translateX(${left}px) scale(${scale})`;
}
