// Correcting a decided match from the desk: type the right score (of one game, in a series), see
// first what it would do (who wins, which later matches reset, which of them have begun), then
// apply it, confirmed again when it resets matches that have begun; and undo the last correction
// the same way. The server's dry run is the preview: the desk never guesses the bracket.

import { post } from "./api.js";
import { announce, byId, h } from "./dom.js";
import { confirmAction } from "./confirm.js";
import { matchTitle, STATE_LABELS } from "./matches.js";
import { readScores, scoreInputs } from "./scoreform.js";

/**
 * `correctionDesk({book, names, redraw})`: `button(m)` opens or closes a decided match's
 * correction, `panel(m)` is it while open (null otherwise). Each open one keeps the game chosen,
 * the request previewed and the server's report of it.
 */
export function correctionDesk({ book, names, redraw }) {
  const open = new Map(); // match id -> {game, body, preview, error}

  function button(m) {
    const opened = open.has(m.id);
    return h("button", { type: "button", class: "link", id: `correct-${m.id}`, "aria-expanded": String(opened),
      onclick: () => {
        if (opened) open.delete(m.id);
        else open.set(m.id, { game: playedGames(m).at(-1)?.number ?? null, body: null, preview: null, error: "" });
        redraw();
      } }, opened ? "Close the correction" : "Correct");
  }

  function panel(m) {
    const entry = open.get(m.id);
    if (!entry) return null;
    const games = playedGames(m);
    const game = m.series ? games.find((g) => g.number === entry.game) ?? games.at(-1) : null;
    const initial = game ? game.scores : m.result?.scores ?? m.scores ?? {};
    const prefix = game ? `correct-g${game.number}` : "correct";
    // as the server's moves.corrected_entry: a corrected result, or a series corrected while played
    const undoable = (m.history ?? []).some((e) => e.why === "corrected" && (e.result || e.games?.length));
    const preview = (body) => run(m, entry, byId(`preview-${m.id}`), async () => {
      entry.preview = await post(`/api/matches/${m.id}/correct`, { ...body, dry_run: true });
      entry.body = body;
    });
    return h("form", {
      class: "correction stack", id: `correction-${m.id}`, "aria-label": `Correct ${matchTitle(m)}`,
      oninput: () => {
        if (!entry.preview) return;
        entry.preview = null; // what was previewed is no longer what is typed
        redraw();
      },
      onsubmit: (e) => {
        e.preventDefault();
        const scores = readScores(e.currentTarget);
        preview(game ? { scores, game: game.number } : { scores });
      },
    },
    game ? h("div", { class: "field" }, h("label", { for: `correct-game-${m.id}` }, "Game"),
      h("select", { id: `correct-game-${m.id}`, onchange: (e) => {
        entry.game = Number(e.currentTarget.value);
        entry.preview = null;
        redraw();
      } }, games.map((g) => h("option", { value: g.number, selected: g.number === game.number },
        `Game ${g.number}${g.map ? ` · ${g.map}` : ""}`)))) : null,
    h("fieldset", {}, h("legend", {}, game ? `Game ${game.number}: the right score` : "The right score"),
      scoreInputs(m, names, prefix, initial)),
    h("div", { class: "row" },
      h("button", { type: "submit", id: `preview-${m.id}` }, "Preview the correction"),
      undoable ? h("button", { type: "button", id: `undo-${m.id}`, onclick: () => preview({ undo: true }) },
        "Undo the last correction") : null),
    entry.preview ? previewView(m, entry) : null,
    h("p", { class: "error", role: "alert", id: `correct-err-${m.id}` }, entry.error));
  }

  function previewView(m, entry) {
    const report = entry.preview;
    const resets = report.resets ?? [];
    const begun = resets.filter((r) => r.state !== "scheduled");
    const undo = Boolean(entry.body.undo);
    const who = report.winner_id == null
      ? `The series is played on from where it was (${names.of(m.winner_id)} no longer wins).`
      : report.winner_id === m.winner_id
        ? `${names.of(report.winner_id)} still wins.`
        : `${names.of(report.winner_id)} wins instead of ${names.of(m.winner_id)}.`;
    const apply = h("button", { type: "button", id: `apply-${m.id}`, class: begun.length ? "danger" : "primary",
      onclick: (e) => run(m, entry, e.currentTarget, async () => {
        if (begun.length && !await confirmAction({
          title: `Reset ${begun.length === 1 ? "a match that has" : `${begun.length} matches that have`} begun?`,
          text: [h("p", {}, `${undo ? "Undoing the correction of" : "Correcting"} ${matchTitle(m)} resets:`),
            h("ul", {}, begun.map((r) => h("li", {}, `${r.key} (${STATE_LABELS[r.state] ?? r.state})`))),
            h("p", {}, "Their scores, check-ins and reports are cleared and they are played again.")],
          confirm: `Reset ${begun.map((r) => r.key).join(", ")} and apply` })) return;
        const applied = await post(`/api/matches/${m.id}/correct`, { ...entry.body, force: begun.length > 0 });
        if (applied.match) book.merge(applied.match);
        open.delete(m.id);
        announce(byId("announcer"), `${matchTitle(m)} ${undo ? "correction undone" : "corrected"}`);
      }) }, undo ? "Undo it" : "Apply the correction");
    return h("div", { class: "preview", id: `correct-preview-${m.id}`, role: "status" },
      h("p", {}, undo ? "Undoing the last correction: " : "", who),
      resets.length
        ? h("p", {}, "Resets: ", resets.map((r) => `${r.key} (${STATE_LABELS[r.state] ?? r.state})`).join(", "),
          begun.length ? h("strong", {}, ` · ${begun.map((r) => r.key).join(", ")} ${begun.length === 1 ? "has" : "have"} begun`) : "")
        : h("p", {}, "No other match changes."),
      apply);
  }

  async function run(m, entry, el, action) {
    entry.error = "";
    if (el) el.disabled = true;
    try {
      await action();
    } catch (e) {
      entry.error = e.message || String(e);
    } finally {
      if (el) el.disabled = false;
      redraw();
    }
  }

  return { button, panel };
}

/** The games of a series that were decided (the ones a correction may change). */
function playedGames(m) {
  return m.series ? (m.games ?? []).filter((g) => g.state === "completed") : [];
}
