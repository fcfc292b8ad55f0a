// /overlay/match/{id}: the OBS browser source: names and scores on a transparent page, nothing else.

import { byId, h, render, segment } from "../dom.js";
import { scoreOf, slotLabel } from "../matches.js";
import { watchMatch } from "../matchroom.js";
import { takeToken } from "../token.js";

const stage = byId("overlay");
const token = takeToken();

if (!token) {
  render(stage, h("p", { class: "overlay-note" }, "Add ?token=… to this overlay's address."));
} else {
  const { live, names } = watchMatch(segment(2), token, {
    onUpdate: (match) => {
      render(stage, [0, 1].map((slot) => {
        const id = match.participant_ids[slot];
        const won = Boolean(match.winner_id) && match.winner_id === id;
        return h("div", { class: `overlay-row${won ? " winner" : ""}`, dataset: { slot } },
          h("span", { class: "overlay-name" }, slotLabel(match, slot, names).name),
          h("span", { class: "overlay-score" }, String(scoreOf(match, id))));
      }));
    },
    onAuthFailed: (message) => render(stage, h("p", { class: "overlay-note" }, `Token refused: ${message}`)),
  });
  live.handlers.onState = (state) => {
    document.body.dataset.connection = state; // for the operator's dev tools, not shown
  };
  live.start();
}
