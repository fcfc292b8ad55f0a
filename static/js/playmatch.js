// One match as its player plays it, mounted in a page region: the call to a station with its
// check-in countdown, check-in, the map veto, start, reporting game by game, confirm or dispute,
// and the chat, all over the match's own socket. /play/{match} mounts one; /me/{tournament}
// mounts the player's current match and mounts the next one when the event moves on. A team
// member plays as their team ("Playing for Red as Ann, captain"); one who may not act for it
// sees the server's reason in place of the actions.

import { get } from "./api.js";
import { announce, busy, byId, h, render } from "./dom.js";
import { FINAL_STATES, scoreLine, STATE_LABELS } from "./matches.js";
import { ChatBox } from "./chat.js";
import { watchMatch } from "./matchroom.js";
import { renderScoreboard } from "./scoreboard.js";
import { currentGame, renderGames, renderVeto } from "./series.js";
import { countdownEl, keepTicking, noShows, ServerClock } from "./stations.js";
import { teamOf } from "./rosterdesk.js";
import { showConnection } from "./status.js";
import { claims } from "./token.js";

/**
 * `mountPlayMatch(container, matchId, {token, status, onMatch, onAuthFailed})` draws
 * the match into `container` and keeps it live. `status`: an element that shows the socket's
 * state; `onMatch(match)` after each draw; `onAuthFailed(message)` when the token is refused
 * (the mount has stopped by then).
 * Returns `{live, current(), destroy()}`; destroy closes the socket and empties `container`.
 */
export function mountPlayMatch(container, matchId, { token, status = null, onMatch, onAuthFailed } = {}) {
  let me = null; // the participant played as: a team member's team
  let member = null; // a team member's own id (their link's subject), else null
  let roster = null; // {team, member} of a team member, once read
  let refused = ""; // the server's reason a team member may not act for their team
  let error = ""; // the last command's refusal
  let participant = false;
  let destroyed = false;
  let chat = null;
  const clock = new ServerClock();
  const { live, names, current } = watchMatch(matchId, token, {
    onWelcome: (data) => {
      const team = claims(token).af;
      me = team ?? data.user_id;
      member = team ? data.user_id : null;
      participant = data.is_participant;
      if (member && !roster) readRoster(data.tournament_id);
      chat.welcome(data);
    },
    onFrame: (frame) => {
      clock.observe(frame);
      if (!destroyed) chat.frame(frame);
    },
    onUpdate: (match, previous) => {
      if (destroyed) return;
      draw(match);
      if (match.call && !previous?.call && calledHere(match)) {
        announce(byId("announcer"), `Go to ${match.call.station}`);
      } else if (previous?.call && !match.call && !FINAL_STATES.has(match.state)) {
        announce(byId("announcer"), `Your match was taken off ${previous.call.station}: wait for the next call.`);
      } else if (previous && previous.state !== match.state) {
        announce(byId("announcer"), `${STATE_LABELS[match.state] ?? match.state}. ${scoreLine(match, names)}`);
      }
    },
    onAuthFailed: (message) => {
      stop();
      onAuthFailed?.(message);
    },
  });
  chat = new ChatBox(live, () => !destroyed && current() && draw(current()));
  if (status) showConnection(status, live);
  const stopTicking = keepTicking(clock);
  live.start();

  function stop() {
    destroyed = true;
    stopTicking();
    live.stop();
  }

  async function readRoster(tournamentId) {
    try {
      roster = teamOf((await get(`/api/tournaments/${tournamentId}`)).participants, member);
    } catch {
      return; // the crumbs name the team alone
    }
    if (!destroyed && current()) draw(current());
  }

  /** Send a command; its refusal is kept (a redraw keeps showing it) until the next command. */
  function command(type, data, button, done) {
    error = "";
    return busy(button, null, async () => {
      try {
        await live.send(type, data);
      } catch (e) {
        if (member && e.code === "insufficient_permissions") refused = e.message;
        else error = e.message || String(e);
        if (!destroyed && current()) draw(current());
        return;
      }
      if (done) announce(byId("announcer"), done);
    });
  }

  /** "Playing as Alice against Bob", or for a team member "Playing for Red as Ann, captain, against Blue". */
  function playingAs(opponent) {
    const against = opponent ? ` against ${names.of(opponent)}` : "";
    if (!member) return `Playing as ${names.of(me)}${against}`;
    const who = roster ? `${roster.member.name}, ${roster.member.role}` : member;
    return `Playing for ${names.of(me)} as ${who}${against ? `,${against}` : ""}`;
  }

  /** A team member who may not act: the server's reason, and a way to try again (the setting
   * or the roster may change). */
  function refusedPanel() {
    return h("div", { class: "acting-refused", id: "acting-refused", role: "status" },
      h("p", {}, h("strong", {}, `You cannot act for ${names.of(me)}: `), refused, "."),
      h("p", { class: "muted small" }, "You can follow the match and chat here. ",
        h("button", { type: "button", class: "link", id: "acting-retry", onclick: () => {
          refused = "";
          draw(current());
        } }, "Try again")));
  }

  function draw(match) {
    const opponent = match.participant_ids.find((id) => id && id !== me);
    render(container,
      h("p", { class: "crumbs" }, participant ? playingAs(opponent)
        : "You are watching: this token is not a player of this match.",
      match.call && !FINAL_STATES.has(match.state) && !calledHere(match) ? ` · at ${match.call.station}` : ""),
      participant && calledHere(match) ? callPanel(match) : null,
      h("section", { class: "big-board compact", "aria-label": `Score: ${scoreLine(match, names)}` },
        renderScoreboard(match, names)),
      match.veto && !match.veto.complete ? vetoPanel(match) : null,
      h("section", { class: "panel actions", "aria-labelledby": "actions-title" },
        h("h2", { id: "actions-title" }, "Your match"),
        disputeOutcome(match),
        participant ? (refused && !FINAL_STATES.has(match.state) ? refusedPanel() : actions(match))
          : h("p", {}, "Only the two players see actions here."),
        h("p", { id: "play-error", class: "error", role: "alert" }, error)),
      match.veto?.complete ? h("section", { class: "panel", "aria-label": "Maps" }, renderVeto(match, names)) : null,
      renderGames(match, names),
      chat.view());
    onMatch?.(match);
  }

  /** A call to a station the players have not started at yet: where to go, the time to check
   * in (the check-in command itself), and what a missed time means. */
  function callPanel(match) {
    const call = match.call;
    const opponent = match.participant_ids.find((id) => id && id !== me);
    const mine = match.checked_in.includes(me);
    const late = noShows(match);
    const checkIn = h("button", { type: "button", id: "check-in", class: "primary big-action",
      onclick: () => command("ready_up", {}, checkIn, "Checked in") }, "Check in");
    let body;
    if (match.state === "ready") {
      body = h("p", {}, "You are both here: start the match below when you are set up.");
    } else if (mine) {
      body = h("p", {}, late.length ? `${names.of(opponent)} did not check in in time: the organizer decides what happens.`
        : `You are checked in. Waiting for ${names.of(opponent) ?? "your opponent"}.`);
    } else if (late.includes(me)) {
      body = [h("p", { class: "call-late", role: "alert" }, "Your check-in time ran out: you are marked as a no-show. "
        + "Go there now and check in; the organizer may still count it, or award the match to your opponent."), checkIn];
    } else {
      body = [call.deadline ? h("p", { class: "call-deadline" }, "Check in within ",
        countdownEl(call.deadline, clock, { id: "call-countdown" }), " or you may lose the match.")
        : h("p", {}, "Check in when you are at the station."), checkIn];
    }
    return h("section", { class: `panel call-panel${late.length ? " late" : ""}`, "aria-labelledby": "call-title" },
      h("h2", { id: "call-title", class: "call-where" }, `Go to ${call.station}`), body);
  }

  /** The veto while it runs: the board, with buttons on the player's own turns. */
  function vetoPanel(match) {
    const turn = match.veto.turn;
    return h("section", { class: "panel", "aria-labelledby": "veto-title" },
      h("h2", { id: "veto-title" }, turn && turn.by === me ? "Your turn in the map veto" : "Map veto"),
      renderVeto(match, names, {
        canAct: (t) => participant && t.by === me,
        onTake: (choice, button) => command("veto", choice, button,
          choice.map ? `${turn.action === "ban" ? "Banned" : "Picked"} ${choice.map}` : `Side ${choice.side}`),
      }));
  }

  /** How the organizer settled the match's dispute, in their words: both players see it. */
  function disputeOutcome(match) {
    const d = match.dispute;
    if (!d || d.status === "open") return null;
    const how = d.status === "resolved" ? "The organizer resolved the dispute" : "The organizer rejected the dispute";
    return h("div", { class: `dispute-outcome ${d.status}`, id: "dispute-outcome", role: "status" },
      h("p", {}, h("strong", {}, `${how}`), d.resolution ? `: “${d.resolution}”` : "."),
      h("p", { class: "muted small" }, `${names.of(d.raised_by)} disputed: “${d.reason}”`));
  }

  function actions(match) {
    const state = match.state;
    if (match.veto && !match.veto.complete && ["scheduled", "check_in", "ready"].includes(state)) {
      return h("p", {}, "The map veto comes first: it is above.");
    }
    if (state === "scheduled") return h("p", {}, "Check-in is not open yet: the organizer opens it.");
    if (state === "check_in") {
      if (calledHere(match)) return h("p", {}, `Check in at ${match.call.station}, at the top of this page.`);
      if (match.checked_in.includes(me)) return h("p", {}, "You are checked in. Waiting for your opponent.");
      const button = h("button", { type: "button", id: "ready-up", class: "primary",
        onclick: () => command("ready_up", {}, button, "Checked in") }, "I'm ready");
      return h("div", {}, h("p", {}, "Check in when you are at your seat and ready to play."), button);
    }
    if (state === "ready") {
      const button = h("button", { type: "button", id: "start-match", class: "primary",
        onclick: () => command("start_match", {}, button, "Match started") }, "Start the match");
      return h("div", {}, h("p", {}, "Both players are in."), button);
    }
    if (state === "live") return reportForm(match);
    if (state === "pending_result") {
      const report = Object.entries(match.reports ?? {})[0];
      const [who, r] = report ?? [null, null];
      const line = r ? reportLine(match, r) : "";
      if (who === me) return h("p", {}, `You reported: ${line}. Waiting for your opponent to confirm.`);
      const confirm = h("button", { type: "button", id: "confirm-result", class: "primary",
        onclick: () => command("confirm_result", {}, confirm, "Result confirmed") }, "Confirm this result");
      const reason = h("textarea", { id: "dispute-reason", name: "reason", required: true, maxlength: 1000, rows: 2 });
      const disputeButton = h("button", { type: "submit" }, "Dispute the result");
      return h("div", {},
        h("p", {}, `${names.of(who)} reported: ${line}.`), confirm,
        h("form", {
          class: "stack",
          onsubmit: (e) => {
            e.preventDefault();
            command("raise_dispute", { reason: reason.value.trim() }, disputeButton, "Dispute sent");
          },
        },
        h("label", { for: "dispute-reason" }, "Or say what is wrong"), reason, disputeButton));
    }
    if (state === "disputed") return h("p", {}, "The result is disputed: an organizer will decide.");
    if (match.winner_id) {
      return h("p", {}, match.winner_id === me ? "Match over: you won." : `Match over: ${names.of(match.winner_id)} won.`);
    }
    return h("p", {}, `This match is ${STATE_LABELS[state] ?? state}.`);
  }

  /** "Alice 13, Bob 9 (game 2)", or the whole series' games. */
  function reportLine(match, r) {
    const of = (scores) => match.participant_ids.map((id) => `${names.of(id)} ${scores[id]}`).join(", ");
    if (r.games?.length) return `the whole series, ${r.games.map((g, i) => `game ${i + 1}: ${of(g)}`).join("; ")}`;
    return r.game ? `game ${r.game}, ${of(r.scores)}` : of(r.scores);
  }

  function reportForm(match) {
    const game = currentGame(match);
    const inputs = match.participant_ids.map((id, slot) => h("input", {
      id: `report-${slot}`, name: id, type: "number", inputmode: "numeric", min: 0, max: 1000000,
      required: true, value: (game ? game.scores : match.scores)?.[id] ?? 0,
    }));
    const submit = h("button", { type: "submit", class: "primary", id: "report-result" },
      game ? `Report game ${game.number}` : "Report the result");
    return h("form", {
      class: "stack",
      onsubmit: (e) => {
        e.preventDefault();
        const scores = Object.fromEntries(inputs.map((input) => [input.name, Number(input.value)]));
        const data = game ? { scores, game: game.number } : { scores };
        command("report_score", data, submit, game ? `Game ${game.number} reported` : "Result reported").then(() => {
          inputs.forEach((input) => delete input.dataset.dirty);
        });
      },
    },
    h("p", {}, game
      ? `When game ${game.number}${game.map ? ` on ${game.map}` : ""} is over, report its score. Your opponent confirms it.`
      : "When the match is over, report the final score. Your opponent confirms it."),
    h("div", { class: "row" }, match.participant_ids.map((id, slot) => h("div", { class: "field" },
      h("label", { for: `report-${slot}` }, `${names.of(id)}'s score`), inputs[slot]))),
    submit);
  }

  return {
    live,
    current,
    destroy() {
      stop();
      container.replaceChildren();
    },
  };
}

/** Called to a station and not under way there yet (a live match shows its station in the crumbs). */
export function calledHere(match) {
  return Boolean(match.call) && ["scheduled", "check_in", "ready"].includes(match.state);
}
