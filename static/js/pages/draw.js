// /draw/{tournament id}: the live draw of the seeding, for the projector: each place appears as
// the organizer reveals it, with the commitment to the random seed, and the seed at the end.

import { announce, byId, h, render, segment } from "../dom.js";
import { showGate, tokenRefused, tournamentGone } from "../gate.js";
import { LiveRoom } from "../live.js";
import { Names, NAMING } from "../matches.js";
import { showConnection } from "../status.js";
import { takeToken } from "../token.js";

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();
const names = new Names();
let tournament = null;
let newest = 0; // the last seed revealed, highlighted

if (!token) {
  showGate(main);
} else {
  const live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    async onSnapshot(data) {
      tournament = data.tournament;
      names.set(data.participants);
      draw();
    },
    onEvent(frame) {
      if (NAMING.has(frame.type)) names.add(frame.data.participant);
      if (!frame.type.startsWith("draw_") && frame.type !== "bracket_generated") return;
      tournament = frame.data.tournament ?? tournament;
      if (frame.type === "draw_revealed") {
        const places = frame.data.places;
        newest = places.at(-1)?.seed ?? 0;
        announce(byId("announcer"), places.map((p) => `Seed ${p.seed}: ${names.of(p.participant_id)}`).join(". "));
      } else {
        newest = 0;
      }
      draw();
    },
    onAuthFailed: (message) => tokenRefused(main, message),
    onGone: (frame) => tournamentGone(main, frame),
  });
  showConnection(byId("connection"), live);
  document.body.classList.add("projector", "draw-page");
  live.start();
}

function draw() {
  if (!tournament) return;
  byId("page-title").textContent = `${tournament.name}: the draw`;
  const d = tournament.draw;
  if (!d) {
    render(main, h("p", { class: "draw-wait" }, tournament.state === "live"
      ? "The tournament has started." : "The draw has not started yet."));
    return;
  }
  const slots = Array.from({ length: d.total }, (_, i) => {
    const pid = d.revealed[i];
    return h("li", { class: `draw-slot${pid ? " shown" : ""}${i + 1 === newest ? " newest" : ""}`,
      dataset: { seed: i + 1 } },
    h("span", { class: "seed" }, `Seed ${i + 1}`), " ", h("span", { class: "name" }, pid ? names.of(pid) : "…"));
  });
  render(main,
    h("p", { class: "draw-progress" }, d.complete ? "The draw is complete."
      : `${d.revealed.length} of ${d.total} drawn`),
    h("ol", { class: "draw-board" }, slots),
    h("p", { class: "muted small draw-proof" }, d.complete
      ? `Random seed ${d.rng_seed}: its SHA-256 is ${d.commitment}, as announced before the first place.`
      : `Committed before the first place: SHA-256 of the random seed ${d.commitment}`));
}

