// Teams as the pages show them. On the desk, a participant row's roster: its tag and members
// (id, name, role), saved whole (PUT .../roster; once started only as an override, asked first),
// and who may act for a team (the tournament's `team_actors`). On a member's pages: who they
// are in their team ("Ann, captain of Red").

import { patch, put } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, h } from "./dom.js";

export const ROLES = { captain: "captain", player: "player", substitute: "substitute" };
const ACTORS = { captain: "The captain only", any: "The captain or any player" };
const MAX_MEMBERS = 16; // tournament/teams.py MAX_MEMBERS

/** `{team, member}`: the team (a participant) whose roster holds `memberId`, or null. */
export function teamOf(participants, memberId) {
  for (const team of participants ?? []) {
    const member = team.team?.members.find((m) => m.id === memberId);
    if (member) return { team, member };
  }
  return null;
}

/** "Ann, captain of Red". */
export function memberLabel({ team, member }) {
  return `${member.name}, ${member.role} of ${team.name}`;
}

/**
 * `rosterDesk({tournamentId, redraw, act})` for the participants panel: `button(p, started)`,
 * `summary(p)` and `editor(p, started)` for a row, `isOpen(id)`, and `actorsView(tournament,
 * participants)`, the team_actors setting. `act(button, action)` runs a write and reads the
 * list again (participantdesk.js); the editor's refusals stay in this module's state.
 */
export function rosterDesk({ tournamentId, redraw, act }) {
  const base = `/api/tournaments/${tournamentId}`;
  let open = null; // the participant id whose roster editor is open
  let draft = null; // {tag, members: [{key, id, name, role}]}: what the organizer typed, kept across redraws
  let refusal = null; // {message, memberId}: the editor's last refusal (what was typed stays)
  let nextKey = 0; // a member row's key: its inputs' ids stay its own when a row above goes
  let actorsError = "";
  let actorsSaved = null; // the tournament as the last team_actors change answered, until the socket brings it

  function row(member) {
    nextKey += 1;
    return { key: nextKey, id: member?.id ?? "", name: member?.name ?? "", role: member?.role ?? "player" };
  }

  function start(p) {
    open = p.id;
    refusal = null;
    const members = p.team?.members ?? [];
    draft = { tag: p.team?.tag ?? "", members: members.length ? members.map(row) : [row({ role: "captain" }), row()] };
    redraw();
    requestAnimationFrame(() => byId(`roster-tag-${p.id}`)?.focus());
  }

  function close() {
    open = null;
    draft = null;
    refusal = null;
    redraw();
  }

  /** The row's "Roster" button: before the start any participant's; after it a team's override. */
  function button(p, started) {
    if (started && !p.team) return null; // a solo participant becomes a team only before the start
    return h("button", { type: "button", class: "link", id: `roster-${p.id}`, "aria-label": `Roster of ${p.name}`,
      "aria-expanded": open === p.id ? "true" : "false", onclick: () => (open === p.id ? close() : start(p)) },
    started ? "Roster (override)" : "Roster");
  }

  /** A team's tag and members in one line, the captain marked. */
  function summary(p) {
    if (!p.team) return null;
    return h("div", { class: "team-line", id: `team-${p.id}` },
      h("span", { class: "badge team-tag" }, p.team.tag), " ",
      p.team.members.map((m, i) => [i ? ", " : "", h("span", { class: `member member-${m.role}` }, m.name,
        m.role === "captain" ? h("abbr", { class: "role-mark", title: "captain" }, " (C)") : null,
        m.role === "substitute" ? h("span", { class: "role-mark" }, " (sub)") : null)]));
  }

  function isOpen(id) {
    return open === id;
  }

  function editor(p, started) {
    if (open !== p.id || !draft) return null;
    const pid = p.id;
    const save = h("button", { type: "submit", class: started ? "danger" : "primary", id: `roster-save-${pid}` },
      started ? "Save the override…" : "Save the roster");
    const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);
    const tag = h("input", { id: `roster-tag-${pid}`, value: draft.tag, required: true, maxlength: 8, autocomplete: "off",
      oninput: (e) => { draft.tag = e.currentTarget.value; } });
    return h("form", { class: "stack roster-editor", "aria-label": `Roster of ${p.name}`, novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        submit(p, started, save);
      } },
    h("h3", {}, started ? `${p.name}'s roster: an override` : `${p.name}'s roster`),
    started ? h("p", { class: "hint small" }, "The tournament has started: a change here replaces the roster, "
      + "the old one is kept in the record, and members taken off lose their links at once.") : null,
    field(`roster-tag-${pid}`, "Tag (up to 8 characters)", tag),
    h("fieldset", { class: "roster-members" },
      h("legend", {}, `Members (${draft.members.length} of at most ${MAX_MEMBERS}; exactly one captain)`),
      h("ol", { class: "roster-rows" }, draft.members.map((m, i) => memberRow(pid, m, i))),
      h("button", { type: "button", id: `roster-add-${pid}`, disabled: draft.members.length >= MAX_MEMBERS,
        onclick: () => {
          draft.members.push(row());
          redraw();
          const added = draft.members.at(-1);
          requestAnimationFrame(() => byId(`roster-${pid}-m${added.key}-id`)?.focus());
        } }, "Add a member")),
    h("p", { class: "error", role: "alert", id: `roster-error-${pid}` }, refusal?.message ?? ""),
    h("p", { class: "row" }, save,
      h("button", { type: "button", id: `roster-cancel-${pid}`, onclick: close }, "Cancel")));
  }

  function memberRow(pid, m, index) {
    const id = (what) => `roster-${pid}-m${m.key}-${what}`;
    const invalid = refusal?.memberId && refusal.memberId === m.id.trim();
    const number = index + 1;
    const label = (what, words) => h("label", { for: id(what) }, h("span", { class: "visually-hidden" }, `Member ${number} `), words);
    const text = (what, words, attrs) => h("div", { class: `field m-${what}` }, label(what, words),
      h("input", { id: id(what), value: m[what], autocomplete: "off", spellcheck: "false",
        "aria-invalid": what === "id" && invalid ? "true" : null,
        oninput: (e) => { m[what] = e.currentTarget.value; }, ...attrs }));
    return h("li", { class: `roster-row${invalid ? " invalid" : ""}`, dataset: { memberKey: m.key },
      "aria-label": `Member ${number}` },
    text("id", "id", { maxlength: 64, pattern: "[A-Za-z0-9_\\-]{1,64}", required: true }),
    text("name", "name", { maxlength: 100, placeholder: "the id" }),
    h("div", { class: "field m-role" }, label("role", "role"),
      h("select", { id: id("role"), onchange: (e) => { m.role = e.currentTarget.value; } },
        Object.entries(ROLES).map(([value, label]) => h("option", { value, selected: m.role === value }, label)))),
    h("button", { type: "button", class: "link m-remove", id: id("remove"), "aria-label": `Remove member ${number}`,
      disabled: draft.members.length <= 1, onclick: () => {
        draft.members = draft.members.filter((other) => other !== m);
        redraw();
      } }, "Remove"));
  }

  async function submit(p, started, button) {
    const body = {
      tag: draft.tag.trim(),
      members: draft.members.map((m) => ({ id: m.id.trim(), name: m.name.trim() || m.id.trim(), role: m.role })),
    };
    if (started) {
      const yes = await confirmAction({ title: `Override ${p.name}'s roster?`,
        text: [h("p", {}, `The tournament has started. ${p.name}'s roster becomes: `
          + `${body.members.map((m) => `${m.name} (${m.role})`).join(", ")}.`),
        h("p", {}, "The old roster is kept in the record; a member taken off loses their link and their open pages close.")],
        confirm: `Override ${p.name}'s roster` });
      if (!yes) return;
      body.override = true;
    }
    refusal = null;
    let saved = false;
    await act(button, async () => {
      try {
        await put(`${base}/participants/${encodeURIComponent(p.id)}/roster`, body);
        saved = true;
      } catch (e) {
        refusal = refusalOf(e, p); // in the editor, which stays open with what was typed
      }
    });
    if (saved) {
      open = null;
      draft = null;
      announce(byId("announcer"), `${p.name}'s roster saved`);
      redraw();
    } else {
      redraw();
      requestAnimationFrame(() => byId(`roster-error-${p.id}`)?.scrollIntoView({ block: "nearest" }));
    }
  }

  function refusalOf(e, p) {
    const memberId = e.details?.member_id ?? null;
    if (e.code === "roster_locked" && p.team) {
      return { message: "Not saved: the tournament has started meanwhile. Save again to change the roster as an "
        + "override (you are asked first).", memberId };
    }
    const field = e.details?.field;
    const message = field && e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
    return { message: `Not saved: ${message}`, memberId };
  }

  /** Who acts for a team: the tournament's team_actors, saved when chosen. */
  function actorsView(tournament, participants) {
    if (!participants.some((p) => p.team)) return null;
    const current = actorsSaved && actorsSaved.version > (tournament.version ?? 0) ? actorsSaved : tournament;
    const select = h("select", { id: "team-actors", onchange: () => act(select, async () => {
      actorsError = "";
      try {
        actorsSaved = await patch(base, { team_actors: select.value });
        delete select.dataset.dirty; // the redraw shows the tournament's own value
        announce(byId("announcer"), "Saved: who acts for a team");
      } catch (err) {
        actorsError = err.message;
      }
    }) }, Object.entries(ACTORS).map(([value, label]) => h("option", { value,
      selected: (current.team_actors ?? "captain") === value }, label)));
    return h("div", { class: "team-actors" },
      h("div", { class: "field" }, h("label", { for: "team-actors" }, "Who acts for a team (reports, confirms, checks in, vetoes)"),
        select, h("small", {}, "Every member can follow their team's matches and chat; substitutes never act.")),
      h("p", { class: "error", role: "alert", id: "team-actors-error" }, actorsError));
  }

  return { button, summary, editor, isOpen, actorsView };
}
