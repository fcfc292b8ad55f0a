// /play/{match id}: a player checks in, starts, and reports or confirms the result (socket commands).
// A match called to a station says where to go, and until when to check in there. The match
// itself is static/js/playmatch.js, which /me/{tournament} mounts too.

import { byId, segment } from "../dom.js";
import { showGate, tokenRefused } from "../gate.js";
import { matchTitle } from "../matches.js";
import { mountPlayMatch } from "../playmatch.js";
import { takeToken } from "../token.js";

const main = byId("main");
const token = takeToken();

if (!token) {
  showGate(main);
} else {
  mountPlayMatch(main, segment(1), {
    token,
    status: byId("connection"),
    onMatch: (match) => {
      byId("page-title").textContent = matchTitle(match);
      document.title = `${matchTitle(match)} · play · livebracket`;
    },
    onAuthFailed: (message) => tokenRefused(main, message),
  });
}
