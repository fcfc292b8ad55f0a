// /overlay/match/{id}: the OBS browser source of one match (the card itself: overlaycard.js).

import { byId, segment } from "../dom.js";
import { watchMatch } from "../matchroom.js";
import { mountOverlayCard } from "../overlaycard.js";
import { takeToken } from "../token.js";

const stage = byId("overlay");
const token = takeToken();

if (!token) {
  mountOverlayCard(stage, null).note("Add ?token=… to this overlay's address.");
} else {
  let card = null;
  const { live, names } = watchMatch(segment(2), token, {
    onUpdate: (match) => card.show(match),
    onAuthFailed: (message) => card.note(`Token refused: ${message}`),
  });
  card = mountOverlayCard(stage, names);
  live.handlers.onState = (state) => {
    document.body.dataset.connection = state; // for the operator's dev tools, not shown
  };
  live.start();
}
