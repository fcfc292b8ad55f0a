// The number inputs of a two-player score (a result, a dispute's decision, a correction), one
// per player in slot order, and reading them back.

import { h } from "./dom.js";

/** One labelled number input per player of `m`, ids `${prefix}-${m.id}-${slot}`, filled from `initial`. */
export function scoreInputs(m, names, prefix, initial) {
  return h("div", { class: "row" }, m.participant_ids.map((p, slot) => h("div", { class: "field" },
    h("label", { for: `${prefix}-${m.id}-${slot}` }, names.of(p)),
    h("input", { id: `${prefix}-${m.id}-${slot}`, name: p, type: "number", inputmode: "numeric", min: 0,
      max: 1000000, required: true, value: initial[p] ?? 0 }))));
}

/** The scores typed into `form`'s number inputs, by participant id; the inputs count as untouched again. */
export function readScores(form) {
  const inputs = [...form.querySelectorAll("input[type=number]")];
  for (const input of inputs) delete input.dataset.dirty;
  return Object.fromEntries(inputs.map((input) => [input.name, Number(input.value)]));
}
