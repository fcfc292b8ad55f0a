// The big scoreboard of one match: two sides, names and scores, the state, the winner.

import { h } from "./dom.js";
import { scoreOf, slotLabel, stateLabel } from "./matches.js";

export function renderScoreboard(match, names) {
  const sides = [0, 1].map((slot) => {
    const id = match.participant_ids[slot];
    const who = slotLabel(match, slot, names);
    const won = Boolean(match.winner_id) && match.winner_id === id;
    return h("div", { class: `side side-${slot}${won ? " winner" : ""}`, dataset: { slot, participant: id ?? "" } },
      h("div", { class: "side-name" }, who.name),
      h("div", { class: "side-score", dataset: { testid: `score-${slot}` } }, String(scoreOf(match, id))),
      won ? h("div", { class: "side-flag" }, "Winner") : null);
  });
  return h("div", { class: `scoreboard state-${match.state}`, dataset: { state: match.state } },
    sides[0],
    h("div", { class: "middle" },
      h("span", { class: `badge state-${match.state}` }, stateLabel(match)),
      h("span", { class: "vs", "aria-hidden": "true" }, "vs")),
    sides[1]);
}
