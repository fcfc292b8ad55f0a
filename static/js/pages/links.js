// /organize/{id}/links: the printable sheet of player links: one card per participant with the
// QR code of their link, their 8-letter code and the address to type it at. Above the sheet (not
// printed): print it, revoke one player's link (the sheet then shows their new one), or every
// link of the tournament, players' and screens' alike. A tournament of teams adds each team's
// members' cards, grouped under their team: a member has no code, only their QR code.

import { get, post } from "../api.js";
import { announce, busy, byId, h, render, segment } from "../dom.js";
import { loadFailed, showGate } from "../gate.js";
import { teamOf } from "../rosterdesk.js";
import { playerLinks } from "../stations.js";
import { isOrganizer, takeToken } from "../token.js";

const SVG = "http://www.w3.org/2000/svg";
// What a QR code of the server's is drawn with (handlers/links.py: segno's inline SVG); the
// rest of the markup is dropped, so nothing in it can run.
const SVG_TAGS = new Set(["svg", "g", "path", "rect"]);
const SVG_ATTRIBUTES = new Set(["d", "fill", "stroke", "transform", "class", "x", "y", "width", "height", "viewBox"]);
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

const main = byId("main");
const tournamentId = segment(1);
const token = takeToken();
let tournament = null;
let links = []; // the minted links, in the participants' order, then the members' (with `withMembers`)
let withMembers = null; // whether the sheet holds the teams' members' cards (null: yes when there are teams)
let confirming = null; // a link's subject (a participant's or a member's id), or ALL: the revoke waiting for a yes
const renewed = new Set(); // subjects whose link changed since this page opened: their cards need reprinting
const ALL = "*all*";

if (!token) showGate(main);
else if (!isOrganizer(token)) showGate(main, "This page needs an organizer token.");
else load();

async function load() {
  try {
    await mint();
    draw();
  } catch (e) {
    loadFailed(main, e);
  }
}

/** Every participant's link with its QR code (their codes stay from one mint to the next), and
 * the members' links of every team; the tournament read again for its rosters. */
async function mint() {
  tournament = await get(`/api/tournaments/${tournamentId}`);
  withMembers ??= hasTeams();
  links = await playerLinks(tournamentId, { qr: true, members: withMembers && hasTeams() });
}

function hasTeams() {
  return (tournament.participants ?? []).some((p) => p.team);
}

const isMember = (link) => Boolean(link.acts_for);

function draw() {
  byId("page-title").textContent = `Player links: ${tournament.name}`;
  document.title = `Player links ${tournament.name} · livebracket`;
  render(main, tools(), sheet());
}

// -- above the sheet ----------------------------------------------------------------------------

function tools() {
  const origin = links.length ? new URL(links[0].url).origin : location.origin;
  const print = h("button", { type: "button", id: "print-sheet", class: "primary", onclick: () => printCards(null) },
    "Print");
  const members = links.filter(isMember).length;
  return h("section", { class: "panel links-tools no-print", "aria-labelledby": "links-title" },
    h("h2", { id: "links-title" }, `${links.length - members} player links`, members ? `, ${members} team member links` : ""),
    h("p", {}, "Each card holds one player's link for the whole tournament: they scan the QR code, or type their code at ",
      h("strong", {}, joinAddress(origin)), ". Cut the cards apart and hand them out."),
    LOCAL_HOSTS.has(new URL(origin).hostname)
      ? h("p", { class: "hint", role: "note", id: "links-local" }, "These links point at ", origin,
        ", which phones cannot open: open this page through the server's network address, as the phones will, "
        + "and print then.")
      : null,
    hasTeams() ? membersToggle() : null,
    h("p", { class: "row" }, print, h("a", { href: `/organize/${tournamentId}`, class: "button" }, "Back to the desk"),
      confirming === ALL ? null : h("button", { type: "button", id: "revoke-all", class: "danger",
        onclick: () => ask(ALL) }, "Revoke every link…")),
    confirming === ALL ? revokeAllConfirm() : null,
    h("p", { class: "error", role: "alert", id: "links-error" }));
}

/** Whether the sheet adds every team member's card (minted again when switched). */
function membersToggle() {
  const box = h("input", { type: "checkbox", id: "with-members", checked: withMembers, onchange: () => busy(box,
    byId("links-error"), async () => {
      withMembers = box.checked;
      await mint();
      draw();
      announce(byId("announcer"), withMembers ? "The members' cards are on the sheet" : "The members' cards are off the sheet");
    }) });
  return h("div", { class: "field check" }, box,
    h("label", { for: "with-members" }, "Add a card for each team member (their own link, grouped under their team)"));
}

function revokeAllConfirm() {
  const yes = h("button", { type: "button", class: "danger", id: "revoke-all-yes",
    onclick: () => revoke(yes, {}, "Every link revoked: this sheet shows the new ones. Print it again.") },
  `Revoke every link of ${tournament.name}`);
  return h("div", { class: "confirm", role: "group", "aria-label": `Revoke every link of ${tournament.name}?` },
    h("p", {}, h("strong", {}, `Revoke every link of ${tournament.name}?`),
      " Every player's link stops working at once, and so does every screen opened with a link of its own "
      + "(the queue board, the projector view, the stream overlay): open pages close. Reopen the screens from the desk, "
      + "and print this sheet again: it shows the new links, and every player's code changes too."),
    h("p", { class: "row" }, yes,
      h("button", { type: "button", id: "revoke-all-no", onclick: () => ask(null) }, "Keep them")));
}

function ask(subject) {
  confirming = subject;
  draw();
  byId(subject === ALL ? "revoke-all-yes" : subject ? `revoke-yes-${subject}` : "print-sheet")?.focus();
}

/** Revoke (`body`: {subject} or {} for all), then mint again so the sheet shows the new links. */
function revoke(button, body, done) {
  return busy(button, byId("links-error"), async () => {
    await post(`/api/tournaments/${tournamentId}/links/revoke`, body);
    await mint();
    if (body.subject) renewed.add(body.subject);
    else renewed.clear(); // the whole sheet is new: it is printed again
    confirming = null;
    draw();
    announce(byId("announcer"), done);
  });
}

/** Print the sheet, or only the card of `subject` (a new link after a revoke). */
function printCards(subject) {
  if (subject) document.body.dataset.printOne = subject;
  for (const card of document.querySelectorAll(".link-card")) {
    card.classList.toggle("print-this", card.dataset.subject === subject);
  }
  addEventListener("afterprint", () => delete document.body.dataset.printOne, { once: true });
  print();
}

// -- the sheet ----------------------------------------------------------------------------------

function sheet() {
  if (!links.length) {
    return h("p", { class: "empty" }, "No participants yet: add them on the desk, then come back for their links.");
  }
  const players = links.filter((l) => !isMember(l));
  const teams = (tournament.participants ?? []).filter((p) => p.team);
  return h("section", { class: "links-sheet", "aria-label": "Player cards" }, players.map(card),
    teams.map((team) => {
      const members = links.filter((l) => l.acts_for === team.id);
      return members.length ? [h("h2", { class: "links-team", id: `links-team-${team.id}` },
        `${team.name} (${team.team.tag}): ${members.length} member${members.length > 1 ? "s" : ""}`),
      members.map(card)] : null;
    }));
}

function card(link) {
  const subject = link.subject;
  const origin = new URL(link.url).origin;
  const member = isMember(link) ? teamOf(tournament.participants, subject) : null;
  const role = member ? `${member.member.role} of ${member.team.name}` : null;
  return h("article", { class: `link-card${member ? " member-card" : ""}${renewed.has(subject) ? " renewed" : ""}`,
    dataset: isMember(link) ? { subject, memberOf: link.acts_for } : { subject, participantId: link.participant_id },
    "aria-label": role ? `${link.name} — ${role}` : null, "aria-labelledby": role ? null : `card-name-${subject}` },
  h("p", { class: "link-event" }, tournament.name),
  h("h2", { class: "link-name", id: `card-name-${subject}` }, link.name),
  role ? h("p", { class: "link-team" }, role) : null,
  h("div", { class: "link-qr" }, qrElement(link.qr_svg, `QR code of ${link.name}'s link`)
    ?? h("p", { class: "error" }, member ? "The QR code could not be drawn: ask the organizer for your link."
      : "The QR code could not be drawn: use the code.")),
  member ? h("p", { class: "link-nocode" }, "No code to type: a team member opens their page with this QR code only.")
    : [h("p", { class: "link-code-line" }, "Your code ", h("strong", { class: "link-code" }, spaced(link.code))),
      h("p", { class: "link-join" }, "No camera? Open ", h("strong", {}, joinAddress(origin)), " and type your code.")],
  renewed.has(subject) ? h("p", { class: "link-renewed no-print", role: "note" }, "New link: print this card again.") : null,
  cardTools(link));
}

function cardTools(link) {
  const pid = link.subject;
  if (confirming !== pid) {
    return h("p", { class: "row card-tools no-print" },
      h("button", { type: "button", id: `revoke-${pid}`, onclick: () => ask(pid) }, `Revoke ${link.name}'s link…`),
      renewed.has(pid) ? h("button", { type: "button", id: `print-${pid}`, onclick: () => printCards(pid) },
        `Print ${link.name}'s card`) : null);
  }
  const yes = h("button", { type: "button", class: "danger", id: `revoke-yes-${pid}`,
    onclick: () => revoke(yes, { subject: pid }, `${link.name}'s link revoked: the sheet shows the new one.`) },
  `Yes, revoke ${link.name}'s link`);
  return h("div", { class: "confirm card-tools no-print", role: "group", "aria-label": `Revoke ${link.name}'s link?` },
    h("p", {}, `Revoke ${link.name}'s link? The QR code and the code printed so far stop working at once, and any page `
      + "open with the link closes. This card then shows a new QR code and a new code: print it again."),
    h("p", { class: "row" }, yes,
      h("button", { type: "button", id: `revoke-no-${pid}`, onclick: () => ask(null) }, "Keep it")));
}

/** "ABCD-EFGH": a code read off paper in two halves. */
function spaced(code) {
  return code ? `${code.slice(0, 4)}-${code.slice(4)}` : "–";
}

function joinAddress(origin) {
  return `${origin}/join/${tournamentId}`;
}

/** The server's QR code markup as an <svg> element of its drawing only (paths, no script), scaled
 * by CSS (a viewBox from its size); null when it cannot be read. */
function qrElement(markup, label) {
  if (!markup) return null;
  const source = new DOMParser().parseFromString(markup, "image/svg+xml").documentElement;
  if (source.localName !== "svg") return null; // a <parsererror>
  const svg = copySvg(source);
  const width = Number(source.getAttribute("width"));
  const height = Number(source.getAttribute("height"));
  if (!svg.hasAttribute("viewBox") && width > 0 && height > 0) svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  return svg;
}

function copySvg(node) {
  const copy = document.createElementNS(SVG, node.localName);
  for (const attribute of node.attributes) {
    if (SVG_ATTRIBUTES.has(attribute.name)) copy.setAttribute(attribute.name, attribute.value);
  }
  for (const child of node.children) {
    if (SVG_TAGS.has(child.localName)) copy.append(copySvg(child));
  }
  return copy;
}
