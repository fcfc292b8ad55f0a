// /organize (a new tournament) and /organize/{id}: self-registration and check-in
// (registrationdesk.js), add players, start (games per match, map veto),
// run every match (forfeit, cancel, correct: matchdesk.js), settle disputes, run the stations and
// their call queue (stations.js) and the screens opened from it, export, reset, cancel or delete
// the tournament (tournamentdesk.js), send its events to webhooks (webhookdesk.js); the players'
// links are printed from /organize/{id}/links.

import { ApiError, get, post, qrCode } from "../api.js";
import { renderPlacements } from "../bracket.js";
import { announce, busy, byId, h, onNextFrame, render, segment } from "../dom.js";
import { loadFailed, showGate, tokenRefused, tournamentGone } from "../gate.js";
import { LiveRoom } from "../live.js";
import { matchDesk } from "../matchdesk.js";
import { formField, formatOf, formatOptions, nameList, vetoFields, vetoFromFields } from "../matchsetup.js";
import { applyTournamentEvent, bracketLeftOut, DEFAULT_TIEBREAKS, FORMATS, loadMatches, MatchBook, Names, takeSnapshot,
  TIEBREAKS } from "../matches.js";
import { formatLabel } from "../series.js";
import { keepTicking, QueueState, ServerClock, screenLink, stationsDesk } from "../stations.js";
import { participantDesk } from "../participantdesk.js";
import { applyEntryEvent, registrationDesk } from "../registrationdesk.js";
import { showConnection } from "../status.js";
import { tournamentDesk } from "../tournamentdesk.js";
import { isOrganizer, takeToken } from "../token.js";
import { webhookDesk } from "../webhookdesk.js";

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();

if (!token) showGate(main);
else if (!isOrganizer(token)) showGate(main, "This page needs an organizer token.");
else if (!tournamentId) newTournament();
else manage();

// -- /organize -------------------------------------------------------------------------------

async function newTournament() {
  byId("page-title").textContent = "Organize";
  const name = h("input", { id: "t-name", name: "name", required: true, maxlength: 200, autocomplete: "off" });
  const game = h("input", { id: "t-game", name: "game", maxlength: 200, autocomplete: "off" });
  const format = h("select", { id: "t-format", name: "format" },
    Object.entries(FORMATS).map(([value, label]) => h("option", { value }, label)));
  const submit = h("button", { type: "submit", class: "primary", id: "t-create" }, "Create the tournament");
  const error = h("p", { class: "error", role: "alert" });
  const list = h("div", {});
  render(main,
    h("section", { class: "panel", "aria-labelledby": "new-title" },
      h("h2", { id: "new-title" }, "New tournament"),
      h("form", {
        class: "stack",
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, error, async () => {
            const t = await post("/api/tournaments", { name: name.value.trim(), game: game.value.trim(),
              format: format.value });
            location.assign(`/organize/${t.id}`);
          });
        },
      },
      h("div", { class: "field" }, h("label", { for: "t-name" }, "Name"), name),
      h("div", { class: "field" }, h("label", { for: "t-game" }, "Game (optional)"), game),
      h("div", { class: "field" }, h("label", { for: "t-format" }, "Format"), format),
      submit, error)),
    h("section", { class: "panel", "aria-labelledby": "existing-title" },
      h("h2", { id: "existing-title" }, "Tournaments"), list));
  showList(list, false);
}

/** The tournaments to organize, or the archived ones, with a button to switch. */
async function showList(list, archived) {
  try {
    const { tournaments } = await get(`/api/tournaments?archived=${archived}`);
    render(list,
      tournaments.length
        ? h("ul", { id: archived ? "archived-list" : "tournament-list" }, tournaments.map((t) => h("li", {},
          h("a", { href: `/organize/${t.id}` }, t.name), ` · ${t.state}`)))
        : h("p", { class: "empty" }, archived ? "No archived tournament." : "None yet."),
      h("button", { type: "button", class: "link", id: "show-archived", onclick: () => showList(list, !archived) },
        archived ? "Back to the tournaments" : "The archived tournaments"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) tokenRefused(main, e.message);
    else render(list, h("p", { role: "alert" }, e.message));
  }
}

// -- /organize/{id} --------------------------------------------------------------------------

function manage() {
  const book = new MatchBook();
  const names = new Names();
  let tournament = null;
  let participants = [];
  let share = null; // {link, qr} once made
  let groupPool = false; // the start form asks for the group stage's own map pool
  let startError = ""; // the start's last refusal, shown until the next try
  const disputes = new Map(); // match id -> its open dispute
  let online = new Map(); // match id -> its participants connected (the room's presence)
  const scheduleDraw = onNextFrame(draw);
  const desk = matchDesk({ book, names, disputes, online: { get: (id) => online.get(id) }, redraw: scheduleDraw,
    tournamentId });
  const clock = new ServerClock();
  const queue = new QueueState(book);
  const stations = stationsDesk({ tournamentId, state: queue, names, book, clock, redraw: scheduleDraw });
  const people = participantDesk({ tournamentId, redraw: scheduleDraw, changed: (list) => {
    participants = list;
    names.set(participants);
  } });
  const signups = registrationDesk({ tournamentId, redraw: scheduleDraw, changed: (list) => {
    participants = list;
    names.set(participants);
  } });
  const admin = tournamentDesk({ tournamentId, redraw: scheduleDraw, onChanged: (t, { reset = false } = {}) => {
    if (reset) book.reset([]); // its matches are gone
    tournament = t;
    draw();
  } });
  const hooks = webhookDesk({ tournamentId, redraw: scheduleDraw });

  render(main,
    h("div", { class: "organize" },
      h("div", { class: "organize-main" },
        h("section", { class: "panel", id: "t-stations", "aria-labelledby": "stations-title" }),
        h("section", { class: "panel", id: "t-matches", "aria-label": "Matches" }),
        h("section", { class: "panel", id: "t-webhooks", "aria-labelledby": "webhooks-title" })),
      h("div", { class: "organize-side" },
        h("section", { class: "panel", id: "t-info", "aria-label": "Tournament" }),
        h("section", { class: "panel", id: "t-player-links", "aria-labelledby": "player-links-title" }),
        h("section", { class: "panel", id: "t-share", "aria-label": "Links for screens and spectators" }),
        h("section", { class: "panel", id: "t-registration", "aria-labelledby": "registration-title" }),
        h("section", { class: "panel", id: "t-people", "aria-label": "Participants" }),
        h("section", { class: "panel", id: "t-start", "aria-label": "Start" }))));

  const live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    onSnapshot(data) {
      tournament = data.tournament;
      participants = data.participants;
      names.set(participants);
      queue.welcome(data);
      takeSnapshot(book, tournamentId, data).then(scheduleDraw, () => {});
      for (const m of data.matches) if (m.state === "disputed" && !disputes.has(m.id)) desk.loadDispute(m.id);
      signups.refresh(); // what changed while the socket was away
      hooks.refresh();
      draw();
    },
    onEvent(frame) {
      const data = frame.data ?? {};
      tournament = applyTournamentEvent(book, tournament, frame);
      queue.apply(frame);
      if (bracketLeftOut(frame)) loadMatches(book, tournamentId).then(scheduleDraw, () => {});
      if (frame.type === "dispute_created") disputes.set(data.match_id, data.dispute);
      if (frame.type === "dispute_resolved") disputes.delete(data.match_id);
      participants = applyEntryEvent(participants, frame); // the registered only: the rest are the registration's
      names.set(participants);
      if (frame.type.startsWith("participant") || frame.type === "registration_updated") signups.refresh();
      scheduleDraw();
    },
    onPresence(data) {
      if (!data.online) return;
      online = new Map(Object.entries(data.online));
      scheduleDraw();
    },
    onFrame: (frame) => clock.observe(frame),
    onAuthFailed: (message) => tokenRefused(main, message),
    onGone: (frame) => tournamentGone(main, frame),
  });
  showConnection(byId("connection"), live);
  keepTicking(clock);
  load().then((ok) => ok && live.start());

  async function load() {
    try {
      const t = await get(`/api/tournaments/${tournamentId}`);
      tournament = t;
      participants = t.participants;
      names.set(participants);
      queue.tournament(t);
      await loadMatches(book, tournamentId);
      draw();
      return true;
    } catch (e) {
      loadFailed(main, e);
      return false;
    }
  }

  function draw() {
    if (!tournament || !byId("t-matches")) return; // the token was refused: the sign-in shows
    byId("page-title").textContent = `Organize: ${tournament.name}`;
    document.title = `Organize ${tournament.name} · livebracket`;
    drawInfo();
    drawPlayerLinks();
    drawShare();
    render(byId("t-registration"), signups.view(tournament, participants));
    drawPeople();
    drawStart();
    render(byId("t-stations"), stations.view());
    render(byId("t-matches"), desk.view(registering()));
    render(byId("t-webhooks"), hooks.view());
  }

  // -- the tournament, its links ---------------------------------------------------------------

  function drawInfo() {
    const format = FORMATS[tournament.format] ?? tournament.format;
    render(byId("t-info"),
      h("h2", {}, tournament.name),
      h("p", { class: "subtitle" }, [tournament.game, format].filter(Boolean).join(" · "), " ",
        h("span", { class: `badge tstate-${tournament.state}`, id: "t-state" }, tournament.state)),
      seriesInfo(tournament.settings ?? {}),
      stageInfo(tournament),
      h("p", { class: "row" },
        h("a", { href: `/tournaments/${tournamentId}` }, "Public page"),
        h("a", { href: `/tournaments/${tournamentId}?projector=1` }, "Projector")),
      renderPlacements(tournament.placements, names),
      admin.view(tournament));
  }

  function drawPlayerLinks() {
    render(byId("t-player-links"),
      h("h2", { id: "player-links-title" }, "Player links"),
      h("p", {}, "One link per player for the whole event, each with its QR code and a code to type: "
        + "print the sheet and hand each player their card. Revoke a lost one there."),
      h("p", {}, h("a", { href: `/organize/${tournamentId}/links`, id: "player-links", class: "button" },
        "Player links (QR sheet)")));
  }

  function drawShare() {
    const button = h("button", { type: "button", id: "make-spectator-link",
      onclick: () => busy(button, byId("share-error"), makeSpectatorLink) },
    share ? "Make a new spectator link" : "Make a spectator link");
    const local = ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);
    render(byId("t-share"),
      h("h2", {}, "Spectator link"),
      h("p", {}, "For phones and screens: it opens the live bracket with a read-only token."),
      local ? h("p", { class: "hint" }, "This page was opened through ", location.hostname,
        ": phones on the LAN need the server's network address. Open this page through it first.") : null,
      button,
      share ? h("div", { class: "share" },
        h("p", {}, h("a", { id: "spectator-link", href: share.link, class: "long-link" }, share.link)),
        h("img", { id: "spectator-qr", src: share.qr, alt: "QR code of the spectator link", width: 300, height: 300 }))
        : null,
      h("p", { id: "share-error", class: "error", role: "alert" }));
  }

  async function makeSpectatorLink() {
    // A screen link of this tournament: scoped to it, ended with it, revoked with its links.
    const link = await screenLink(tournamentId, "Spectators", `/tournaments/${tournamentId}`);
    if (share?.qr) URL.revokeObjectURL(share.qr);
    share = { link, qr: await qrCode(link) };
    drawShare();
  }

  // -- participants and the start ----------------------------------------------------------------

  function registering() {
    return ["draft", "registration"].includes(tournament.state);
  }

  function drawPeople() {
    render(byId("t-people"), people.view(tournament, participants));
  }

  function drawStart() {
    const panel = byId("t-start");
    panel.hidden = !registering();
    if (panel.hidden) return;
    const drawn = tournament.draw?.complete;
    const seeding = h("select", { id: "s-seeding", name: "seeding" },
      drawn ? h("option", { value: "draw", selected: true }, "The live draw") : null,
      h("option", { value: "given" }, "By seed, then registration order"),
      h("option", { value: "random" }, "Random"),
      h("option", { value: "registration" }, "Registration order"));
    const extra = {
      single_elimination: () => h("div", { class: "field check" },
        h("input", { id: "s-third", type: "checkbox", name: "third_place" }),
        h("label", { for: "s-third" }, "Play a third-place match")),
      double_elimination: () => h("div", { class: "field check" },
        h("input", { id: "s-reset", type: "checkbox", name: "grand_final_reset", checked: true }),
        h("label", { for: "s-reset" }, "Grand final reset")),
      swiss: () => [h("div", { class: "field" },
        h("label", { for: "s-rounds" }, "Rounds (empty: enough for one unbeaten player)"),
        h("input", { id: "s-rounds", type: "number", name: "rounds", min: 1, max: 255 })),
      tiebreakFields("swiss")],
      round_robin: () => tiebreakFields("round_robin"),
      groups_playoffs: () => [groupFields(participants.length, groupPool, (on) => { groupPool = on; }),
        tiebreakFields("groups_playoffs")],
    }[tournament.format];
    const submit = h("button", { type: "submit", id: "t-start-button", class: "primary",
      disabled: participants.length < 2 }, "Start the tournament");
    // the refusal stays through redraws made for something else, until the next try
    const error = h("p", { class: "error", role: "alert", id: "start-error" }, startError);
    render(panel,
      h("h2", {}, "Start"),
      h("form", {
        class: "stack",
        onsubmit: (e) => {
          e.preventDefault();
          startError = "";
          busy(submit, error, async () => {
            const body = { seeding: seeding.value };
            const third = byId("s-third");
            const reset = byId("s-reset");
            const rounds = byId("s-rounds");
            if (third) body.third_place = third.checked;
            if (reset) body.grand_final_reset = reset.checked;
            if (rounds?.value) body.rounds = Number(rounds.value);
            if (tournament.format === "groups_playoffs") body.groups = groupOptions(groupPool);
            const chosen = [...panel.querySelectorAll("select.tiebreak")].map((s) => s.value).filter(Boolean);
            if (chosen.length) body.tiebreaks = chosen;
            const points = ["win", "draw", "loss"].map((k) => byId(`s-points-${k}`)?.value);
            if (points.every((p) => p !== undefined && p !== "")) body.points = points.map(Number);
            Object.assign(body, seriesOptions());
            tournament = await post(`/api/tournaments/${tournamentId}/start`, body);
            await loadMatches(book, tournamentId);
            announce(byId("announcer"), "Tournament started");
            draw();
          }).then(() => {
            startError = error.textContent; // kept for the redraws to come
            if (startError && !error.isConnected) drawStart(); // one came while it was asked
          });
        },
      },
      participants.length < 2 ? h("p", {}, "Add at least two participants first.") : null,
      h("div", { class: "field" }, h("label", { for: "s-seeding" }, "Seeding"), seeding),
      extra ? extra() : null, seriesFields(), submit, error),
      liveDraw());
  }

  /** The live draw of the seeding: start it, reveal place by place (or all), undo, abort. */
  function liveDraw() {
    const d = tournament.draw;
    const error = h("p", { class: "error", role: "alert", id: "draw-error" });
    const step = (name, label, cls = "") => {
      const button = h("button", { type: "button", id: `draw-${name}`, class: cls,
        onclick: () => busy(button, error, async () => {
          tournament = await post(`/api/tournaments/${tournamentId}/draw/${name}`, {});
          draw();
        }) }, label);
      return button;
    };
    return h("section", { class: "live-draw", "aria-labelledby": "draw-title" },
      h("h3", { id: "draw-title" }, "Live draw"),
      h("p", { class: "muted small" }, "Reveal the seeding place by place on a projector: ",
        h("a", { href: `/draw/${tournamentId}`, target: "_blank", rel: "noopener" }, "open the draw screen"), "."),
      !d ? h("p", { class: "row" }, step("start", "Draw the seeding live", participants.length < 2 ? "" : "primary"))
        : [h("p", { id: "draw-state" }, d.complete ? "Every place is drawn: start with “The live draw”."
          : `${d.revealed.length} of ${d.total} places drawn.`),
        h("p", { class: "row" },
          d.complete ? null : step("next", "Reveal the next place", "primary"),
          d.complete ? null : step("all", "Reveal all"),
          d.revealed.length ? step("undo", "Undo") : null,
          step("abort", "Abort the draw"))],
      error);
  }
}

/** The start form's group stage: how many groups, how many go on, the playoff's format and
 * seeding, and (`ownPool`; the box calls `setOwnPool(on)`) a map veto of the groups' own. */
function groupFields(players, ownPool, setOwnPool) {
  const count = Math.max(1, Math.min(8, Math.floor(players / 4)));
  const number = (id, label, value, min, max) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, type: "number", min, max, value, inputmode: "numeric", required: true }));
  const check = (id, label, checked) => h("div", { class: "field check" },
    h("input", { id, type: "checkbox", checked }), h("label", { for: id }, label));
  return h("fieldset", { class: "stack group-options" },
    h("legend", {}, "Groups, then playoffs"),
    h("div", { class: "row" }, number("g-count", "Groups", count, 1, 26), number("g-advance", "Go on from each group", 2, 1, 64)),
    h("small", {}, "Players are spread over the groups by seed in snake order (1-4 to A-D, 5-8 to D-A, ...)."),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "g-format" }, "Each group plays"),
        h("select", { id: "g-format" }, h("option", { value: "round_robin" }, "A round robin"),
          h("option", { value: "swiss" }, "Swiss rounds"))),
      h("div", { class: "field" }, h("label", { for: "g-rounds" }, "Swiss rounds (empty: enough for the group)"),
        h("input", { id: "g-rounds", type: "number", min: 1, max: 63, inputmode: "numeric" }))),
    h("div", { class: "field" }, h("label", { for: "g-playoff" }, "Playoff"),
      h("select", { id: "g-playoff" }, h("option", { value: "single_elimination" }, "Single elimination"),
        h("option", { value: "double_elimination" }, "Double elimination"))),
    h("div", { class: "field" }, h("label", { for: "g-seeding" }, "Playoff seeding"),
      h("select", { id: "g-seeding", "aria-describedby": "g-seeding-hint" }, // short options: a phone's width
        h("option", { value: "cross" }, "Cross-seeded"),
        h("option", { value: "standings" }, "By the standings across groups")),
      h("small", { id: "g-seeding-hint" }, "Cross-seeded: group winners meet other groups' runners-up.")),
    check("g-third", "Play a third-place match (single elimination)", false),
    check("g-reset", "Grand final reset (double elimination)", true),
    check("g-auto", "Start the playoff as soon as every group match is decided", true),
    h("div", { class: "field check" },
      h("input", { id: "g-veto-own", type: "checkbox", checked: ownPool, "aria-describedby": "g-veto-own-hint",
        onchange: (e) => {
          const on = e.currentTarget.checked;
          e.currentTarget.toggleAttribute("checked", on); // the markup says so: a redraw keeps the rest as it is
          setOwnPool(on);
          render(byId("g-veto"), groupVeto(on)); // only this part: the other boxes keep their ticks
        } }),
      h("label", { for: "g-veto-own" }, "A map pool of its own for the groups")),
    h("div", { id: "g-veto", class: "stack" }, groupVeto(ownPool)));
}

/** The groups' own map veto: a hint, and with `on` the veto's fields. */
function groupVeto(on) {
  return [h("small", { id: "g-veto-own-hint" }, on ? "The playoff vetoes the map pool under “Games and map veto”."
    : "Off: the group matches veto the map pool under “Games and map veto”, as the playoff does."),
  on ? vetoFields("g-", {
    pool: "Map pool of the groups", poolHint: "Comma separated: every group match’s veto uses these maps.",
    sides: "Sides in the groups (optional)", first: "Who starts a group veto",
    turn: "Seconds per group turn (optional)", onTimeout: "When a group turn’s time runs out",
  }) : null];
}

/** The start body's `groups` from the form; with `ownPool`, its `veto`. Throws Error (no map named,
 * and as vetoFromFields). */
function groupOptions(ownPool) {
  const options = {
    count: Number(byId("g-count").value), advance: Number(byId("g-advance").value), format: byId("g-format").value,
    ...(byId("g-rounds").value ? { rounds: Number(byId("g-rounds").value) } : {}),
    playoff: byId("g-playoff").value, playoff_seeding: byId("g-seeding").value,
    third_place: byId("g-third").checked, grand_final_reset: byId("g-reset").checked,
    auto_playoff: byId("g-auto").checked,
  };
  if (ownPool) {
    options.veto = vetoFromFields("g-");
    if (!options.veto) {
      throw new Error("Map pool of the groups: name its maps, comma separated, or untick the groups’ own pool.");
    }
  }
  return options;
}

/** The order of the tiebreaks (the first ranks, the next break its ties; the seed breaks what
 * is left) and the points of a win, a draw and a loss, for round robin and Swiss. */
function tiebreakFields(format) {
  const defaults = DEFAULT_TIEBREAKS[format];
  const choice = (i) => h("div", { class: "field" },
    h("label", { for: `s-tiebreak-${i}` }, i === 0 ? "Rank by" : `Then by (${i + 1})`),
    h("select", { id: `s-tiebreak-${i}`, class: "tiebreak", name: "tiebreaks" },
      i === 0 ? null : h("option", { value: "" }, "—"),
      Object.entries(TIEBREAKS).filter(([name]) => name !== "seed").map(([name, words]) =>
        h("option", { value: name, selected: defaults[i] === name }, words))));
  const point = (kind, value) => h("div", { class: "field" },
    h("label", { for: `s-points-${kind}` }, `Points for a ${kind}`),
    h("input", { id: `s-points-${kind}`, type: "number", min: 0, max: 100, step: 0.5, value, inputmode: "decimal" }));
  return h("fieldset", { class: "tiebreaks" },
    h("legend", {}, "Standings (the seed breaks any tie left)"),
    [0, 1, 2, 3].map(choice), point("win", 1), point("draw", 0.5), point("loss", 0));
}

/** A group stage in words, and the organizer's "Start the playoff" when it waits for them. */
function stageInfo(t) {
  const groups = t.settings?.groups;
  if (!groups) return null;
  const playoff = FORMATS[groups.playoff]?.toLowerCase() ?? groups.playoff;
  const plays = groups.format === "swiss" ? `${groups.rounds} Swiss rounds` : "round robin";
  const line = `${groups.groups} groups (${plays}), the top ${groups.advance} of each to a ${playoff}`
    + `${groups.playoff_seeding === "cross" ? ", cross-seeded" : ", seeded by the standings"}.`
    + (groups.veto?.pool?.length ? ` Map veto in the groups: ${groups.veto.pool.join(", ")}${vetoRules(groups.veto)}.`
      : "");
  const waiting = t.state === "live" && t.settings.stage === "groups" && !groups.auto_playoff;
  const error = h("p", { class: "error", role: "alert", id: "playoff-error" });
  const button = waiting ? h("button", { type: "button", class: "primary", id: "start-playoff",
    onclick: () => busy(button, error, () => post(`/api/tournaments/${t.id}/start-playoff`, {})) },
  "Start the playoff") : null;
  return h("div", { id: "t-stage" }, h("p", { class: "small" },
    t.settings.stage === "playoff" ? `${line} The playoff is on.` : line), button, waiting ? error : null);
}

/** What the tournament's matches are played as: "Best of 3 · GF best of 5 · Map veto: Mirage, Inferno, …". */
function seriesInfo(settings) {
  const series = settings.series;
  const parts = [];
  if (series && (series.best_of > 1 || Object.keys(series.rounds ?? {}).length)) {
    parts.push(formatLabel(series) ?? "Best of 1");
    for (const [key, format] of Object.entries(series.rounds ?? {})) {
      parts.push(`${key} ${(formatLabel(format) ?? "best of 1").toLowerCase()}`);
    }
  }
  if (settings.veto?.pool?.length) {
    const whose = settings.groups?.veto ? "Playoff map veto" : "Map veto"; // the groups have their own
    parts.push(`${whose}: ${settings.veto.pool.join(", ")}${vetoRules(settings.veto)}`);
  }
  return parts.length ? h("p", { class: "small", id: "t-series" }, parts.join(" · ")) : null;
}

/** How a tournament's vetoes run, where it is not the default: " (a coin flip starts; 30 s a turn, then it waits)". */
function vetoRules(veto) {
  const rules = [];
  if (veto.first === "coin_flip") rules.push("a coin flip starts");
  if (veto.first === "organizer") rules.push("you choose who starts");
  if (veto.turn_s) {
    rules.push(`${veto.turn_s} s a turn, then ${veto.on_timeout === "wait" ? "it waits" : "a random choice"}`);
  }
  return rules.length ? ` (${rules.join("; ")})` : "";
}

/** The start form's games per match (a default, other rounds) and map veto (who starts it, the
 * turns' timer and what its running out does). */
function seriesFields() {
  return h("fieldset", { class: "stack series-options" },
    h("legend", {}, "Games and map veto"),
    formField("s-best-of", "Games per match", h("select", { id: "s-best-of", name: "best_of" }, formatOptions(null))),
    formField("s-series-rounds", "Other rounds (optional)", h("input", { id: "s-series-rounds",
      placeholder: "GF bo5, W3 bo5", maxlength: 700, autocomplete: "off", "aria-describedby": "s-series-rounds-hint" }),
    "W3 = winners round 3 (W: the whole winners bracket), L2 = losers round 2 (L: all of it), GF grand final, "
      + "3P third place, R / S = round robin / Swiss round. Then bo1 to bo9, or all 2 (every game played)."),
    vetoFields("s-"));
}

/** The start body's `series` and `veto` from the form (each only when asked for). Throws Error
 * for what cannot be read; the server judges the rest (422). */
function seriesOptions() {
  const options = {};
  const rounds = parseRounds(byId("s-series-rounds").value);
  const format = formatOf(byId("s-best-of").value);
  if (format.best_of > 1 || Object.keys(rounds).length) {
    options.series = Object.keys(rounds).length ? { ...format, rounds } : format;
  }
  const veto = vetoFromFields("s-");
  if (veto) options.veto = veto;
  return options;
}

/** "GF bo5, W3 all 2" as {"GF": {best_of: 5, play_all: false}, "W3": {best_of: 2, play_all: true}}.
 * Throws Error for an entry it cannot read or a round named twice. */
function parseRounds(text) {
  const format = /^([a-z0-9-]{1,16})\s*[:=]?\s*(?:bo\s*(\d+)|best\s+of\s+(\d+)|all\s*(\d+)(?:\s+games?)?)$/i;
  const rounds = {};
  for (const entry of nameList(text)) {
    const found = format.exec(entry);
    if (!found) throw new Error(`Other rounds: “${entry}” is not like “GF bo5” or “W3 all 2”.`);
    const [, key, bo, bestOf, all] = found;
    const round = key.toUpperCase();
    if (round in rounds) throw new Error(`Other rounds: ${round} is named twice.`);
    rounds[round] = { best_of: Number(all ?? bo ?? bestOf), play_all: all !== undefined };
  }
  return rounds;
}
