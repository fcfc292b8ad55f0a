// /: the tournaments, newest first, live from the lobby socket: created, started, completed,
// with their registrations, matches in play and watchers.

import { byId, h, onNextFrame, render } from "../dom.js";
import { showGate, tokenRefused } from "../gate.js";
import { LiveRoom } from "../live.js";
import { FORMATS } from "../matches.js";
import { showConnection } from "../status.js";
import { isOrganizer, takeToken } from "../token.js";

const main = byId("main");
const token = takeToken();
let summaries = null; // id -> summary, newest first
const scheduleDraw = onNextFrame(draw);

if (!token) {
  showGate(main);
} else {
  const live = new LiveRoom("/ws/lobby", token, {
    onSnapshot(data) {
      summaries = new Map(data.tournaments.map((t) => [t.id, t]));
      draw();
    },
    onEvent(frame) {
      if (frame.type === "tournament_unlisted") { // deleted or archived
        summaries.delete(frame.data.tournament_id);
        scheduleDraw();
        return;
      }
      const summary = frame.data.tournament;
      if (!summaries.has(summary.id)) summaries = new Map([[summary.id, summary], ...summaries]); // a new one: on top
      else summaries.set(summary.id, summary);
      scheduleDraw();
    },
    onAuthFailed: (message) => tokenRefused(main, message),
  });
  showConnection(byId("connection"), live);
  live.start();
}

function draw() {
  if (!summaries) return;
  const organizer = isOrganizer(token);
  const list = [...summaries.values()];
  render(main,
    organizer ? h("p", {}, h("a", { class: "button", href: "/organize" }, "New tournament")) : null,
    list.length
      ? h("ul", { class: "cards", id: "tournaments" }, list.map((t) => h("li", { class: "panel tournament-item",
        dataset: { tournamentId: t.id } },
        h("h2", {}, h("a", { href: `/tournaments/${t.id}` }, t.name)),
        h("p", { class: "subtitle" }, [t.game, FORMATS[t.format] ?? t.format].filter(Boolean).join(" · "), " ",
          h("span", { class: `badge tstate-${t.state}` }, t.state)),
        h("p", { class: "counts" }, counts(t)),
        h("p", { class: "row" },
          h("a", { href: `/tournaments/${t.id}` }, "Watch"),
          h("a", { href: `/tournaments/${t.id}?projector=1` }, "Projector"),
          organizer ? h("a", { href: `/organize/${t.id}` }, "Organize") : null))))
      : h("p", { class: "empty" }, organizer ? "No tournament yet: create one." : "No tournament yet."));
}

function counts(t) {
  const parts = [plural(t.participants, "participant")];
  if (t.matches_in_play) parts.push(`${plural(t.matches_in_play, "match", "matches")} in play`);
  if (t.watchers) parts.push(`${t.watchers} watching`);
  return parts.join(" · ");
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
