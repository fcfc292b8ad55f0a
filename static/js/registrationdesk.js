// The desk's registration panel: self-registration's settings (open, cap, waitlist, approval),
// the public registration link with its QR code and a new code, the pending (approve, reject),
// the waitlist with places, the dropped, and the check-in window (open, close, what the start
// does with the late) with who has checked in and a "Check in" for each.

import { del, get, oneAtATime, patch, post, qrCode } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, h } from "./dom.js";
import { applyParticipantEvent } from "./matches.js";

const OPEN_STATES = ["draft", "registration"];
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
const AT_START = { drop: "are dropped", bottom: "play, with the last seeds" };
const AT_START_HINT = {
  drop: "Their places go to the waitlisted who checked in, in waitlist order.",
  bottom: "The checked-in keep their seed order on top. Needs the seeding “By seed”.",
};

/** The public registration page of `tournamentId` with `code`, on this server. */
export function registrationUrl(tournamentId, code) {
  return `${location.origin}/register/${encodeURIComponent(tournamentId)}?code=${encodeURIComponent(code)}`;
}

/** `participants` (the registered: those who play) after a tournament room's frame: an entry
 * of another status (pending, waitlisted, dropped) is left out, and one that becomes registered
 * (approved, promoted) comes in, in registration order. */
export function applyEntryEvent(participants, frame) {
  const p = frame.data?.participant;
  const registered = (q) => (q.status ?? "registered") === "registered";
  if (frame.type === "participant_updated" && p && registered(p) && !participants.some((q) => q.id === p.id)) {
    return [...participants, p].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
  }
  return applyParticipantEvent(participants, frame).filter(registered);
}

/**
 * `registrationDesk({tournamentId, redraw, changed})`: `view(tournament, participants)` is the
 * panel; `refresh()` reads the registration again (on the socket's participant_* and
 * registration_updated frames); `changed(participants)` takes the list after a write of this
 * panel (approvals and promotions change who is registered).
 */
export function registrationDesk({ tournamentId, redraw, changed }) {
  const base = `/api/tournaments/${tournamentId}`;
  let registration = null; // GET .../registration, as last read
  let loadError = "";
  let draft = null; // the settings form while it is being edited: {open, cap, waitlist, approval}
  let qr = null; // {url, src}: the QR code of the registration link, once drawn
  let drawing = null; // the link whose QR code is being drawn
  const errors = { settings: "", link: "", entries: "", checkIn: "" }; // the last refusal of each part

  /** Read the registration (one read at a time; asks during one make one more after it). */
  const read = oneAtATime(async () => {
    try {
      registration = await get(`${base}/registration`);
      loadError = "";
    } catch (e) {
      loadError = e.message || String(e);
    }
  });

  async function refresh() {
    await read();
    redraw();
  }

  function view(tournament, participants) {
    const title = h("h2", { id: "registration-title" }, "Registration");
    if (!registration) {
      return [title, loadError ? h("p", { class: "error", role: "alert" }, loadError) : h("p", { class: "muted" }, "Loading…")];
    }
    const registering = OPEN_STATES.includes(tournament.state);
    return [
      title,
      loadError ? h("p", { class: "error", role: "alert" }, loadError) : null,
      registering ? [settingsForm(), linkPart(tournament)] : h("p", { class: "muted" }, "Registration ended when the tournament started."),
      entries(registering),
      checkInPart(participants, registering),
    ];
  }

  // -- the settings ----------------------------------------------------------------------------

  function settingsForm() {
    const r = registration;
    const shown = draft ?? { open: r.open, cap: r.cap === null ? "" : String(r.cap), waitlist: r.waitlist,
      approval: r.approval };
    const edit = (field, value) => {
      draft = { ...(draft ?? shown), [field]: value }; // the handlers outlive this render: read draft anew
    };
    const check = (id, field, label) => h("div", { class: "field check" },
      h("input", { id, type: "checkbox", checked: shown[field], onchange: (e) => edit(field, e.currentTarget.checked) }),
      h("label", { for: id }, label));
    const save = h("button", { type: "submit", class: "primary", id: "reg-save" }, "Save");
    return h("form", { class: "stack reg-settings", "aria-label": "Self-registration", onsubmit: (e) => {
      e.preventDefault();
      const chosen = draft ?? shown;
      act(save, async () => {
        const body = { open: chosen.open, waitlist: chosen.waitlist, approval: chosen.approval,
          cap: chosen.cap.trim() ? Number(chosen.cap) : null };
        registration = await patch(`${base}/registration`, body);
        draft = null;
        announce(byId("announcer"), "Registration saved");
      }, "settings");
    } },
    h("p", { class: "reg-summary", id: "reg-summary" }, summary(r)),
    check("reg-open-on", "open", "Players may register themselves"),
    h("div", { class: "field" }, h("label", { for: "reg-cap" }, "Places (empty: no limit)"),
      h("input", { id: "reg-cap", type: "number", min: 1, max: 4096, inputmode: "numeric", value: shown.cap,
        oninput: (e) => edit("cap", e.currentTarget.value) })),
    check("reg-waitlist-on", "waitlist", "Past the places, a waitlist (else refused)"),
    check("reg-approval-on", "approval", "I approve each registration"),
    h("p", { class: "row" }, save, draft ? h("button", { type: "button", id: "reg-undo", onclick: () => {
      draft = null;
      redraw();
    } }, "Undo the changes") : null),
    h("p", { class: "error", role: "alert", id: "reg-settings-error" }, errors.settings));
  }

  function summary(r) {
    const places = r.cap === null ? `${r.registered} registered, no limit` : `${r.registered} of ${r.cap} places taken`;
    return [h("strong", {}, r.open ? "Open" : "Closed"), ` · ${places}`,
      r.waitlist ? ` · ${r.waitlisted.length} on the waitlist` : "", r.approval ? ` · ${r.pending.length} to approve` : ""];
  }

  // -- the link and its code -------------------------------------------------------------------

  function linkPart() {
    const code = registration.code;
    if (!code) return h("p", { class: "muted", id: "reg-no-link" }, "Open registration to get its link and QR code.");
    const url = registrationUrl(tournamentId, code);
    if (qr?.url !== url) drawQr(url);
    const renew = h("button", { type: "button", id: "reg-new-code", onclick: () => act(renew, async () => {
      if (!await confirmAction({ title: "Make a new registration code?",
        text: h("p", {}, "The link and QR code handed out so far stop working at once: players who have not "
          + "registered yet need the new one. Those registered keep their places."),
        confirm: "Make a new code" })) return;
      registration = await post(`${base}/registration/code`, {});
      announce(byId("announcer"), "New registration code made");
    }, "link") }, "Make a new code");
    return h("div", { class: "reg-link" },
      h("h3", {}, "Registration link"),
      LOCAL_HOSTS.has(location.hostname) ? h("p", { class: "hint" }, "This page was opened through ", location.hostname,
        ": phones need the server's network address. Open the desk through it to hand this link out.") : null,
      h("p", {}, h("a", { id: "reg-link", class: "long-link", href: url, target: "_blank", rel: "noopener" }, url)),
      h("p", { class: "small" }, "Code ", h("strong", { id: "reg-code", class: "reg-code" }, code)),
      qr?.url === url ? h("img", { id: "reg-qr", class: "reg-qr", src: qr.src, alt: "QR code of the registration link",
        width: 240, height: 240 }) : null,
      h("p", { class: "row" }, renew),
      h("p", { class: "error", role: "alert", id: "reg-link-error" }, errors.link));
  }

  async function drawQr(url) {
    if (drawing === url) return;
    drawing = url;
    try {
      const src = await qrCode(url);
      if (drawing !== url) return URL.revokeObjectURL(src); // a newer code came meanwhile
      if (qr) URL.revokeObjectURL(qr.src);
      qr = { url, src };
    } catch (e) {
      errors.link = e.message || String(e);
    } finally {
      if (drawing === url) drawing = null;
    }
    redraw();
  }

  // -- pending, waitlisted, dropped ------------------------------------------------------------

  function entries(registering) {
    const { pending, waitlisted, dropped } = registration;
    return [
      pending.length ? h("div", { class: "reg-list" }, h("h3", {}, `To approve (${pending.length})`),
        h("ul", { class: "people", id: "reg-pending" }, pending.map((p) => h("li", { dataset: { participantId: p.id } },
          h("span", { class: "name" }, p.name), " ", h("span", { class: "muted" }, p.id),
          registering ? h("span", { class: "row small person-actions" },
            actionButton(`approve-${p.id}`, `Approve ${p.name}`, "Approve", async () => {
              const done = await post(`${base}/participants/${encodeURIComponent(p.id)}/approve`, {});
              announce(byId("announcer"), done.status === "waitlisted" ? `${p.name} is on the waitlist` : `${p.name} approved`);
            }),
            actionButton(`reject-${p.id}`, `Reject ${p.name}`, "Reject", async () => {
              if (!await confirmAction({ title: `Reject ${p.name}?`,
                text: h("p", {}, `${p.name}'s registration is removed; their link stops working.`),
                confirm: `Reject ${p.name}` })) return;
              await post(`${base}/participants/${encodeURIComponent(p.id)}/reject`, {});
              announce(byId("announcer"), `${p.name} rejected`);
            })) : null)))) : null,
      waitlisted.length ? h("div", { class: "reg-list" }, h("h3", {}, `Waitlist (${waitlisted.length})`),
        h("ol", { class: "people", id: "reg-waitlist" }, waitlisted.map((p) => h("li", { dataset: { participantId: p.id } },
          h("span", { class: "name" }, p.name), " ", h("span", { class: "muted" }, `place ${p.place}`),
          p.checked_in_at ? h("span", { class: "badge checked-in" }, "Checked in") : null,
          registering ? h("span", { class: "row small person-actions" },
            actionButton(`unlist-${p.id}`, `Take ${p.name} off the waitlist`, "Remove", async () => {
              if (!await confirmAction({ title: `Take ${p.name} off the waitlist?`,
                text: h("p", {}, `${p.name} leaves the waitlist; the players after them move up.`),
                confirm: `Remove ${p.name}` })) return;
              await del(`${base}/participants/${encodeURIComponent(p.id)}`);
              announce(byId("announcer"), `${p.name} taken off the waitlist`);
            })) : null)))) : null,
      dropped.length ? h("div", { class: "reg-list" }, h("h3", {}, `Dropped (${dropped.length})`),
        h("p", { class: "muted small" }, "Did not check in before the start."),
        h("ul", { class: "people", id: "reg-dropped" }, dropped.map((p) => h("li", { dataset: { participantId: p.id } },
          h("span", { class: "name" }, p.name))))) : null,
      h("p", { class: "error", role: "alert", id: "reg-entries-error" }, errors.entries),
    ];
  }

  function actionButton(id, label, text, action, where = "entries") {
    const button = h("button", { type: "button", class: "link", id, "aria-label": label,
      onclick: () => act(button, action, where) }, text);
    return button;
  }

  // -- check-in ----------------------------------------------------------------------------------

  function checkInPart(participants, registering) {
    const { state, at_start: atStart } = registration.check_in;
    const people = [...participants, ...registration.waitlisted];
    const inCount = participants.filter((p) => p.checked_in_at).length;
    const setState = (id, next, label, cls = "") => {
      const button = h("button", { type: "button", id, class: cls, onclick: () => act(button, async () => {
        registration = await patch(`${base}/registration`, { check_in: { state: next } });
        announce(byId("announcer"), `Check-in ${next === "off" ? "turned off" : next === "open" ? "opened" : "closed"}`);
      }, "checkIn") }, label);
      return button;
    };
    const said = { off: "Check-in is not used.", open: "Check-in is open: players check in from their page.",
      closed: "Check-in is closed: only you can check someone in." }[state];
    return h("div", { class: "reg-checkin", role: "group", "aria-labelledby": "checkin-title" },
      h("h3", { id: "checkin-title" }, "Check-in"),
      h("p", { id: "checkin-state" }, said),
      registering ? h("p", { class: "row" },
        state === "open" ? null : setState("checkin-open", "open", state === "closed" ? "Reopen check-in" : "Open check-in",
          "primary"),
        state === "open" ? setState("checkin-close", "closed", "Close check-in") : null,
        state === "off" ? null : setState("checkin-off", "off", "Turn check-in off")) : null,
      state === "off" ? null : [
        registering ? h("div", { class: "field" },
          h("label", { for: "checkin-at-start" }, "At the start, the registered who did not check in"),
          h("select", { id: "checkin-at-start", onchange: (e) => {
            const value = e.currentTarget.value;
            act(e.currentTarget, async () => {
              registration = await patch(`${base}/registration`, { check_in: { at_start: value } });
              announce(byId("announcer"), "Saved");
            }, "checkIn");
          }, "aria-describedby": "checkin-at-start-hint" }, Object.entries(AT_START).map(([value, words]) =>
            h("option", { value, selected: value === atStart }, words))),
          h("small", { id: "checkin-at-start-hint" }, AT_START_HINT[atStart])) : null,
        h("p", { id: "checkin-count" }, `${inCount} of ${participants.length} registered checked in`),
        people.length ? h("ul", { class: "people checkin-list", id: "checkin-list" }, people.map((p) =>
          h("li", { dataset: { participantId: p.id }, class: p.checked_in_at ? "checked-in" : "" },
            h("span", { class: "name" }, p.name),
            p.status === "waitlisted" ? h("span", { class: "muted" }, ` · waitlist ${p.place}`) : null, " ",
            p.checked_in_at ? h("span", { class: "badge checked-in" }, "Checked in")
              : registering ? actionButton(`checkin-${p.id}`, `Check in ${p.name}`, "Check in", async () => {
                await post(`${base}/check-in`, { participant_id: p.id });
                announce(byId("announcer"), `${p.name} checked in`);
              }, "checkIn") : h("span", { class: "muted" }, "not checked in")))) : null,
      ],
      h("p", { class: "error", role: "alert", id: "checkin-error" }, errors.checkIn));
  }

  /** Run a write of the panel with `button` disabled; its refusal goes to `errors[where]`; the
   * registration and the participants are read again afterwards either way. */
  async function act(button, action, where) {
    errors[where] = "";
    if (button) button.disabled = true;
    try {
      await action();
    } catch (e) {
      const message = e.message || String(e);
      errors[where] = message[0].toUpperCase() + message.slice(1); // the server's words, as a sentence
    } finally {
      if (button) button.disabled = false;
      try {
        changed((await get(`${base}/participants`)).participants);
      } catch {
        // the socket's events bring the list too
      }
      await refresh();
    }
  }

  return { view, refresh };
}
