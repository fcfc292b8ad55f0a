// Series and map vetoes as the pages show them: the format in words, the game being played,
// the games so far, and the veto board (with its turn buttons for whoever may take the turn).

import { h } from "./dom.js";

/** "Best of 3", "All 2 games"; null for a single game. */
export function formatLabel(format) {
  if (!format || (format.best_of ?? 1) <= 1) return null;
  return format.play_all ? `All ${format.best_of} games` : `Best of ${format.best_of}`;
}

/** The game being played in a series (its state "live"), or null. */
export function currentGame(match) {
  const last = match.games?.[match.games.length - 1];
  return last && last.state === "live" ? last : null;
}

/** The map of the game being played, or of the match itself (a best of 1 after its veto). */
export function currentMap(match) {
  const game = currentGame(match);
  if (game?.map) return game.map;
  if (!match.series && match.veto?.complete) return match.veto.maps[0] ?? null;
  return null;
}

/** "Best of 3 · Game 2 · Inferno": what an overlay or a scoreboard says above the scores. */
export function seriesLine(match) {
  const parts = [formatLabel(match.format)];
  const game = currentGame(match);
  if (game) parts.push(`Game ${game.number}`);
  parts.push(currentMap(match));
  return parts.filter(Boolean).join(" · ");
}

/** "Series 1–0" with the players in slot order; null for a single game. */
export function seriesScore(match) {
  if (!match.series) return null;
  return `Series ${match.participant_ids.map((id) => match.series.score?.[id] ?? 0).join("–")}`;
}

/** The games of a series as a table: number, map, score, winner. */
export function renderGames(match, names) {
  if (!match.series || !match.games?.length) return null;
  const [a, b] = match.participant_ids;
  return h("table", { class: "games", "aria-label": "Games" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Game"), h("th", { scope: "col" }, "Map"),
      h("th", { scope: "col" }, `${names.of(a)} – ${names.of(b)}`), h("th", { scope: "col" }, "Winner"))),
    h("tbody", {}, match.games.map((g) => h("tr", { class: `game state-${g.state}`, dataset: { game: g.number } },
      h("td", {}, String(g.number)),
      h("td", {}, g.map ?? "–"),
      h("td", { class: "num" }, `${g.scores[a] ?? 0}–${g.scores[b] ?? 0}`),
      h("td", {}, g.state === "live" ? "Playing" : names.of(g.winner_id))))));
}

const TAKEN_WORDS = { ban: "banned", pick: "picked", decider: "decider" };

/**
 * The veto board: every map with what happened to it, the turn, and, when `canAct(turn)` says
 * the viewer may take it, one button per choice; `onTake({map} | {side}, button)` takes it.
 */
export function renderVeto(match, names, { canAct = () => false, onTake = null, idPrefix = "veto" } = {}) {
  const veto = match.veto;
  if (!veto) return null;
  const taken = new Map();
  for (const t of veto.taken) if (t.action !== "side") taken.set(t.map, t);
  const sides = new Map(veto.taken.filter((t) => t.action === "side").map((t) => [t.map, t]));
  const turn = veto.turn;
  const mine = Boolean(turn && onTake && canAct(turn));
  const tiles = veto.pool.map((name) => {
    const t = taken.get(name);
    const side = sides.get(name);
    const how = t ? `${TAKEN_WORDS[t.action]}${t.by ? ` by ${names.of(t.by)}` : ""}${t.auto ? " (time ran out)" : ""}`
      : "available";
    const choose = mine && turn.action !== "side" && !t
      ? h("button", { type: "button", class: "veto-choice", id: `${idPrefix}-${slug(name)}`,
        onclick: (e) => onTake({ map: name }, e.currentTarget) }, turn.action === "ban" ? `Ban ${name}` : `Pick ${name}`)
      : null;
    return h("li", { class: `veto-map ${t ? t.action : "open"}`, dataset: { map: name, state: t?.action ?? "open" } },
      h("span", { class: "veto-name" }, name),
      h("span", { class: "veto-how small" }, how, side ? ` · ${names.of(side.by)} ${side.side}` : ""),
      choose);
  });
  let line;
  if (veto.complete) {
    line = `Maps: ${veto.maps.map((m, i) => `${i + 1}. ${m}`).join(", ")}`;
  } else if (turn) {
    const what = turn.action === "side" ? `choose a side on ${lastPick(veto)}` : `${turn.action} a map`;
    line = `${names.of(turn.by)} to ${what}${veto.deadline ? ` (by ${clock(veto.deadline)})` : ""}`;
  }
  const sideButtons = mine && turn.action === "side" ? h("div", { class: "row" }, veto.sides.map((s) =>
    h("button", { type: "button", class: "veto-choice primary", id: `${idPrefix}-side-${slug(s)}`,
      onclick: (e) => onTake({ side: s }, e.currentTarget) }, `Play ${s}`))) : null;
  return h("section", { class: "veto", "aria-label": "Map veto", dataset: { complete: String(veto.complete) } },
    h("p", { class: "veto-turn", role: "status" }, line ?? ""),
    sideButtons,
    h("ol", { class: "veto-board" }, tiles));
}

function lastPick(veto) {
  return [...veto.taken].reverse().find((t) => t.action === "pick")?.map ?? "";
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A map or side name as part of an element id. */
export function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
