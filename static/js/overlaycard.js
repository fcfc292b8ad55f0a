// The OBS card of one match, as /overlay/match and /overlay/stream show it: names and scores on a
// transparent page. In a series: the games won beside each score and the format, game and map
// above; during the map veto, the veto board. A match called to a station names it above, small.

import { h, render } from "./dom.js";
import { FINAL_STATES, slotLabel } from "./matches.js";
import { bigScoreOf } from "./scoreboard.js";
import { currentGame, seriesLine } from "./series.js";

/**
 * `mountOverlayCard(stage, names)`: `show(match, {station})` draws `match` into `stage` (the
 * station line unless `station: false`), `note(text)` a line of text, `clear()` nothing at all
 * (a transparent source). `names` is the page's Names, read at each draw.
 */
export function mountOverlayCard(stage, names) {
  function show(match, { station = true } = {}) {
    const series = Boolean(match.series) && Boolean(currentGame(match));
    const line = seriesLine(match);
    const where = station && match.call && !FINAL_STATES.has(match.state) ? match.call.station : null;
    render(stage,
      where ? h("div", { class: "overlay-line overlay-station", dataset: { testid: "overlay-station" } }, where) : null,
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
  }

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

  return {
    show,
    note: (text, attrs = {}) => render(stage, h("p", { class: "overlay-note", ...attrs }, text)),
    clear: () => render(stage),
  };
}
