// A bracket as columns of rounds per section (the groups of a group stage, winners, losers,
// grand final, ...), and the standings tables of round robin, Swiss and groups. Input: GET
// /api/tournaments/{id}/bracket's view.

import { h } from "./dom.js";
import { scoreOf, slotLabel, started, stateLabel } from "./matches.js";

const SECTIONS = ["winners", "losers", "grand_final", "third_place", "round_robin", "swiss"];
const TITLES = {
  winners: "Winners bracket",
  losers: "Losers bracket",
  grand_final: "Grand final",
  third_place: "Third place",
  round_robin: "Round robin",
  swiss: "Swiss",
};

/** The bracket view (the REST shape) of a list of matches, as the server groups them. */
export function viewOf(matches) {
  const groups = new Map();
  for (const m of matches) {
    if (!m.bracket) continue;
    const group = m.bracket.group ?? null;
    const key = `${group ?? ""}:${m.bracket.bracket}:${m.round ?? 0}`;
    if (!groups.has(key)) groups.set(key, { bracket: m.bracket.bracket, round: m.round ?? 0, group, matches: [] });
    groups.get(key).matches.push(m);
  }
  const rounds = [...groups.values()];
  for (const r of rounds) r.matches.sort((a, b) => a.bracket.position - b.bracket.position);
  // A group stage first (A, B, ...), then the playoff's sections in their order.
  rounds.sort((a, b) => (a.group === null) - (b.group === null) || (a.group ?? "").localeCompare(b.group ?? "")
    || SECTIONS.indexOf(a.bracket) - SECTIONS.indexOf(b.bracket) || a.round - b.round);
  return { rounds };
}

function roundTitle(section, round, last) {
  if (section === "winners") {
    const fromEnd = last - round;
    if (fromEnd === 0) return "Final";
    if (fromEnd === 1) return "Semifinals";
    if (fromEnd === 2) return "Quarterfinals";
  }
  if (section === "losers" && round === last) return "Losers final";
  if (section === "grand_final") return round === 1 ? "Grand final" : "Reset, if needed";
  if (section === "third_place") return "Third place";
  return `Round ${round}`;
}

/** The bracket as an element; `href(match)` links a card (or null for no link). */
export function renderBracket(view, names, { href = (m) => `/matches/${m.id}` } = {}) {
  const rounds = view.rounds ?? [];
  if (!rounds.length) {
    return h("p", { class: "empty" }, "The bracket appears here when the tournament starts.");
  }
  const bySection = new Map();
  for (const r of rounds) {
    const id = r.group ? `group-${r.group}` : r.bracket; // each group is a section of its own
    if (!bySection.has(id)) bySection.set(id, []);
    bySection.get(id).push(r);
  }
  const onlyWinners = !bySection.has("losers");
  const staged = rounds.some((r) => r.group);
  // The grand final and third place sit beside the winners bracket as one more column each.
  return h("div", { class: "bracket" },
    [...bySection.entries()].map(([id, list]) => {
      const section = list[0].bracket;
      const last = Math.max(...list.map((r) => r.round));
      const title = list[0].group ? `Group ${list[0].group}`
        : section === "winners" && onlyWinners ? (staged ? "Playoff" : "Bracket") : TITLES[section] ?? section;
      return h("section", { class: `bracket-section section-${section}${list[0].group ? " group" : ""}`,
        "aria-label": title, dataset: { section: id } },
        h("h3", {}, title),
        h("div", { class: "rounds" },
          list.map((r) =>
            h("div", { class: "round", role: "group", "aria-label": roundTitle(section, r.round, last) },
              list.length === 1 && roundTitle(section, r.round, last) === title ? null
                : h("h4", {}, roundTitle(section, r.round, last)),
              h("ol", { class: "round-matches" },
                r.matches.map((m) => h("li", {}, matchCard(m, names, href(m)))))))));
    }));
}

export function matchCard(match, names, link) {
  const walkover = Boolean(match.bracket?.walkover);
  const rows = [0, 1].map((slot) => {
    const id = match.participant_ids[slot];
    const who = slotLabel(match, slot, names);
    const won = Boolean(match.winner_id) && id === match.winner_id;
    return h("li", { class: `player${won ? " winner" : ""}${who.known ? "" : " tbd"}`, dataset: { slot } },
      h("span", { class: "name" }, who.name),
      won ? h("span", { class: "visually-hidden" }, " (winner)") : null,
      h("span", { class: "score" }, walkover || !id || !started(match) ? "" : String(scoreOf(match, id))));
  });
  const group = match.bracket?.group;
  const key = group ? match.bracket.key.slice(group.length + 1) : match.bracket?.key ?? match.label; // in its group's section
  const state = stateLabel(match);
  const body = [
    h("div", { class: "match-head" },
      h("span", { class: "key" }, key),
      match.series ? h("span", { class: "format small", title: "games won" },
        `BO${match.format.best_of}${match.format.play_all ? " (all)" : ""}`) : null,
      h("span", { class: `badge state-${match.state}` }, state)),
    h("ol", { class: "players" }, rows),
  ];
  const playable = !walkover && match.participant_ids.every(Boolean);
  const attrs = {
    class: `match-card state-${match.state}${walkover ? " walkover" : ""}`,
    dataset: { matchId: match.id, key, state: match.state },
  };
  return playable && link ? h("a", { ...attrs, href: link }, body) : h("div", attrs, body);
}

/** Standings rows (GET /api/tournaments/{id}/standings) as a table. */
// The columns a tiebreak adds to a table (wins, head-to-head and seed have their own or none).
const TIEBREAK_COLUMNS = {
  points: ["Pts", "Points", (r) => num(r.points)],
  score_difference: ["+/−", "Score difference", (r) => signed(r.score_difference)],
  score_for: ["SF", "Scores for", (r) => String(r.score_for)],
  buchholz: ["Bu", "Buchholz", (r) => num(r.buchholz)],
  median_buchholz: ["MBu", "Median Buchholz", (r) => num(r.median_buchholz)],
  sonneborn_berger: ["SB", "Sonneborn-Berger", (r) => num(r.sonneborn_berger)],
};

/** The round robin or Swiss table, with a column for each of the tournament's tiebreaks in their
 * order; for groups, a table per group with those who go on to the playoff marked. */
export function renderStandings(standings, names) {
  if (standings.groups) {
    return h("div", { class: "group-tables" }, standings.groups.map((g) =>
      table(g.standings, standings.tiebreaks, names, `Group ${g.group}`, g.advance)));
  }
  const rows = standings.standings ?? [];
  if (!rows.length) return h("p", { class: "empty" }, "No results yet.");
  return table(rows, standings.tiebreaks, names, "Standings", 0);
}

function table(rows, tiebreaks, names, caption, advance) {
  const draws = rows.some((r) => r.draws);
  const columns = (tiebreaks ?? []).filter((c) => TIEBREAK_COLUMNS[c]).map((c) => TIEBREAK_COLUMNS[c]);
  const head = (short, long) => h("th", { scope: "col" }, h("abbr", { title: long }, short));
  return h("table", { class: "standings", dataset: { caption } },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, "Player"),
      head("P", "Played"), head("W", "Wins"), draws ? head("D", "Draws") : null, head("L", "Losses"),
      columns.map(([short, long]) => head(short, long)))),
    h("tbody", {}, rows.map((r) => h("tr", { class: r.rank <= advance ? "qualifies" : "" },
      h("td", {}, String(r.rank)), h("th", { scope: "row" }, names.of(r.participant_id),
        r.rank <= advance ? h("span", { class: "visually-hidden" }, " (goes on to the playoff)") : null),
      h("td", {}, String(r.played)), h("td", {}, String(r.wins)), draws ? h("td", {}, String(r.draws)) : null,
      h("td", {}, String(r.losses)), columns.map(([, , value]) => h("td", {}, value(r)))))));
}

function num(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function signed(n) {
  return n > 0 ? `+${n}` : String(n);
}

/** The placements of a completed tournament, best first. */
export function renderPlacements(placements, names) {
  if (!placements?.length) return null;
  const shared = new Map(); // place -> how many share it: "5th–8th"
  for (const p of placements) shared.set(p.place, (shared.get(p.place) ?? 0) + 1);
  const label = (place) => (shared.get(place) > 1 ? `${ordinal(place)}–${ordinal(place + shared.get(place) - 1)}`
    : ordinal(place));
  return h("section", { class: "panel placements", "aria-labelledby": "placements-title" },
    h("h2", { id: "placements-title" }, "Final placements"),
    h("ol", {}, placements.map((p) => h("li", { dataset: { place: p.place } },
      h("span", { class: "place" }, label(p.place)), " ", names.of(p.participant_id)))));
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
