// The desk's participants panel. Before the start: add one, add many (pasted lines or a CSV
// file; the server names each bad row and adds nothing), edit a name or seed, remove, and
// re-seed by moving rows (buttons, or drag and drop) then saving the order. Once started:
// rename (a typo fixed mid-event), and disqualify (every match left to them is forfeited).
// Each row's roster (a team's tag and members) is edited in place (rosterdesk.js).

import { del, get, patch, post, put } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, h } from "./dom.js";
import { rosterDesk } from "./rosterdesk.js";

/**
 * `participantDesk({tournamentId, redraw, changed})`: `view(tournament, participants)` is the
 * panel; `changed(participants)` takes the list after a write of this panel (the socket's
 * events bring the same, and others' writes).
 */
export function participantDesk({ tournamentId, redraw, changed }) {
  const base = `/api/tournaments/${tournamentId}`;
  let editing = null; // the participant id whose edit form is open
  let order = null; // while re-seeding: participant ids in the new order
  let dragged = null;
  let rowErrors = []; // a bulk add's refused rows
  let chosen = null; // {name, text}: the CSV file chosen, read at once (a redraw cannot keep a file input's choice)
  const errors = { people: "", add: "", bulk: "" }; // the last refusal of each form
  const rosters = rosterDesk({ tournamentId, redraw, act: (button, action) => act(button, action) });

  function view(tournament, participants) {
    const registering = ["draft", "registration"].includes(tournament.state);
    const live = tournament.state === "live";
    const out = new Set((tournament.disqualified ?? []).map((d) => d.participant_id));
    const byId_ = new Map(participants.map((p) => [p.id, p]));
    if (order && (!registering || order.length !== participants.length || order.some((id) => !byId_.has(id)))) {
      order = null; // the list changed under the re-seeding: start it again
    }
    const shown = order ? order.map((id) => byId_.get(id)) : seedOrder(tournament, participants);
    return [
      h("h2", {}, `Participants (${participants.length})`),
      shown.length ? h("ol", { class: `people ${order ? "reseeding" : ""}`, id: "participants" },
        shown.map((p, i) => row(p, i, shown.length, { registering, live, out }))) : h("p", { class: "empty" }, "Nobody yet."),
      registering && participants.length > 1 ? reseedControls(participants) : null,
      rosters.actorsView(tournament, participants),
      h("p", { class: "error", role: "alert", id: "people-error" }, errors.people),
      registering ? [addOne(), addMany()] : null,
    ];
  }

  function seedOrder(tournament, participants) {
    if (tournament.seed_order?.length) {
      const byId_ = new Map(participants.map((p) => [p.id, p]));
      return [...tournament.seed_order.map((id) => byId_.get(id)).filter(Boolean),
        ...participants.filter((p) => !tournament.seed_order.includes(p.id))];
    }
    return participants; // registration order, as the server lists them (seeds shown beside)
  }

  function row(p, index, count, { registering, live, out }) {
    if (editing === p.id) return h("li", { dataset: { participantId: p.id } }, editForm(p, registering));
    const disqualified = out.has(p.id);
    const attrs = { dataset: { participantId: p.id } };
    if (order) {
      Object.assign(attrs, {
        draggable: "true",
        ondragstart: (e) => {
          dragged = p.id;
          e.dataTransfer.effectAllowed = "move";
          e.dataTransfer.setData("text/plain", p.id);
        },
        ondragover: (e) => e.preventDefault(),
        ondrop: (e) => {
          e.preventDefault();
          if (dragged && dragged !== p.id) move(dragged, order.indexOf(p.id));
          dragged = null;
        },
      });
    }
    return h("li", attrs,
      h("span", { class: "name" }, p.name), " ",
      h("span", { class: "muted" }, order ? `seed ${index + 1}` : `${p.id}${p.seed ? ` · seed ${p.seed}` : ""}`),
      disqualified ? h("span", { class: "badge dq" }, "Disqualified") : null,
      order ? h("span", { class: "row small" },
        h("button", { type: "button", class: "arrow", id: `up-${p.id}`, "aria-label": `Move ${p.name} up`,
          disabled: index === 0, onclick: () => move(p.id, index - 1) }, "↑"),
        h("button", { type: "button", class: "arrow", id: `down-${p.id}`, "aria-label": `Move ${p.name} down`,
          disabled: index === count - 1, onclick: () => move(p.id, index + 1) }, "↓"))
        : h("span", { class: "row small person-actions" },
          h("button", { type: "button", class: "link", id: `edit-${p.id}`, "aria-label": `Edit ${p.name}`,
            onclick: () => { editing = p.id; redraw(); } }, registering ? "Edit" : "Rename"),
          registering ? h("button", { type: "button", class: "link", id: `remove-${p.id}`, "aria-label": `Remove ${p.name}`,
            onclick: (e) => act(e.currentTarget, async () => {
              if (!await confirmAction({ title: `Remove ${p.name}?`,
                text: h("p", {}, `${p.name} leaves the tournament before it starts; their player link stops working.`),
                confirm: `Remove ${p.name}` })) return;
              await del(`${base}/participants/${encodeURIComponent(p.id)}`);
              announce(byId("announcer"), `${p.name} removed`);
            }) }, "Remove") : null,
          live && !disqualified ? h("button", { type: "button", class: "link", id: `disqualify-${p.id}`,
            "aria-label": `Disqualify ${p.name}`, onclick: (e) => act(e.currentTarget, () => disqualify(p)) },
          "Disqualify") : null,
          rosters.button(p, !registering)),
      rosters.summary(p),
      order ? null : rosters.editor(p, !registering));
  }

  async function disqualify(p) {
    const reason = h("input", { id: "dq-reason", maxlength: 500, autocomplete: "off" });
    if (!await confirmAction({ title: `Disqualify ${p.name}?`,
      text: [h("p", {}, `${p.name} forfeits every match left to them, now and as the bracket reaches them. `
        + "Results already played stay."),
      h("div", { class: "field" }, h("label", { for: "dq-reason" }, "Reason (optional, kept in the record)"), reason)],
      confirm: `Disqualify ${p.name}` })) return;
    await post(`${base}/participants/${encodeURIComponent(p.id)}/disqualify`, { reason: reason.value.trim() });
    announce(byId("announcer"), `${p.name} disqualified`);
  }

  function editForm(p, registering) {
    const name = h("input", { id: `edit-name-${p.id}`, value: p.name, required: true, maxlength: 100, autocomplete: "off" });
    const seed = registering ? h("input", { id: `edit-seed-${p.id}`, type: "number", min: 1, max: 4096,
      inputmode: "numeric", value: p.seed ?? "" }) : null;
    const save = h("button", { type: "submit", class: "primary", id: `save-${p.id}` }, "Save");
    return h("form", { class: "row person-edit", "aria-label": `Edit ${p.name}`, onsubmit: (e) => {
      e.preventDefault();
      act(save, async () => {
        const body = { name: name.value.trim() };
        if (seed) body.seed = seed.value ? Number(seed.value) : null;
        await patch(`${base}/participants/${encodeURIComponent(p.id)}`, body);
        editing = null;
        announce(byId("announcer"), `${body.name} saved`);
      });
    } },
    h("div", { class: "field" }, h("label", { for: `edit-name-${p.id}` }, "Name"), name),
    seed ? h("div", { class: "field" }, h("label", { for: `edit-seed-${p.id}` }, "Seed"), seed) : null,
    save,
    h("button", { type: "button", id: `cancel-edit-${p.id}`, onclick: () => { editing = null; redraw(); } }, "Cancel"));
  }

  function reseedControls(participants) {
    if (!order) {
      return h("p", { class: "row" }, h("button", { type: "button", id: "reseed", onclick: () => {
        order = seedOrder({}, [...participants].sort((a, b) => (a.seed ?? Infinity) - (b.seed ?? Infinity)))
          .map((p) => p.id);
        redraw();
      } }, "Re-seed"), h("span", { class: "muted small" }, "Put the players in seed order, 1 first."));
    }
    const save = h("button", { type: "button", class: "primary", id: "reseed-save", onclick: () => act(save, async () => {
      await put(`${base}/seeds`, { order });
      order = null;
      announce(byId("announcer"), "Seeding saved");
    }) }, "Save the seeding");
    return h("p", { class: "row" }, save,
      h("button", { type: "button", id: "reseed-cancel", onclick: () => { order = null; redraw(); } }, "Cancel"),
      h("span", { class: "muted small" }, "Drag the rows, or move them with the arrows."));
  }

  function move(id, to) {
    const from = order.indexOf(id);
    if (from < 0 || to < 0 || to >= order.length) return;
    order.splice(to, 0, ...order.splice(from, 1));
    announce(byId("announcer"), `seed ${to + 1}`);
    redraw();
  }

  /** Run a write of the panel with `button` disabled; its refusal goes to `errors[where]`; the
   * list is read again afterwards either way (a refusal may come of someone else's change). */
  async function act(button, action, where = "people") {
    errors[where] = "";
    if (button) button.disabled = true;
    try {
      await action();
      return true;
    } catch (e) {
      errors[where] = e.message || String(e);
      return false;
    } finally {
      if (button) button.disabled = false;
      try {
        changed((await get(`${base}/participants`)).participants);
      } catch {
        // the socket's events bring the list too
      }
      redraw();
    }
  }

  // -- adding ------------------------------------------------------------------------------

  function addOne() {
    const name = h("input", { id: "p-name", name: "name", required: true, maxlength: 100, autocomplete: "off" });
    const id = h("input", { id: "p-id", name: "id", maxlength: 64, pattern: "[A-Za-z0-9_\\-]{1,64}",
      autocomplete: "off", "aria-describedby": "p-id-hint" });
    const seed = h("input", { id: "p-seed", name: "seed", type: "number", min: 1, max: 4096, inputmode: "numeric" });
    const submit = h("button", { type: "submit", id: "p-add" }, "Add");
    const error = h("p", { class: "error", role: "alert", id: "p-error" }, errors.add);
    return h("form", {
      class: "stack",
      onsubmit: async (e) => {
        e.preventDefault();
        const added = await act(submit, async () => {
          const body = { name: name.value.trim() };
          if (id.value.trim()) body.id = id.value.trim();
          if (seed.value) body.seed = Number(seed.value);
          const participant = await post(`${base}/participants`, body);
          for (const input of [name, id, seed]) delete input.dataset.dirty; // the redraw empties them
          announce(byId("announcer"), `${participant.name} added`);
        }, "add");
        if (added) byId("p-name")?.focus();
      },
    },
    h("h3", {}, "Add a participant"),
    h("div", { class: "field" }, h("label", { for: "p-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "p-id" }, "Player id (optional)"), id,
      h("small", { id: "p-id-hint" }, "Letters, digits, _ and -: the id in this player's token.")),
    h("div", { class: "field" }, h("label", { for: "p-seed" }, "Seed (optional)"), seed),
    submit, error);
  }

  function addMany() {
    const text = h("textarea", { id: "bulk-text", rows: 5, spellcheck: "false", "aria-describedby": "bulk-hint" });
    const file = h("input", { id: "bulk-file", type: "file", accept: ".csv,text/csv,text/plain",
      "aria-describedby": "bulk-chosen", onchange: async (e) => {
        const picked = e.currentTarget.files?.[0];
        chosen = picked ? { name: picked.name, text: await picked.text() } : null;
        redraw();
      } });
    const submit = h("button", { type: "submit", id: "bulk-add" }, "Add them all");
    const error = h("p", { class: "error", role: "alert", id: "bulk-error" }, errors.bulk);
    return h("form", {
      class: "stack bulk-add",
      onsubmit: (e) => {
        e.preventDefault();
        rowErrors = [];
        act(submit, async () => {
          const csv = chosen ? chosen.text : text.value;
          if (!csv.trim()) throw new Error("Paste names (one per line) or choose a CSV file first.");
          try {
            const { participants: added } = await post(`${base}/participants/bulk`, { csv });
            delete text.dataset.dirty; // the redraw empties it
            chosen = null;
            announce(byId("announcer"), `${added.length} added`);
          } catch (err) {
            rowErrors = err.details?.rows ?? [];
            throw err;
          }
        }, "bulk");
      },
    },
    h("h3", {}, "Add many"),
    h("div", { class: "field" }, h("label", { for: "bulk-text" }, "One per line: name, or name,seed,id"), text,
      h("small", { id: "bulk-hint" }, "A first line “name,seed,id” is a header. Names with commas go in quotes.")),
    h("div", { class: "field" }, h("label", { for: "bulk-file" }, "Or a CSV file"), file,
      chosen ? h("small", { id: "bulk-chosen" }, `${chosen.name}: ${chosen.text.split(/\r?\n/).filter((l) => l.trim()).length} lines, `
        + "added instead of the box above. ", h("button", { type: "button", class: "link", id: "bulk-unchoose",
        onclick: () => { chosen = null; redraw(); } }, "Use the box")) : null),
    submit, error,
    rowErrors.length ? h("ul", { class: "row-errors", id: "bulk-rows" }, rowErrors.map((r) =>
      h("li", {}, `Row ${r.row}: ${r.message}`))) : null);
  }

  return { view };
}
