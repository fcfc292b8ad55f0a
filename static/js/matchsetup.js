// Before a match starts, its card changes the match's format and runs its map veto; and the
// form helpers the start form shares (formats as select values, comma separated pools, the map
// veto's fields: the tournament's and the group stage's own).

import { post } from "./api.js";
import { byId, h } from "./dom.js";
import { formatLabel, renderVeto } from "./series.js";

/** The formats a form offers, as select values: best of 1 to 9 ("bo3"), all 2 to 5 games ("all2"). */
const FORMAT_VALUES = ["bo1", "bo3", "bo5", "bo7", "bo9", "all2", "all3", "all4", "all5"];

/** A select value ("bo3", "all2") as a format ({best_of, play_all}). */
export function formatOf(value) {
  const [, kind, count] = /^(bo|all)(\d)$/.exec(value) ?? [null, "bo", "1"];
  return { best_of: Number(count), play_all: kind === "all" };
}

function valueOf(format) {
  return `${format?.play_all ? "all" : "bo"}${format?.best_of ?? 1}`;
}

/** The options of a format select, `selected` chosen (and offered even if it is not a usual one). */
export function formatOptions(selected) {
  const chosen = valueOf(selected);
  const values = FORMAT_VALUES.includes(chosen) ? FORMAT_VALUES : [...FORMAT_VALUES, chosen];
  return values.map((value) => h("option", { value, selected: value === chosen },
    formatLabel(formatOf(value)) ?? "Best of 1"));
}

/** "Mirage, Inferno ,, Nuke" as ["Mirage", "Inferno", "Nuke"]. */
export function nameList(text) {
  return text.split(/[,\n]/).map((name) => name.trim()).filter(Boolean);
}

/** A veto config from a form's comma separated pool and sides. Throws Error (no map, not two sides). */
export function vetoConfig(poolText, sidesText) {
  const pool = nameList(poolText);
  const sides = nameList(sidesText);
  if (!pool.length) throw new Error("Map pool: name the maps, comma separated (Mirage, Inferno, Nuke, …).");
  if (sides.length && sides.length !== 2) throw new Error("Sides: two names, comma separated (CT, T), or none.");
  return sides.length ? { pool, sides } : { pool };
}

/** A start form's field: its label, the input, a hint under it (`${id}-hint`, which the input
 * should name in aria-describedby). */
export function formField(id, label, input, hint) {
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("small", { id: `${id}-hint` }, hint) : null);
}

/** The words of the tournament's veto fields; a stage's own veto gives its own (labels stay
 * apart, so each is found by its label). */
const VETO_WORDS = {
  pool: "Map pool (optional)", poolHint: "Comma separated. With a pool, each match card can run a map veto.",
  sides: "Sides (optional)", first: "Who starts the veto", turn: "Seconds per turn (optional)",
  onTimeout: "When a turn’s time runs out",
};

/** A start form's map veto fields (the pool, sides, who starts, seconds per turn and what their
 * running out does), their ids from `prefix`: `${prefix}pool`, `sides`, `veto-first`, `turn-s`,
 * `on-timeout`. `words` changes the labels (VETO_WORDS' keys). */
export function vetoFields(prefix, words = {}) {
  const w = { ...VETO_WORDS, ...words };
  const text = (id, placeholder, hinted = false) => h("input", { id, placeholder, maxlength: 700, autocomplete: "off",
    "aria-describedby": hinted ? `${id}-hint` : null });
  const choices = (id, name, options) => h("select", { id, name, "aria-describedby": `${id}-hint` },
    options.map(([value, label]) => h("option", { value }, label)));
  return [
    formField(`${prefix}pool`, w.pool, text(`${prefix}pool`, "Mirage, Inferno, Nuke, …", true), w.poolHint),
    formField(`${prefix}sides`, w.sides, text(`${prefix}sides`, "CT, T")),
    formField(`${prefix}veto-first`, w.first, choices(`${prefix}veto-first`, "first", [
      ["higher_seed", "The higher seed"], ["coin_flip", "A coin flip"], ["organizer", "I choose, on each match"]]),
    "With “I choose”, a match card asks which player takes the first turn."),
    formField(`${prefix}turn-s`, w.turn, h("input", { id: `${prefix}turn-s`, type: "number", min: 5, max: 3600,
      inputmode: "numeric" })),
    formField(`${prefix}on-timeout`, w.onTimeout, choices(`${prefix}on-timeout`, "on_timeout", [
      ["random", "A random choice is taken"], ["wait", "The turn waits for its player"]]),
    "With seconds per turn only. A random choice: a ban, a pick or a side."), // short options fit a phone
  ];
}

/** The veto config `vetoFields(prefix)` holds, or null when they name no pool. Throws Error for
 * sides or seconds without a pool, and as vetoConfig. */
export function vetoFromFields(prefix) {
  const [pool, sides, turn] = ["pool", "sides", "turn-s"].map((name) => byId(`${prefix}${name}`).value.trim());
  if (!pool) {
    if (sides || turn) throw new Error("Sides and seconds per turn are for a map veto: name its map pool too.");
    return null;
  }
  const config = { ...vetoConfig(pool, sides), first: byId(`${prefix}veto-first`).value,
    on_timeout: byId(`${prefix}on-timeout`).value };
  if (turn) config.turn_s = Number(turn);
  return config;
}

/** The config a veto was started with, to start it again (a custom ban/pick order is not kept). */
function sameConfig(veto) {
  return { pool: veto.pool, sides: veto.sides.length ? veto.sides : undefined, first: veto.chosen_by,
    first_id: veto.chosen_by === "organizer" ? veto.first : undefined,
    turn_s: veto.turn_s ?? undefined, on_timeout: veto.on_timeout };
}

/**
 * `matchSetup({names, run, redraw})`: `view(m)` is the format and veto part of a card before
 * its match starts. `run(matchId, button, action)` is the desk's: it runs a write, shows its
 * refusal and merges the match it answers.
 */
export function matchSetup({ names, run, redraw }) {
  const poolForms = new Set(); // match ids whose card asks for a map pool of its own
  const firstForms = new Set(); // match ids whose card asks who starts (the tournament's veto: "organizer")
  const lastVetos = new Map(); // match id -> the config of its last veto (a format change clears the veto)

  function view(m) {
    const id = m.id;
    const select = h("select", { id: `fmt-${id}`, name: "format", "aria-label": "Games in this match" },
      formatOptions(m.format));
    const change = () => run(id, byId(`format-${id}`), async () => {
      const answer = await post(`/api/matches/${id}/format`, { format: formatOf(select.value) });
      delete select.dataset.dirty; // the card shows the match's format again
      return answer;
    });
    return h("div", { class: "match-setup" },
      h("div", { class: "field" },
        h("span", { class: "small muted" }, "Games: ", h("span", { id: `format-now-${id}` },
          formatLabel(m.format) ?? "Best of 1")),
        h("div", { class: "row" }, select,
          h("button", { type: "button", id: `format-${id}`, onclick: change }, "Change"))),
      vetoSetup(m));
  }

  function vetoSetup(m) {
    const id = m.id;
    const veto = m.veto;
    if (!veto) {
      const last = lastVetos.get(id);
      return [last ? h("p", { class: "hint small" }, "The format changed, so the veto was cleared.") : null,
        h("p", { class: "row" },
        last ? h("button", { type: "button", id: `veto-restart-${id}`,
          onclick: (e) => run(id, e.currentTarget, () => startVeto(id, last)) }, "Start the veto again")
          : h("button", { type: "button", id: `veto-start-${id}`,
            onclick: (e) => run(id, e.currentTarget, () => startVeto(id, {})) }, "Start the map veto"),
        poolForms.has(id) ? null : h("button", { type: "button", class: "link", id: `veto-other-${id}`,
          onclick: () => {
            poolForms.add(id);
            redraw();
          } }, "Use another map pool")),
      firstForms.has(id) ? firstForm(m) : null,
      poolForms.has(id) ? poolForm(m) : null];
    }
    lastVetos.set(id, sameConfig(veto));
    return [
      renderVeto(m, names, veto.complete ? {} : {
        canAct: () => true, // an organizer takes any player's turn for them
        onTake: (choice, button) => run(id, button, () => post(`/api/matches/${id}/veto`, choice)),
        idPrefix: `veto-${id}`,
      }),
      h("p", { class: "row small" },
        h("button", { type: "button", class: "link", id: `veto-restart-${id}`,
          onclick: (e) => run(id, e.currentTarget, () => startVeto(id, sameConfig(veto))) }, "Start the veto again")),
    ];
  }

  /** POST start-veto; a tournament without a map pool (422 on `pool`) opens the card's pool form,
   * and one whose organizer chooses who starts (422 on `first_id`) asks for the player. */
  async function startVeto(id, body) {
    try {
      const answer = await post(`/api/matches/${id}/start-veto`, body);
      poolForms.delete(id);
      firstForms.delete(id);
      return answer;
    } catch (e) {
      if (e.status === 422 && e.details?.field === "pool") poolForms.add(id);
      if (e.status === 422 && e.details?.field === "first_id") firstForms.add(id);
      throw e;
    }
  }

  /** Who takes the first turn of the tournament's veto: one button per player. */
  function firstForm(m) {
    const id = m.id;
    return [h("p", { class: "small", id: `veto-first-title-${id}` }, "Who takes the first turn?"),
      h("p", { class: "row veto-first", role: "group", "aria-labelledby": `veto-first-title-${id}` },
        m.participant_ids.map((pid) => h("button", { type: "button", id: `veto-first-${id}-${pid}`,
          onclick: (e) => run(id, e.currentTarget, () => startVeto(id, { first: "organizer", first_id: pid })) },
        `${names.of(pid)} starts`)))];
  }

  function poolForm(m) {
    const id = m.id;
    const pool = h("input", { id: `veto-pool-${id}`, name: "pool", required: true, maxlength: 700, autocomplete: "off",
      placeholder: "Mirage, Inferno, Nuke, …", "aria-describedby": `veto-pool-hint-${id}` });
    const sides = h("input", { id: `veto-sides-${id}`, name: "sides", maxlength: 90, autocomplete: "off",
      placeholder: "CT, T" });
    return h("form", {
      class: "stack veto-setup",
      onsubmit: (e) => {
        e.preventDefault();
        run(id, byId(`veto-custom-${id}`), async () => {
          const answer = await startVeto(id, { ...vetoConfig(pool.value, sides.value), first: "higher_seed" });
          for (const input of [pool, sides]) delete input.dataset.dirty;
          return answer;
        });
      },
    },
    h("div", { class: "field" }, h("label", { for: `veto-pool-${id}` }, "Map pool for this match"), pool,
      h("small", { id: `veto-pool-hint-${id}` }, "Comma separated; the higher seed starts.")),
    h("div", { class: "field" }, h("label", { for: `veto-sides-${id}` }, "Sides for this match (optional)"), sides),
    h("button", { type: "submit", id: `veto-custom-${id}` }, "Start the veto with this pool"));
  }

  return { view };
}
