// The organizer's match cards: check-in, start, +/- live scores, results, disputes, the players'
// event links and the match's overlay link (each minted for it: no organizer token in either),
// and the station a match is called to (the stations panel, stations.js, calls them).
// A series shows the game being played (its live score, its result) and the games so far;
// before the start a card changes the match's format and runs its map veto (matchsetup.js).

import { get, post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { correctionDesk } from "./correction.js";
import { announce, byId, h } from "./dom.js";
import { FINAL_STATES, matchTitle, stateLabel, versus } from "./matches.js";
import { matchSetup } from "./matchsetup.js";
import { readScores, scoreInputs } from "./scoreform.js";
import { currentGame, renderGames, seriesLine, seriesScore } from "./series.js";
import { copyText, playerLinks, screenLink } from "./stations.js";

const ORDER = ["live", "pending_result", "disputed", "ready", "check_in", "scheduled"];
const BEFORE_START = new Set(["scheduled", "check_in", "ready"]);

/**
 * `matchDesk({book, names, disputes, online, redraw, tournamentId})`: `view(registering)` is the matches panel
 * (with a form for an ad-hoc match outside the bracket: a show match, a tiebreaker),
 * `loadDispute(matchId)` finds a disputed match's open dispute. `disputes` (match id -> dispute)
 * is shared with the page, which fills it from the socket's events, and so is `online` (match id
 * -> the participants connected to it, from the tournament room's presence); `redraw()` asks for
 * a draw.
 */
export function matchDesk({ book, names, disputes, online, redraw, tournamentId }) {
  let adhoc = null; // the ad-hoc match form while open: {error}
  const errors = new Map(); // match id -> the last refusal
  const desired = new Map(); // match id -> {game, scores}: scores clicked but not yet written
  const queues = new Map(); // match id -> {tail, inflight}: score writes in click order
  const links = new Map(); // match id -> its players' event links: [{name, href}]
  const overlays = new Map(); // match id -> its overlay's address, with a screen link of its own
  let copied = null; // the match id whose overlay address was just copied
  const loading = new Set(); // match ids whose dispute is being read
  const unreadable = new Set(); // match ids whose dispute could not be read (no retry loop)
  const setup = matchSetup({ names, run: (...args) => run(...args), redraw });
  const correction = correctionDesk({ book, names, redraw });

  async function loadDispute(matchId) {
    if (loading.has(matchId)) return;
    loading.add(matchId);
    try {
      const { dispute } = book.get(matchId) ?? await get(`/api/matches/${matchId}`); // a match holds its dispute
      if (dispute?.status === "open") disputes.set(matchId, dispute);
      else unreadable.add(matchId);
    } catch {
      unreadable.add(matchId);
    } finally {
      redraw();
      loading.delete(matchId);
    }
  }

  /** The matches panel's content; `registering` says whether the tournament has not started. */
  function view(registering) {
    const all = book.all().filter((m) => !m.bracket?.walkover);
    const playable = all.filter((m) => !FINAL_STATES.has(m.state) && m.participant_ids.every(Boolean))
      .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || (a.round ?? 0) - (b.round ?? 0)
        || (a.bracket?.position ?? 0) - (b.bracket?.position ?? 0));
    const waiting = all.filter((m) => !FINAL_STATES.has(m.state) && !m.participant_ids.every(Boolean));
    const done = all.filter((m) => FINAL_STATES.has(m.state));
    return [
      h("h2", {}, "Matches"),
      all.length ? null : h("p", { class: "empty" },
        registering ? "Matches appear when the tournament starts." : "No match."),
      h("div", { class: "org-matches" }, playable.map(matchCard)),
      adhocForm(registering),
      waiting.length ? h("p", { class: "muted" },
        `${waiting.length} more ${waiting.length === 1 ? "match waits" : "matches wait"} for earlier results.`) : null,
      done.length ? h("section", { "aria-labelledby": "done-title" },
        h("h3", { id: "done-title" }, "Finished"),
        h("ul", { class: "finished" }, done.map((m) => h("li", { dataset: { matchId: m.id } },
          h("span", { class: "summary" }, h("span", { class: "key" }, matchTitle(m)), " ", versus(m, names),
            gamesPlayed(m), m.winner_id ? ` · ${names.of(m.winner_id)} won${m.state === "forfeit" ? " by forfeit" : ""}`
              : ` · ${stateLabel(m)}`),
          m.state === "cancelled" ? null : [" ", correction.button(m)],
          correction.panel(m))))) : null,
    ];
  }

  /** A match outside the bracket between two participants (a show match, a tiebreaker):
   * closed, a button; open, the two players, a label and the games, created with POST. */
  function adhocForm(registering) {
    if (!adhoc) {
      return h("p", {}, h("button", { type: "button", class: "link", id: "adhoc-open",
        onclick: () => { adhoc = { error: "" }; redraw(); } }, "New ad-hoc match"));
    }
    const people = [...names.byId.entries()];
    const pick = (id, label, index) => h("div", { class: "field" }, h("label", { for: id }, label),
      h("select", { id, required: true }, people.map(([pid, name], i) => h("option", { value: pid,
        selected: i === index }, name))));
    const create = h("button", { type: "submit", class: "primary", id: "adhoc-create" }, "Create the match");
    return h("form", { class: "stack adhoc", "aria-label": "New ad-hoc match", onsubmit: async (e) => {
      e.preventDefault();
      create.disabled = true;
      try {
        const body = { participant_ids: [byId("adhoc-a").value, byId("adhoc-b").value],
          label: byId("adhoc-label").value.trim(), format: { best_of: Number(byId("adhoc-best-of").value) } };
        book.merge(await post(`/api/tournaments/${tournamentId}/matches`, body));
        for (const id of ["adhoc-a", "adhoc-b", "adhoc-label", "adhoc-best-of"]) delete byId(id).dataset.dirty;
        adhoc = null;
        announce(byId("announcer"), "Match created");
      } catch (err) {
        adhoc.error = err.message || String(err);
      } finally {
        create.disabled = false;
        redraw();
      }
    } },
    h("h3", {}, "New ad-hoc match"),
    registering ? h("p", { class: "muted small" }, "Starting the tournament deletes ad-hoc matches made before it.")
      : null,
    h("div", { class: "row" }, pick("adhoc-a", "Player 1", 0), pick("adhoc-b", "Player 2", 1)),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "adhoc-label" }, "Label (optional)"),
        h("input", { id: "adhoc-label", maxlength: 100, autocomplete: "off", placeholder: "Show match" })),
      h("div", { class: "field" }, h("label", { for: "adhoc-best-of" }, "Games"),
        h("select", { id: "adhoc-best-of" }, [1, 3, 5, 7].map((n) => h("option", { value: n }, `Best of ${n}`))))),
    h("div", { class: "row" }, create,
      h("button", { type: "button", id: "adhoc-cancel", onclick: () => { adhoc = null; redraw(); } }, "Cancel")),
    h("p", { class: "error", role: "alert", id: "adhoc-error" }, adhoc.error));
  }

  /** A finished series' game scores: " (13–9, 13–5)"; nothing for a single game. */
  function gamesPlayed(m) {
    const played = m.series ? (m.games ?? []).filter((g) => g.state === "completed") : [];
    return played.length ? h("span", { class: "muted" }, ` (${played.map((g) => pair(m, g.scores)).join(", ")})`)
      : null;
  }

  /** Who of the match's players has its page open: "Both players online" before calling them. */
  function presenceLine(m) {
    const here = new Set(online.get(m.id) ?? []);
    const players = m.participant_ids.filter(Boolean);
    if (players.length < 2) return null;
    const both = players.every((p) => here.has(p));
    const text = both ? "Both players online"
      : players.map((p) => `${names.of(p)} ${here.has(p) ? "online" : "not connected"}`).join(" · ");
    return h("p", { class: `presence small ${both ? "both-online" : ""}`, dataset: { online: String(here.size) } },
      h("span", { class: "dot", "aria-hidden": "true" }), " ", text);
  }

  function matchCard(m) {
    const id = m.id;
    const saving = (queues.get(id)?.inflight ?? 0) > 0;
    const line = seriesLine(m);
    const score = BEFORE_START.has(m.state) ? null : seriesScore(m);
    return h("article", { class: `panel org-match state-${m.state}`,
      dataset: { matchId: id, state: m.state, saving: saving ? "1" : "0" }, "aria-labelledby": `title-${id}` },
    h("header", { class: "match-head" },
      h("h3", { id: `title-${id}` }, matchTitle(m)),
      line ? h("span", { class: "format small", id: `series-${id}` }, line) : null,
      h("span", { class: `badge state-${m.state}` }, stateLabel(m))),
    score ? h("p", { class: "series-line", id: `series-score-${id}` }, score) : null,
    m.state === "live" ? liveScores(m) : h("p", { class: "versus" }, versus(m, names)),
    presenceLine(m),
    m.call && !FINAL_STATES.has(m.state) ? h("p", { class: "small station-at", id: `station-${id}` }, "At ",
      h("strong", {}, m.call.station), m.call.expired ? " · check-in time ran out" : "") : null,
    saving ? h("p", { class: "muted small" }, "Saving the score…") : null,
    BEFORE_START.has(m.state) ? null : renderGames(m, names),
    controls(m),
    endings(m),
    h("p", { class: "row small" },
      h("a", { href: `/matches/${id}` }, "Scoreboard"),
      h("button", { type: "button", class: "link", id: `overlay-${id}`,
        onclick: (e) => run(id, e.currentTarget, () => makeOverlayLink(m)) }, "Overlay link"),
      h("button", { type: "button", class: "link", id: `links-${id}`,
        onclick: (e) => run(id, e.currentTarget, () => makePlayerLinks(m)) }, "Player links")),
    overlays.has(id) ? overlayLine(m) : null,
    links.has(id) ? h("ul", { class: "player-links" }, links.get(id).map((l) =>
      h("li", {}, `${l.name}: `, h("a", { href: l.href, class: "long-link" }, l.href)))) : null,
    h("p", { class: "error", role: "alert", id: `err-${id}` }, errors.get(id) ?? ""));
  }

  function controls(m) {
    const id = m.id;
    const act = (path, body) => () => post(`/api/matches/${id}/${path}`, body);
    const [a, b] = m.participant_ids;
    const game = m.series ? currentGame(m) : null;
    switch (m.state) {
      case "scheduled":
        return [setup.view(m), h("div", { class: "row" },
          buttonFor(m, "Open check-in", "open", act("open-check-in")),
          buttonFor(m, "Start the match", "start", act("start"), "primary"))];
      case "check_in":
        return [setup.view(m), h("div", { class: "row" },
          [a, b].filter((p) => !m.checked_in.includes(p)).map((p) =>
            buttonFor(m, `Check in ${names.of(p)}`, `checkin-${m.participant_ids.indexOf(p)}`,
              act("check-in", { participant_id: p }))),
          buttonFor(m, "Start the match", "start", act("start"), "primary"))];
      case "ready":
        return [setup.view(m), h("div", { class: "row" }, buttonFor(m, "Start the match", "start", act("start"), "primary"))];
      case "live":
        return resultForm(m, game ? `Decide game ${game.number}` : "Decide the result");
      case "pending_result": {
        const [who, report] = Object.entries(m.reports ?? {})[0] ?? [null, null];
        return h("div", {},
          report ? h("p", { id: `report-${id}` }, reportLine(m, who, report)) : null,
          buttonFor(m, "Confirm the reported result", "confirm", act("confirm"), "primary"),
          resultForm(m, game ? `Decide game ${game.number} another way` : "Decide another result"));
      }
      case "disputed":
        return disputeForm(m);
      default:
        return null;
    }
  }

  /** Ending a match without playing it: a player forfeits, or (an ad-hoc match only: a
   * bracket match must have a winner) the match is cancelled; each asks first. */
  function endings(m) {
    const title = matchTitle(m);
    const forfeit = (p, slot) => {
      const other = m.participant_ids.find((q) => q !== p);
      return h("button", { type: "button", class: "link", id: `forfeits-${m.id}-${slot}`,
        onclick: (e) => run(m.id, e.currentTarget, async () => {
          const yes = await confirmAction({ title: `${names.of(p)} forfeits ${title}?`,
            text: h("p", {}, `${names.of(other)} wins ${title}${m.bracket ? " and goes on in the bracket" : ""}. `
              + "Only a correction of the result can change it afterwards."),
            confirm: `${names.of(p)} forfeits` });
          return yes ? post(`/api/matches/${m.id}/forfeit`, { participant_id: p }) : null;
        }) }, `${names.of(p)} forfeits`);
    };
    const cancel = m.bracket ? null : h("button", { type: "button", class: "link", id: `cancel-${m.id}`,
      onclick: (e) => run(m.id, e.currentTarget, async () => {
        const yes = await confirmAction({ title: `Cancel ${title}?`,
          text: h("p", {}, "Nobody wins it; its scores stay as they are. A cancelled match cannot be played again."),
          confirm: "Cancel the match" });
        return yes ? post(`/api/matches/${m.id}/cancel`, { reason: "cancelled from the desk" }) : null;
      }) }, "Cancel the match");
    return h("p", { class: "row small endings" }, m.participant_ids.map(forfeit), cancel);
  }

  /** "Alice reported 2–1.", "… reported game 2: 13–9.", "… reported the whole series: 13–9, 9–13, 16–14." */
  function reportLine(m, who, report) {
    const by = names.of(who);
    if (report.games?.length) {
      return `${by} reported the whole series: ${report.games.map((g) => pair(m, g)).join(", ")} `
        + `(${pair(m, report.scores)} in games).`;
    }
    if (report.game) return `${by} reported game ${report.game}: ${pair(m, report.scores)}.`;
    return `${by} reported ${m.participant_ids.map((p) => report.scores[p]).join("–")}.`;
  }

  // -- commands ----------------------------------------------------------------------------

  function buttonFor(m, label, name, action, cls = "") {
    return h("button", { type: "button", id: `${name}-${m.id}`, class: cls,
      onclick: (e) => run(m.id, e.currentTarget, action) }, label);
  }

  async function run(matchId, el, action) {
    errors.delete(matchId);
    if (el) el.disabled = true;
    try {
      const answer = await action();
      const match = answer?.match ?? answer;
      if (match?.id && match.version) book.merge(match);
      if (answer?.dispute) disputes.delete(matchId);
    } catch (e) {
      errors.set(matchId, e.message || String(e));
    } finally {
      if (el) el.disabled = false;
      redraw();
    }
  }

  // -- live scores -------------------------------------------------------------------------

  /** The live scores to show: the server's (of the game being played, in a series), with the
   * clicks not yet written over them. */
  function liveValues(m) {
    const game = currentGame(m);
    const wanted = desired.get(m.id);
    const pending = wanted && wanted.game === (game?.number ?? null) ? wanted.scores : {};
    return { ...(game ? game.scores : m.scores ?? {}), ...pending };
  }

  function liveScores(m) {
    const values = liveValues(m);
    return h("div", { class: "live-scores" }, m.participant_ids.map((p, slot) => {
      const name = names.of(p);
      const value = values[p] ?? 0;
      return h("div", { class: "score-row", dataset: { slot } },
        h("span", { class: "name" }, name),
        h("button", { type: "button", class: "bump", id: `minus-${m.id}-${slot}`, "aria-label": `${name}: one point less`,
          disabled: value <= 0, onclick: () => bump(m, p, -1) }, "−"),
        h("span", { class: "score", id: `score-${m.id}-${slot}` }, String(value)),
        h("button", { type: "button", class: "bump", id: `plus-${m.id}-${slot}`, "aria-label": `${name}: one point more`,
          onclick: () => bump(m, p, +1) }, "+"));
    }));
  }

  /** A +/- click: shown at once, written in click order (each write is the new total; in a
   * series, of the game being played). */
  function bump(m, participant, delta) {
    const held = book.get(m.id) ?? m;
    const game = currentGame(held)?.number ?? null;
    const value = Math.max(0, (liveValues(held)[participant] ?? 0) + delta);
    const before = desired.get(m.id);
    desired.set(m.id, { game, scores: { ...(before?.game === game ? before.scores : {}), [participant]: value } });
    announce(byId("announcer"), `${names.of(participant)} ${value}`);
    const body = game === null ? { scores: { [participant]: value } } : { scores: { [participant]: value }, game };
    const queue = queues.get(m.id) ?? { tail: Promise.resolve(), inflight: 0 };
    queues.set(m.id, queue);
    queue.inflight += 1;
    queue.tail = queue.tail.then(async () => {
      try {
        const match = await post(`/api/matches/${m.id}/score`, body);
        book.merge(match);
        errors.delete(m.id);
      } catch (e) {
        errors.set(m.id, e.message);
        desired.delete(m.id); // back to what the server holds
      } finally {
        queue.inflight -= 1;
        if (queue.inflight === 0) desired.delete(m.id);
        redraw();
      }
    });
    redraw();
  }

  // -- results and disputes ------------------------------------------------------------------

  /** The result of the match, or in a series of the game being played (its inputs its own, so
   * what was typed for one game does not stay for the next). */
  function resultForm(m, label) {
    const game = m.series ? currentGame(m) : null;
    return h("form", {
      class: "result-form",
      onsubmit: (e) => {
        e.preventDefault();
        const scores = readScores(e.currentTarget);
        run(m.id, byId(`decide-${m.id}`), async () => {
          await queues.get(m.id)?.tail; // live scores clicked before come first
          return post(`/api/matches/${m.id}/result`, game ? { scores, game: game.number } : { scores });
        });
      },
    },
    h("fieldset", {}, h("legend", {}, game ? `Game ${game.number} score` : "Final score"),
      scoreInputs(m, names, game ? `result-g${game.number}` : "result", liveValues(m)),
      h("button", { type: "submit", id: `decide-${m.id}` }, label)));
  }

  function disputeForm(m) {
    const dispute = disputes.get(m.id);
    if (!dispute) {
      if (unreadable.has(m.id)) return h("p", { role: "alert" }, "The dispute could not be read: reload the page.");
      loadDispute(m.id);
      return h("p", {}, "Loading the dispute…");
    }
    // In a series the resolution decides the game being played: its reported score, if a game was reported.
    const game = m.series ? currentGame(m) : null;
    const report = Object.values(m.reports ?? {})[0];
    const reported = game ? (report?.game ? report.scores : game.scores) : report?.scores ?? m.scores ?? {};
    const inputs = scoreInputs(m, names, "resolve", reported);
    const resolution = h("input", { id: `resolution-${m.id}`, name: "resolution", required: true, maxlength: 1000,
      autocomplete: "off" });
    const resolve = (status, scores) => run(m.id, byId(`${status}-${m.id}`), () =>
      post(`/api/disputes/${dispute.id}/resolve`, { status, resolution: resolution.value.trim(), scores }));
    return h("form", {
      class: "result-form",
      onsubmit: (e) => {
        e.preventDefault();
        resolve("resolved", readScores(e.currentTarget));
      },
    },
    h("p", {}, `${names.of(dispute.raised_by) ?? "A player"} disputes the result: “${dispute.reason}”`),
    game && report ? h("p", { class: "small", id: `report-${m.id}` }, reportLine(m, Object.keys(m.reports)[0], report))
      : null,
    h("fieldset", {}, h("legend", {}, "Decide"),
      game ? h("fieldset", {}, h("legend", {}, `Game ${game.number} score`), inputs) : inputs,
      h("div", { class: "field" }, h("label", { for: `resolution-${m.id}` }, "Resolution (shown to the players)"),
        resolution),
      h("div", { class: "row" },
        h("button", { type: "submit", id: `resolved-${m.id}`, class: "primary" }, "Resolve with this score"),
        h("button", { type: "button", id: `rejected-${m.id}`, onclick: (e) => {
          const form = e.currentTarget.form;
          if (form.reportValidity()) resolve("rejected", undefined);
        } }, "Reject the dispute"))));
  }

  // -- links ---------------------------------------------------------------------------------

  /** The two players' event links (the ones the links sheet prints: their page for the whole
   * event, revocable there), in slot order. */
  async function makePlayerLinks(m) {
    const minted = await playerLinks(tournamentId, { subjects: m.participant_ids.filter(Boolean) });
    const slot = (link) => m.participant_ids.indexOf(link.participant_id);
    links.set(m.id, minted.sort((a, b) => slot(a) - slot(b)).map((l) => ({ name: names.of(l.participant_id), href: l.url })));
  }

  /** The match's OBS overlay with a screen link of its own (a spectator of this tournament,
   * revocable, renewing itself), to paste into OBS. */
  async function makeOverlayLink(m) {
    const name = `Overlay ${matchTitle(m)}`.slice(0, 60);
    overlays.set(m.id, await screenLink(tournamentId, name, `/overlay/match/${m.id}`));
    if (copied === m.id) copied = null;
  }

  function overlayLine(m) {
    const url = overlays.get(m.id);
    const copy = h("button", { type: "button", id: `copy-match-overlay-${m.id}`,
      "aria-label": `Copy the overlay link of ${matchTitle(m)}`,
      onclick: async () => {
        await copyText(url);
        copied = m.id;
        announce(byId("announcer"), `Overlay link of ${matchTitle(m)} copied`);
        redraw();
      } }, copied === m.id ? "Copied" : "Copy");
    return h("div", { class: "screen-link small", dataset: { screen: "match-overlay" } },
      h("p", {}, "This match's overlay, for OBS (a browser source, 1920 × 1080): ", copy, " ",
        h("a", { id: `match-overlay-link-${m.id}`, class: "long-link", href: url, target: "_blank", rel: "noopener" }, url)));
  }

  return { view, loadDispute };
}

/** Two players' scores in slot order: "13–9". */
function pair(m, scores) {
  return m.participant_ids.map((p) => scores?.[p] ?? 0).join("–");
}
