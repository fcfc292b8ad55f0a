// The big scoreboard of one match: two sides, names and scores, the state, the winner. In a
// series the big numbers are the game being played (the series score once it is over), with
// the games won under each name and the format, game and map in the middle.

import { h } from "./dom.js";
import { scoreOf, slotLabel, stateLabel } from "./matches.js";
import { currentGame, seriesLine } from "./series.js";

/** The number a side shows big: the live game's score in a series, else the match's. */
export function bigScoreOf(match, id) {
  const game = currentGame(match);
  if (game && id) return game.scores[id] ?? 0;
  return scoreOf(match, id);
}

export function renderScoreboard(match, names) {
  const series = Boolean(match.series);
  const sides = [0, 1].map((slot) => {
    const id = match.participant_ids[slot];
    const who = slotLabel(match, slot, names);
    const won = Boolean(match.winner_id) && match.winner_id === id;
    return h("div", { class: `side side-${slot}${won ? " winner" : ""}`, dataset: { slot, participant: id ?? "" } },
      h("div", { class: "side-name" }, who.name),
      h("div", { class: "side-score", dataset: { testid: `score-${slot}` } }, String(bigScoreOf(match, id))),
      series && currentGame(match) ? h("div", { class: "side-series", dataset: { testid: `series-${slot}` } },
        `${match.series.score?.[id] ?? 0} won`) : null,
      won ? h("div", { class: "side-flag" }, "Winner") : null);
  });
  const line = seriesLine(match);
  return h("div", { class: `scoreboard state-${match.state}`, dataset: { state: match.state } },
    sides[0],
    h("div", { class: "middle" },
      h("span", { class: `badge state-${match.state}` }, stateLabel(match)),
      line ? h("span", { class: "series-line", dataset: { testid: "series-line" } }, line) : null,
      h("span", { class: "vs", "aria-hidden": "true" }, "vs")),
    sides[1]);
}
