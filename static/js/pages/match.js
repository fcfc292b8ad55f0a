// /matches/{id}: a large live scoreboard (and the station the match is called to).

import { announce, byId, h, render, segment } from "../dom.js";
import { showGate, tokenRefused } from "../gate.js";
import { FINAL_STATES, matchTitle, scoreLine, STATE_LABELS } from "../matches.js";
import { ChatBox } from "../chat.js";
import { watchMatch } from "../matchroom.js";
import { renderScoreboard } from "../scoreboard.js";
import { renderGames, renderVeto } from "../series.js";
import { showConnection } from "../status.js";
import { takeToken } from "../token.js";

const main = byId("main");
const matchId = segment(1);
const token = takeToken();

if (!token) {
  showGate(main);
} else {
  let chat = null;
  const { live, names, current } = watchMatch(matchId, token, {
    onWelcome: (data) => chat.welcome(data),
    onFrame: (frame) => chat.frame(frame),
    onUpdate: (match, previous) => {
      draw(match);
      if (!previous) return;
      if (JSON.stringify(previous.scores) !== JSON.stringify(match.scores)) {
        announce(byId("announcer"), scoreLine(match, names));
      } else if (previous.state !== match.state) {
        announce(byId("announcer"), `${STATE_LABELS[match.state] ?? match.state}. ${scoreLine(match, names)}`);
      }
    },
    onEvent: () => {
      const seq = byId("seq");
      if (seq) seq.textContent = String(live.lastSeq);
    },
    onAuthFailed: (message) => tokenRefused(main, message),
  });
  chat = new ChatBox(live, () => current() && draw(current()));
  showConnection(byId("connection"), live);
  live.start();

  function draw(match) {
    document.title = `${matchTitle(match)} · livebracket`;
    byId("page-title").textContent = matchTitle(match);
    render(main,
      h("p", { class: "crumbs" },
        h("a", { href: `/tournaments/${match.tournament_id}` }, "Back to the tournament"),
        match.round ? ` · Round ${match.round}` : "",
        match.call && !FINAL_STATES.has(match.state)
          ? [" · ", h("span", { class: "station-name", id: "station-name" }, match.call.station)] : null),
      h("section", { class: "big-board", "aria-label": `Score: ${scoreLine(match, names)}` },
        renderScoreboard(match, names)),
      match.veto ? h("section", { class: "panel", "aria-label": "Map veto" }, renderVeto(match, names)) : null,
      renderGames(match, names),
      details(match),
      chat.view(),
      h("p", { class: "seq" }, "Event ", h("span", { id: "seq" }, String(live.lastSeq ?? 0))));
  }

  function details(match) {
    const lines = [];
    if (match.state === "check_in" || match.state === "ready") {
      const ins = match.checked_in.map((id) => names.of(id));
      lines.push(ins.length ? `Checked in: ${ins.join(", ")}` : "Waiting for the players to check in");
    }
    for (const [who, report] of Object.entries(match.reports ?? {})) {
      if (match.state === "pending_result" || match.state === "disputed") {
        const score = match.participant_ids.map((id) => report.scores[id]).join("–");
        lines.push(`${names.of(who)} reported ${report.games?.length ? `the series ${score}`
          : report.game ? `game ${report.game} ${score}` : score}`);
      }
    }
    if (match.state === "disputed") lines.push("The result is disputed: an organizer will decide.");
    return lines.length ? h("ul", { class: "details" }, lines.map((l) => h("li", {}, l))) : null;
  }
}
