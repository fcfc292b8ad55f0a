// Building the DOM without innerHTML (server text always goes in as text), and redrawing
// a region without losing the reader's focus or what they were typing.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

// Inputs the reader has typed in keep their value across redraws until the form is done.
document.addEventListener("input", (e) => {
  if (e.target instanceof HTMLElement) e.target.dataset.dirty = "1";
});

/** Replace `target`'s children; focus and typed values of elements with ids survive. Children
 * that come out as the markup already there leave it as it is (a redraw for another region's
 * change, a presence tick): nothing the reader is doing in it is disturbed. */
export function render(target, ...children) {
  const next = document.createElement(target.tagName);
  append(next, children);
  // What the reader typed marks its fields (data-dirty): that alone is no change to draw.
  if (next.innerHTML === target.innerHTML.replaceAll(' data-dirty="1"', "")) return;
  const active = document.activeElement;
  const focusId = active && active !== document.body && target.contains(active) ? active.id : "";
  const typed = new Map();
  for (const input of target.querySelectorAll("[id][data-dirty]")) {
    // a file's choice cannot be put back; a box or a radio button keeps whether it is ticked
    if (input.type !== "file") typed.set(input.id, { value: input.value, checked: input.checked });
  }
  // The field being typed in keeps its value even before its first input event (a redraw in the
  // middle of a paste or of a test's fill), and its caret where the field has one; it counts as
  // typed in only once it is.
  const field = focusId && ["INPUT", "TEXTAREA"].includes(active.tagName) && active.type !== "file"
    && !typed.has(focusId) ? active.value : null;
  let caret = null;
  try {
    caret = focusId && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
  } catch {
    caret = null; // number inputs have no selection
  }
  target.replaceChildren(...next.childNodes);
  for (const [id, { value, checked }] of typed) {
    const input = document.getElementById(id);
    if (!input || !("value" in input)) continue;
    if (input.type === "checkbox" || input.type === "radio") input.checked = checked;
    else input.value = value;
    input.dataset.dirty = "1";
  }
  if (focusId) {
    const again = document.getElementById(focusId);
    if (field !== null && again && "value" in again) again.value = field;
    again?.focus({ preventScroll: true });
    if (caret && again && typeof again.setSelectionRange === "function") {
      try {
        again.setSelectionRange(caret[0], caret[1]);
      } catch {
        // a field that lost its selection API in the redraw
      }
    }
  }
}

/** Say `text` through an aria-live region (the same text twice is still read). */
export function announce(region, text) {
  if (!region) return;
  region.textContent = region.textContent === text ? `${text}\u00a0` : text;
}

/** A function that calls `draw` once on the next animation frame, however often it is called before. */
export function onNextFrame(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}

export function byId(id) {
  return document.getElementById(id);
}

/** A path segment of the page's URL: `/tournaments/t_1` -> segment(1) is "t_1". */
export function segment(index) {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean)[index] ?? "");
}

const retryTimers = new WeakMap(); // button -> the countdown keeping it off

/** A 429 refusal (an ApiError with `retry_after_ms`): `errorEl` counts the wait down, `button`
 * off until it is over, then says it may be tried again. A new wait replaces the one running. */
export function waitBeforeRetry(button, errorEl, refusal) {
  stopWaiting(button);
  let left = Math.max(1, Math.ceil((refusal.details?.retry_after_ms ?? 1000) / 1000));
  const say = () => {
    errorEl.textContent = `Too many tries: wait ${left} s, then try again.`;
  };
  button.disabled = true;
  say();
  retryTimers.set(button, setInterval(() => {
    left -= 1;
    if (left > 0) {
      say();
      return;
    }
    stopWaiting(button);
    button.disabled = false;
    errorEl.textContent = "You can try again now.";
  }, 1000));
}

/** End the countdown of `button`, if one runs. */
export function stopWaiting(button) {
  clearInterval(retryTimers.get(button));
  retryTimers.delete(button);
}

/** Run `action` with `button` disabled; an error is shown in `errorEl` (role=alert). */
export async function busy(button, errorEl, action) {
  if (button) button.disabled = true;
  if (errorEl) errorEl.textContent = "";
  try {
    return await action();
  } catch (error) {
    if (errorEl) errorEl.textContent = error.message || String(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
