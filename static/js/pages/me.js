// /me/{tournament id}: a player's whole event on one page, on a phone. From the link's token
// (its `sub` is the participant): the current match, playable in place (static/js/playmatch.js),
// what comes next, the results so far. It follows the tournament socket: when the current match
// ends and the next is seated or called, the old match is unmounted and the new one mounted.
// Before the start it says where the player's registration stands (registered, waiting for
// approval, on the waitlist and at which place, dropped) and, while check-in is open, checks them in.

import { ApiError, get, oneAtATime, post } from "../api.js";
import { announce, byId, h, onNextFrame, render, segment } from "../dom.js";
import { tournamentGone } from "../gate.js";
import { LiveRoom } from "../live.js";
import { applyTournamentEvent, bracketLeftOut, FINAL_STATES, IN_PLAY, loadMatches, MatchBook, matchTitle, Names,
  NAMING, takeSnapshot } from "../matches.js";
import { mountPlayMatch } from "../playmatch.js";
import { memberLabel, teamOf } from "../rosterdesk.js";
import { etaEl, keepTicking, ServerClock, waitText } from "../stations.js";
import { showConnection } from "../status.js";
import { claims, currentToken, forgetToken, takeToken } from "../token.js";

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();
const me = token ? claims(token).af ?? claims(token).sub : null; // a team member plays as their team
const book = new MatchBook();
const names = new Names();
const clock = new ServerClock();
const scheduleDraw = onNextFrame(draw);
const BRACKET_RANK = { winners: 0, round_robin: 0, swiss: 0, losers: 1, third_place: 2, grand_final: 3 };
const UNDER_WAY = new Set(["live", "pending_result", "disputed"]);
let tournament = null;
let queue = null; // the call queue (tournament/callqueue.py view), or null: no stations
let live = null;
let mounted = null; // {id, handle}: the match mounted in #me-match
let ended = false; // the link was refused: the page says so and stops
let mine = null; // the player's own Participant, of any status (null: not known to be one)
let place = null; // their waitlist place, when waitlisted
let registration = null; // GET .../registration (settings, the waitlist's places), or null: not read
let checkInError = "";
const OPEN_STATES = new Set(["draft", "registration"]);

/** Read the registration (the player may: the code is null for them); one read at a time. */
const readRegistration = oneAtATime(async () => {
  try {
    registration = await get(`/api/tournaments/${tournamentId}/registration`);
  } catch {
    return; // no settings to show: the page goes on without check-in (the socket may bring them)
  }
  if (mine?.status === "registered" && names.has(me)) return;
  const listed = ["pending", "waitlisted", "dropped"].flatMap((k) => registration[k]).find((p) => p.id === me);
  if (listed) {
    mine = listed;
    place = listed.place ?? null;
  }
});

if (!token) {
  noLink();
} else {
  skeleton();
  live = new LiveRoom(`/ws/tournament/${tournamentId}`, token, {
    onSnapshot(data) {
      tournament = data.tournament;
      names.set(data.participants);
      const listed = data.participants.find((p) => p.id === me);
      if (listed) mine = listed;
      if (OPEN_STATES.has(tournament.state)) readRegistration(); // what changed while the socket was away
      queue = data.queue ?? null;
      takeSnapshot(book, tournamentId, data).then(scheduleDraw, () => {});
      scheduleDraw();
    },
    onEvent: apply,
    onFrame: (frame) => clock.observe(frame),
    onAuthFailed: socketRefused,
    onGone: (frame) => tournamentGone(main, frame),
  });
  showConnection(byId("connection"), live);
  keepTicking(clock);
  firstPaint().then((ok) => ok && live.start());
}

/** The tournament over REST first: an unknown id or a revoked link is told at once. */
async function firstPaint() {
  try {
    tournament = await get(`/api/tournaments/${tournamentId}`);
    names.set(tournament.participants ?? []);
    mine = (tournament.participants ?? []).find((p) => p.id === me) ?? null;
    await readRegistration(); // a player not registered (pending, waitlisted, dropped) is listed there
    draw();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      refusedLink(error);
    } else {
      render(main, h("p", { role: "alert", class: "panel" }, error.status === 404 ? "No such tournament." : error.message));
    }
    return false;
  }
}

function apply(frame) {
  if (NAMING.has(frame.type)) names.add(frame.data.participant);
  if (NAMING.has(frame.type) && frame.data.participant.id === me) {
    mine = frame.data.participant;
    place = frame.data.place ?? null;
  }
  if (frame.type === "participant_removed" && frame.data.participant_id === me) mine = null;
  if (frame.type === "registration_updated" && registration) registration = { ...registration, ...frame.data.registration };
  // Someone ahead on the waitlist left it, or check-in changed: the places are read again.
  if (OPEN_STATES.has(tournament?.state) && (frame.type.startsWith("participant") || frame.type === "registration_updated")) {
    readRegistration().then(scheduleDraw);
  }
  tournament = applyTournamentEvent(book, tournament, frame);
  if (frame.type === "queue_updated" && frame.data?.queue) queue = frame.data.queue;
  if (bracketLeftOut(frame)) loadMatches(book, tournamentId).then(scheduleDraw, () => {});
  if (frame.data?.match?.participant_ids.some((id) => id && !names.has(id))) refreshNames();
  scheduleDraw();
}

async function refreshNames() {
  if (await names.reload(tournamentId)) scheduleDraw();
}

// -- which match is the player's now, and what comes after ------------------------------------

function playOrder(a, b) {
  return (a.round ?? 0) - (b.round ?? 0)
    || (BRACKET_RANK[a.bracket?.bracket] ?? 4) - (BRACKET_RANK[b.bracket?.bracket] ?? 4)
    || (a.bracket?.position ?? 0) - (b.bracket?.position ?? 0)
    || String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id);
}

/** The player's match now: one open (under way first, then one called to a station, then by
 * play order), else the earliest seated one (both players known) waiting to be called. */
function currentOf(ours) {
  const played = ours.filter((m) => !m.bracket?.walkover);
  const urgency = (m) => (UNDER_WAY.has(m.state) ? 0 : m.call ? 1 : 2);
  const open = played.filter((m) => IN_PLAY.has(m.state) || (m.call && !FINAL_STATES.has(m.state)));
  if (open.length) return open.sort((a, b) => urgency(a) - urgency(b) || playOrder(a, b))[0];
  return played.filter((m) => m.state === "scheduled" && m.participant_ids.every(Boolean)).sort(playOrder)[0] ?? null;
}

function byKey(key) {
  return book.all().find((m) => m.bracket?.key === key) ?? null;
}

/** Who plays slot `slot` of `match`'s other side for the player: a name, "a bye", or the feed. */
function opponentAt(match, slot) {
  const other = 1 - slot;
  const id = match.participant_ids[other];
  if (id) return names.of(id);
  if (match.bracket?.byes?.[other]) return "a bye";
  return match.bracket?.feeds?.[other] ?? "to be decided";
}

/** "W2-1 vs winner of W1-2": where a (match key, slot) of a bracket leads. */
function destination(to) {
  const target = to && byKey(to[0]);
  return target ? `${matchTitle(target)} vs ${opponentAt(target, to[1])}` : null;
}

/** What winning and losing `match` leads to, from its bracket's winner_to and loser_to. */
function ifLines(match) {
  const b = match.bracket;
  const slot = match.participant_ids.indexOf(me);
  const third = b.bracket === "third_place";
  let win = destination(b.winner_to) ?? (third ? "you finish third" : "you win the tournament");
  let lose = destination(b.loser_to) ?? (third ? "you finish fourth" : "you are out");
  if (b.winner_to && byKey(b.winner_to[0])?.bracket?.optional) {
    // A grand final: the winners-bracket champion (slot 0) wins it outright; the other forces a reset.
    if (slot === 0) win = "you win the tournament";
    else lose = "you are out";
  }
  return [`If you win: ${win}`, `If you lose: ${lose}`];
}

/** The "Next" panel's lines. */
function outlook(current, ours) {
  if (current && current.bracket?.winner_to !== undefined && current.bracket?.bracket !== "round_robin"
      && current.bracket?.bracket !== "swiss" && !FINAL_STATES.has(current.state)) {
    return ifLines(current);
  }
  const later = ours.filter((m) => m.id !== current?.id && !FINAL_STATES.has(m.state) && !m.bracket?.walkover)
    .sort(playOrder);
  const next = later[0];
  if (next) {
    const slot = next.participant_ids.indexOf(me);
    const lines = [`Next: ${matchTitle(next)} vs ${opponentAt(next, slot)}`];
    const missing = next.participant_ids[1 - slot] ? null : next.bracket?.feeds?.[1 - slot];
    if (missing) lines.push(`Waiting for the ${missing}.`);
    if (later.length > 1) lines.push(`Then ${later.length - 1} more match${later.length > 2 ? "es" : ""}.`);
    return lines;
  }
  if (tournament?.format === "swiss" && tournament.state === "live") {
    return ["Your next opponent is paired when this round ends."];
  }
  return [];
}

/** How the player's event stands, when that is the news: not started, out, over. */
function standing(ours) {
  const state = tournament.state;
  if (state === "completed") {
    const mine = (tournament.placements ?? []).find((p) => p.participant_id === me);
    if (!mine) return { text: "The tournament is over.", kind: "over" };
    if (mine.place === 1) return { text: "You won the tournament!", kind: "won" };
    return { text: `The tournament is over: you finished ${placeLabel(mine.place)}.`, kind: "over" };
  }
  if (state === "cancelled") return { text: "The tournament was cancelled.", kind: "over" };
  if (state === "draft" || state === "registration") {
    return { text: "The tournament has not started yet: your first match shows here when it does.", kind: "waiting" };
  }
  const going = ours.some((m) => !FINAL_STATES.has(m.state));
  const knockout = ours.find((m) => FINAL_STATES.has(m.state) && m.winner_id && m.winner_id !== me
    && !m.bracket?.walkover && m.bracket && !m.bracket.loser_to && !["round_robin", "swiss"].includes(m.bracket.bracket));
  if (!going && knockout) {
    return { text: `You are out: ${names.of(knockout.winner_id)} won ${matchTitle(knockout)}. Your place is known when `
      + "the tournament ends.", kind: "out" };
  }
  return null;
}

function placeLabel(place) {
  const shared = (tournament.placements ?? []).filter((p) => p.place === place).length;
  return shared > 1 ? `${ordinal(place)}–${ordinal(place + shared - 1)}` : ordinal(place);
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

/** "Won 13–9 against Dave", "Lost by forfeit to Bob", "Bye: you went through". */
function resultText(m) {
  const opponent = m.participant_ids.find((id) => id && id !== me);
  if (m.bracket?.walkover) return m.winner_id === me ? "Bye: you went through." : "Not played.";
  if (m.state === "cancelled") return "Cancelled.";
  const scores = m.result?.scores ?? m.scores ?? {};
  const line = `${scores[me] ?? 0}–${scores[opponent] ?? 0}`;
  const who = names.of(opponent) ?? "your opponent";
  if (m.state === "forfeit") return m.winner_id === me ? `Won by forfeit against ${who}` : `Lost by forfeit to ${who}`;
  if (!m.winner_id) return `Drew ${line} with ${who}`;
  return m.winner_id === me ? `Won ${line} against ${who}` : `Lost ${line} to ${who}`;
}

// -- the page -------------------------------------------------------------------------------------

function skeleton() {
  render(main,
    h("section", { id: "me-head", class: "me-head", "aria-label": "You in this tournament" }),
    h("section", { id: "me-current", class: "me-current", "aria-labelledby": "me-current-title" },
      h("h2", { id: "me-current-title", class: "me-section-title" }, "Now"),
      h("p", { id: "me-now", class: "me-now" }),
      h("div", { id: "me-match-connection", class: "connection small", role: "status" }),
      h("div", { id: "me-match", class: "me-match" })),
    h("section", { id: "me-next", class: "panel me-next", "aria-labelledby": "me-next-title" }),
    h("section", { id: "me-history", class: "panel me-history", "aria-labelledby": "me-history-title" }),
    h("p", { class: "me-links" },
      h("a", { id: "bracket-link", class: "button", href: `/tournaments/${encodeURIComponent(tournamentId)}` },
        "See the whole bracket")));
}

function draw() {
  if (ended || !tournament || !byId("me-head")) return;
  const status = mine ? mine.status ?? "registered" : names.has(me) ? "registered" : null;
  if (!status) {
    notAPlayer();
    return;
  }
  if (status !== "registered") {
    drawEntry(status);
    return;
  }
  const name = playingAs();
  byId("page-title").textContent = name;
  document.title = `${name} · ${tournament.name} · livebracket`;
  const ours = book.all().filter((m) => m.participant_ids.includes(me));
  const current = currentOf(ours);
  follow(current, ours);
  const shown = mounted ? book.get(mounted.id) : null;
  const news = standing(ours);

  render(byId("me-head"),
    h("p", { class: "subtitle" }, tournament.name, tournament.game ? ` · ${tournament.game}` : ""),
    OPEN_STATES.has(tournament.state) ? h("p", { id: "me-entry", class: "me-entry registered" }, "You are registered.")
      : null,
    news ? h("p", { id: "me-standing", class: `me-standing ${news.kind}`, role: "status" }, news.text) : null,
    checkInPart("registered"));
  byId("me-history").hidden = false;

  const section = byId("me-current");
  section.hidden = !shown && Boolean(news);
  byId("me-current-title").textContent = shown
    ? `${FINAL_STATES.has(shown.state) ? "Last match" : "Now"}: ${matchTitle(shown)}` : "Now";
  render(byId("me-now"), nowLine(shown, news));

  const lines = news?.kind === "out" || news?.kind === "won" || news?.kind === "over" ? [] : outlook(current, ours);
  byId("me-next").hidden = !lines.length;
  render(byId("me-next"), h("h2", { id: "me-next-title" }, "Next"),
    h("ul", { class: "me-outlook" }, lines.map((line) => h("li", {}, line))));

  const done = ours.filter((m) => FINAL_STATES.has(m.state)).sort(playOrder).reverse();
  render(byId("me-history"), h("h2", { id: "me-history-title" }, "Your results"),
    done.length
      ? h("ol", { class: "me-results", reversed: true }, done.map((m) => h("li", {
        class: `me-result ${m.winner_id === me ? "won" : m.winner_id ? "lost" : ""}`, dataset: { matchId: m.id } },
      h("a", { class: "key", href: `/matches/${encodeURIComponent(m.id)}` }, matchTitle(m)), " ", resultText(m))))
      : h("p", { class: "empty" }, "No match played yet."));
}

/** Above the mounted match: why it waits (the queue's ETA), or that nothing is to be played. */
function nowLine(shown, news) {
  if (!shown) return news ? "" : "Nothing to play right now: your next match shows here as soon as it is set.";
  if (shown.state !== "scheduled" || shown.call) return "";
  const row = queue?.queue?.find((r) => r.match_id === shown.id);
  // Past the rows the view shows (a big bracket's first round), only the ETA is carried: in `etas`.
  const eta = row ? row.eta : queue?.etas?.[shown.id];
  if (eta === undefined) return "";
  const why = row ? waitText(row, names) : "";
  return ["Waiting for a station: about ", etaEl(eta, clock), why ? ` (${why})` : ""];
}

/** Mount the current match when it is another than the mounted one; a mounted match that is
 * no longer the player's (a bracket reset) goes; a finished one stays until the next is set. */
function follow(current, ours) {
  if (current && current.id !== mounted?.id) {
    const switching = Boolean(mounted);
    mounted?.handle.destroy();
    const container = byId("me-match");
    render(container, h("p", { class: "muted" }, "Opening your match…"));
    mounted = { id: current.id, handle: mountPlayMatch(container, current.id, {
      token: currentToken() ?? token, // a renewed link, if it was renewed since the page opened
      status: byId("me-match-connection"), onAuthFailed: socketRefused }) };
    if (switching) {
      const opponent = current.participant_ids.find((id) => id && id !== me);
      announce(byId("announcer"), `Your next match: ${matchTitle(current)} against ${names.of(opponent)}`);
    }
  } else if (mounted && !ours.some((m) => m.id === mounted.id)) {
    mounted.handle.destroy();
    mounted = null;
  }
}

// -- before the start: the registration and check-in ----------------------------------------------


/** A player who does not play (yet): pending, waitlisted or dropped; their status and check-in. */
function drawEntry(status) {
  mounted?.handle.destroy();
  mounted = null;
  const name = mine.name;
  byId("page-title").textContent = name;
  document.title = `${name} · ${tournament.name} · livebracket`;
  const open = OPEN_STATES.has(tournament.state);
  const said = {
    pending: ["Waiting for the organizer's approval.", "Your place is confirmed here when the organizer approves it."],
    waitlisted: [`You are on the waitlist, place ${place ?? "?"}.`, open
      ? "You get a place as soon as one frees up, in waitlist order." : "No place freed up for you."],
    dropped: ["You are not playing: you did not check in before the start.", "Ask the organizer if this is a mistake."],
  }[status] ?? [`You are ${status}.`, ""];
  render(byId("me-head"),
    h("p", { class: "subtitle" }, tournament.name, tournament.game ? ` · ${tournament.game}` : ""),
    h("p", { id: "me-entry", class: `me-entry me-standing ${status}`, role: "status" }, said[0]),
    said[1] ? h("p", { class: "muted" }, said[1]) : null,
    checkInPart(status));
  for (const id of ["me-current", "me-next", "me-history"]) byId(id).hidden = true;
}

/** Before the start, while check-in is used: the big button, or that the player is checked in. */
function checkInPart(status) {
  const state = registration?.check_in?.state ?? "off";
  if (!OPEN_STATES.has(tournament.state) || state === "off" || !["registered", "waitlisted"].includes(status)) return null;
  if (mine?.checked_in_at) {
    return h("p", { id: "me-checked-in", class: "me-checked-in", role: "status" }, "You are checked in",
      status === "waitlisted" ? h("span", { class: "muted" }, ": a place freed before the start can be yours.") : ".");
  }
  if (state === "closed") {
    return h("p", { id: "me-checkin-closed", class: "me-standing out" }, "Check-in is closed: ask the organizer.");
  }
  const button = h("button", { type: "button", id: "me-checkin", class: "primary big-action me-checkin",
    onclick: () => checkIn(button) }, "Check in for the tournament");
  return h("div", { class: "me-checkin-box" },
    h("p", {}, "Check-in is open: tell the organizer you are here."), button,
    h("p", { id: "me-checkin-error", class: "error", role: "alert" }, checkInError));
}

async function checkIn(button) {
  button.disabled = true;
  checkInError = "";
  try {
    mine = await post(`/api/tournaments/${tournamentId}/check-in`, {});
    announce(byId("announcer"), "You are checked in");
  } catch (e) {
    checkInError = e.message || String(e);
    if (e instanceof ApiError && e.status === 401) refusedLink(e);
  }
  draw();
}

function joinLink(text) {
  return h("a", { class: "button primary", id: "join-link", href: `/join/${encodeURIComponent(tournamentId)}` }, text);
}

function noLink() {
  render(main, h("section", { class: "panel gate", "aria-labelledby": "me-gate-title" },
    h("h2", { id: "me-gate-title" }, "Your player link is needed"),
    h("p", {}, "Open the link the organizer gave you (or scan its QR code), or type your code."),
    joinLink("Type my code")));
}

function notAPlayer() {
  mounted?.handle.destroy();
  mounted = null;
  render(main, h("section", { class: "panel gate", "aria-labelledby": "me-gate-title" },
    h("h2", { id: "me-gate-title" }, "This link is not a player's"),
    h("p", {}, `This page shows a player's matches in ${tournament.name}; this link is no player of it.`),
    h("p", { class: "row" }, joinLink("Type my code"),
      h("a", { class: "button", href: `/tournaments/${encodeURIComponent(tournamentId)}` }, "See the bracket"))));
}

/** A socket refused the token: REST says why in a stable error code (revoked, expired), and
 * the page says so; when REST takes the token after all, the socket's own words stand. */
async function socketRefused(message) {
  if (ended) return;
  stopAll();
  try {
    await get(`/api/tournaments/${tournamentId}`);
    refusedLink(new ApiError(401, "token_refused", message));
  } catch (error) {
    refusedLink(error instanceof ApiError && error.status === 401 ? error : new ApiError(401, "token_refused", message));
  }
}

function stopAll() {
  ended = true;
  mounted?.handle.destroy();
  mounted = null;
  live?.stop();
}

/** The link was refused (`error`: an ApiError, its code token_revoked for a revoked link):
 * say so, forget the token, and stop. */
function refusedLink(error) {
  stopAll();
  const revoked = error.code === "token_revoked";
  const message = error.message;
  forgetToken();
  document.body.dataset.connection = "offline";
  render(main, h("section", { class: "panel gate me-refused", "aria-labelledby": "me-gate-title" },
    h("h2", { id: "me-gate-title" }, revoked ? "This link was revoked" : "This link no longer works"),
    h("p", { role: "alert" }, revoked ? "This link was revoked: ask the organizer for a new one."
      : `The link was refused (${message || "no reason given"}): ask the organizer for a new one.`),
    h("p", {}, "If you have your code, you can type it instead."),
    joinLink("Type my code")));
}

/** The page's name: the player's, or a team member's "Ann, captain of Red" (`mine` is their team). */
function playingAs() {
  const found = claims(token).af && mine ? teamOf([mine], claims(token).sub) : null;
  return found ? memberLabel(found) : names.of(me);
}
