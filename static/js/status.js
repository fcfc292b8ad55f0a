// The visible connection state of a LiveRoom: connected, reconnecting or offline (and a store outage).

import { h, render } from "./dom.js";

const WORDS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

/** Show `live`'s state in `el` (a role=status element), with a button to retry at once. */
export function showConnection(el, live) {
  let storeDown = false;
  const paint = () => {
    const { state, detail } = live;
    el.dataset.state = state;
    document.body.dataset.connection = state;
    const retry = (state === "reconnecting" || state === "offline") && !live.tokenRefused;
    render(el,
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("span", { class: "conn-text" }, WORDS[state] ?? state),
      detail ? h("span", { class: "conn-detail" }, ` — ${detail}`) : null,
      storeDown && state === "connected" ? h("span", { class: "conn-detail" }, " — the database is unreachable") : null,
      retry ? h("button", { type: "button", class: "link", id: "reconnect-now", onclick: () => live.retryNow() },
        "Reconnect now") : null);
  };
  const onState = live.handlers.onState;
  live.handlers.onState = (state, detail) => {
    onState?.(state, detail);
    paint();
  };
  const onStoreStatus = live.handlers.onStoreStatus;
  live.handlers.onStoreStatus = (data) => {
    onStoreStatus?.(data);
    storeDown = !data.available;
    paint();
  };
}
