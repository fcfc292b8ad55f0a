// /overlay/match/{id}: the OBS browser source: names and scores on a transparent page. In a
// series: the games won beside each score and the format, game and map above; during the map
// veto, the veto board. A match called to a station names it above, small.

import { byId, h, render, segment } from "../dom.js";
import { FINAL_STATES, slotLabel } from "../matches.js";
import { watchMatch } from "../matchroom.js";
import { bigScoreOf } from "../scoreboard.js";
import { currentGame, seriesLine } from "../series.js";
import { takeToken } from "../token.js";

const stage = byId("overlay");
const token = takeToken();

if (!token) {
  render(stage, h("p", { class: "overlay-note" }, "Add ?token=… to this overlay's address."));
} else {
  const { live, names } = watchMatch(segment(2), token, {
    onUpdate: (match) => {
      const series = Boolean(match.series) && Boolean(currentGame(match));
      const line = seriesLine(match);
      const station = match.call && !FINAL_STATES.has(match.state) ? match.call.station : null;
      render(stage,
        station ? h("div", { class: "overlay-line overlay-station", dataset: { testid: "overlay-station" } }, station)
          : null,
        line ? h("div", { class: "overlay-line", dataset: { testid: "overlay-line" } }, line) : null,
        [0, 1].map((slot) => {
          const id = match.participant_ids[slot];
          const won = Boolean(match.winner_id) && match.winner_id === id;
          return h("div", { class: `overlay-row${won ? " winner" : ""}${series ? " with-series" : ""}`, dataset: { slot } },
            h("span", { class: "overlay-name" }, slotLabel(match, slot, names).name),
            series ? h("span", { class: "overlay-series", dataset: { testid: `overlay-series-${slot}` } },
              String(match.series.score?.[id] ?? 0)) : null,
            h("span", { class: "overlay-score" }, String(bigScoreOf(match, id))));
        }),
        match.veto && !match.veto.complete ? vetoStrip(match) : null);
    },
    onAuthFailed: (message) => render(stage, h("p", { class: "overlay-note" }, `Token refused: ${message}`)),
  });
  live.handlers.onState = (state) => {
    document.body.dataset.connection = state; // for the operator's dev tools, not shown
  };
  live.start();

  /** The veto as a strip of maps: struck out when banned, marked when picked, and whose turn it is. */
  function vetoStrip(match) {
    const veto = match.veto;
    const taken = new Map(veto.taken.filter((t) => t.action !== "side").map((t) => [t.map, t]));
    const turn = veto.turn;
    return h("div", { class: "overlay-veto", dataset: { testid: "overlay-veto" } },
      h("div", { class: "overlay-turn" },
        turn ? `${names.of(turn.by)} ${turn.action === "side" ? "picks a side" : `${turn.action}s`}` : ""),
      h("ol", { class: "overlay-maps" }, veto.pool.map((name) => {
        const t = taken.get(name);
        return h("li", { class: `overlay-map ${t?.action ?? "open"}`, dataset: { map: name } },
          name, t?.action === "pick" ? ` · ${names.of(t.by)}` : "");
      })));
  }
}
