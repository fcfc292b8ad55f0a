// /: the tournaments, newest first, with links to watch (and to organize, for organizers).

import { ApiError, get } from "../api.js";
import { byId, h, render } from "../dom.js";
import { showGate, tokenRefused } from "../gate.js";
import { FORMATS } from "../matches.js";
import { isOrganizer, takeToken } from "../token.js";

const main = byId("main");
const token = takeToken();

if (!token) showGate(main);
else load();

async function load() {
  let list;
  try {
    list = (await get("/api/tournaments")).tournaments;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) tokenRefused(main, error.message);
    else render(main, h("p", { role: "alert" }, error.message));
    return;
  }
  const organizer = isOrganizer(token);
  render(main,
    organizer ? h("p", {}, h("a", { class: "button", href: "/organize" }, "New tournament")) : null,
    list.length
      ? h("ul", { class: "cards" }, list.map((t) => h("li", { class: "panel tournament-item" },
        h("h2", {}, h("a", { href: `/tournaments/${t.id}` }, t.name)),
        h("p", { class: "subtitle" }, [t.game, FORMATS[t.format] ?? t.format].filter(Boolean).join(" · "), " ",
          h("span", { class: `badge tstate-${t.state}` }, t.state)),
        h("p", { class: "row" },
          h("a", { href: `/tournaments/${t.id}` }, "Watch"),
          h("a", { href: `/tournaments/${t.id}?projector=1` }, "Projector"),
          organizer ? h("a", { href: `/organize/${t.id}` }, "Organize") : null))))
      : h("p", { class: "empty" }, organizer ? "No tournament yet: create one." : "No tournament yet."));
}
