// The desk's tournament panel below its name: rename, exports, archive, and what ends or undoes
// the whole tournament (reset the bracket, cancel, delete), each confirmed first; deleting asks
// for the tournament's name.

import { del, download, patch, post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, busy, byId, h } from "./dom.js";

const EXPORTS = [["participants", "Participants"], ["matches", "Matches"], ["placements", "Placements"]];

/**
 * `tournamentDesk({tournamentId, onChanged, redraw})`: `view(tournament)` is the panel's actions;
 * `onChanged(tournament, {reset})` gets the tournament a write returned (`reset`: the bracket
 * was thrown away); `redraw()` asks for a draw.
 */
export function tournamentDesk({ tournamentId, onChanged, redraw }) {
  const base = `/api/tournaments/${tournamentId}`;
  let renaming = false;

  function renameForm(t, error) {
    const name = h("input", { id: "t-rename", value: t.name, required: true, maxlength: 200, autocomplete: "off" });
    const game = h("input", { id: "t-regame", value: t.game, maxlength: 200, autocomplete: "off" });
    const save = h("button", { type: "submit", class: "primary", id: "t-rename-save" }, "Save");
    return h("form", { class: "row", "aria-label": "Rename the tournament", onsubmit: (e) => {
      e.preventDefault();
      busy(save, error, async () => {
        for (const input of [name, game]) delete input.dataset.dirty;
        renaming = false;
        onChanged(await patch(base, { name: name.value.trim(), game: game.value.trim() }));
      });
    } },
    h("div", { class: "field" }, h("label", { for: "t-rename" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "t-regame" }, "Game"), game),
    save, h("button", { type: "button", onclick: () => { renaming = false; redraw(); } }, "Cancel"));
  }

  function view(t) {
    const error = h("p", { class: "error", role: "alert", id: "t-admin-error" });
    const action = (id, label, ask, doIt) => {
      const button = h("button", { type: "button", id, onclick: () => busy(button, error, async () => {
        if (await confirmAction(ask())) await doIt();
      }) }, label);
      return button;
    };
    const ended = ["completed", "cancelled"].includes(t.state);
    return h("section", { class: "t-admin", "aria-labelledby": "t-admin-title" },
      renaming ? renameForm(t, error) : h("p", { class: "row small" },
        h("button", { type: "button", class: "link", id: "t-rename-open", onclick: () => {
          renaming = true;
          redraw();
        } }, "Rename"),
        h("button", { type: "button", class: "link", id: "t-archive", onclick: (e) => busy(e.currentTarget, error, async () => {
          onChanged(await patch(base, { archived: !t.archived }));
          announce(byId("announcer"), t.archived ? "Back from the archive" : "Archived");
        }) }, t.archived ? "Bring back from the archive" : "Archive"),
        t.state === "draft" ? h("button", { type: "button", class: "link", id: "t-open-registration",
          onclick: (e) => busy(e.currentTarget, error, async () => {
            onChanged(await post(`${base}/open-registration`, {}));
            announce(byId("announcer"), "Registration opened");
          }) }, "Open registration") : null,
        t.archived ? h("span", { class: "badge", id: "t-archived" }, "Archived") : null),
      h("h3", { id: "t-admin-title" }, "Exports"),
      h("p", { class: "row small exports" },
        EXPORTS.flatMap(([what, label]) => ["csv", "json"].map((kind) =>
          exportButton(`export-${what}-${kind}`, `${label} (${kind.toUpperCase()})`, `${base}/export/${what}.${kind}`,
            `${slug(t.name)}-${what}.${kind}`, error))),
        t.format === "groups_playoffs" ? null // brackets-viewer takes one stage
          : exportButton("export-brackets-viewer", "Bracket (brackets-viewer JSON)",
            `${base}/bracket?format=brackets-viewer`, `${slug(t.name)}-brackets-viewer.json`, error)),
      h("h3", {}, "Undo or end"),
      h("div", { class: "row" },
        t.state === "live" ? action("t-reset", "Reset the bracket", () => ({
          title: "Reset the bracket?",
          text: h("p", {}, "Every match is deleted and the tournament goes back to registration; the participants "
            + "stay. Refused once a match has begun: correct results instead."),
          confirm: "Reset the bracket" }), async () => {
          onChanged(await post(`${base}/reset`, {}), { reset: true });
          announce(byId("announcer"), "Bracket reset");
        }) : null,
        ended ? null : action("t-cancel", "Cancel the tournament", () => ({
          title: `Cancel ${t.name}?`,
          text: h("p", {}, "Every match not yet over is cancelled, and nothing can be played any more. "
            + "The results so far stay readable."),
          confirm: "Cancel the tournament" }), async () => {
          onChanged(await post(`${base}/cancel`, {}));
          announce(byId("announcer"), "Tournament cancelled");
        }),
        t.state === "live" ? null : action("t-delete", "Delete the tournament", () => ({
          title: `Delete ${t.name}?`,
          text: h("p", {}, "The tournament, its participants, matches, results and logs are removed for good. "
            + "Links to it stop working."),
          typed: t.name,
          confirm: "Delete it for good" }), async () => {
          await del(`${base}?confirm=${encodeURIComponent(t.name)}`);
          location.assign("/organize");
        })),
      t.state === "live" ? h("p", { class: "muted small" }, "A live tournament is deleted once cancelled.") : null,
      error);
  }

  return { view };
}

function exportButton(id, label, path, filename, error) {
  const button = h("button", { type: "button", class: "link", id,
    onclick: () => busy(button, error, () => download(path, filename)) }, label);
  return button;
}

/** A file name from a tournament's name: "Friday Scrims #3" -> "friday-scrims-3". */
function slug(name) {
  return name.normalize("NFKD").replace(/[^\w]+/g, "-").replace(/^-|-$/g, "").toLowerCase() || "tournament";
}
