// A match's chat on a page: its messages live, a form to write, who is typing, and the
// organizer's delete and mute (docs/protocol.md#match-chat).

import { busy, h } from "./dom.js";

const TYPING_SHOWN_MS = 4000;

/**
 * `new ChatBox(live, redraw)`: call `welcome(data)` with each welcome and `frame(f)` with every
 * frame of the match socket; `view()` is the chat's panel, built afresh each time. `redraw()`
 * is asked for when something changed.
 */
export class ChatBox {
  constructor(live, redraw) {
    this.live = live;
    this.redraw = redraw;
    this.messages = [];
    this.muted = new Set();
    this.canWrite = false;
    this.me = null;
    this.organizer = false;
    this.typing = new Map(); // user id -> {name, until}
    this.lastTyped = 0;
  }

  welcome(data) {
    this.messages = [...(data.chat?.messages ?? [])];
    this.muted = new Set(data.chat?.muted ?? []);
    this.canWrite = Boolean(data.can_chat);
    this.me = data.user_id;
    this.organizer = data.role === "organizer" || data.role === "admin";
    this.player = Boolean(data.is_participant);
    this.redraw();
  }

  frame(f) {
    const d = f.data ?? {};
    if (f.type === "chat_message") {
      if (!this.messages.some((m) => m.id === d.message.id)) this.messages = [...this.messages, d.message].slice(-50);
      this.typing.delete(d.message.user_id);
    } else if (f.type === "chat_message_deleted") {
      this.messages = this.messages.filter((m) => m.id !== d.message_id);
    } else if (f.type === "chat_user_muted") {
      const key = `${d.role}:${d.user_id}`;
      if (d.muted) this.muted.add(key);
      else this.muted.delete(key);
      if (d.user_id === this.me && d.muted) this.canWrite = false;
    } else if (f.type === "chat_typing") {
      if (d.user_id === this.me) return;
      this.typing.set(d.user_id, { name: d.name, until: Date.now() + TYPING_SHOWN_MS });
      setTimeout(() => this.redraw(), TYPING_SHOWN_MS + 50);
    } else {
      return;
    }
    this.redraw();
  }

  view() {
    const now = Date.now();
    const typing = [...this.typing.values()].filter((t) => t.until > now).map((t) => t.name);
    const input = h("textarea", { id: "chat-text", name: "text", rows: 2, maxlength: 400, required: true,
      "aria-label": "Message", oninput: () => this.typed() });
    const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
    const error = h("p", { id: "chat-error", class: "error", role: "alert" });
    return h("section", { class: "panel chat", "aria-labelledby": "chat-title" },
      h("h2", { id: "chat-title" }, "Chat"),
      this.messages.length
        ? h("ol", { class: "chat-log", "aria-live": "polite" }, this.messages.map((m) => this.line(m)))
        : h("p", { class: "empty" }, "No message yet."),
      h("p", { class: "muted small typing", "aria-live": "polite" },
        typing.length ? `${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…` : ""),
      this.canWrite
        ? h("form", {
          class: "chat-form",
          onsubmit: (e) => {
            e.preventDefault();
            busy(send, error, async () => {
              await this.live.send("chat_send", { text: input.value });
              input.value = "";
              delete input.dataset.dirty;
            });
          },
        }, input, send, error)
        : h("p", { class: "muted small" }, this.muted.has(`player:${this.me}`)
          ? "You are muted in this chat." : "You can read this chat."));
  }

  line(m) {
    const mine = m.user_id === this.me;
    const key = `${m.role}:${m.user_id}`;
    return h("li", { class: `chat-line${mine ? " mine" : ""}`, dataset: { messageId: m.id } },
      h("span", { class: "who" }, m.name, m.role === "organizer" ? " (organizer)" : ""), " ",
      h("span", { class: "text" }, m.text),
      this.organizer && !mine ? h("span", { class: "moderate" },
        h("button", { type: "button", class: "link", onclick: () => this.live.send("chat_delete", { message_id: m.id }) },
          "Delete"),
        h("button", { type: "button", class: "link",
          onclick: () => this.live.send("chat_mute", { user_id: m.user_id, role: m.role, muted: !this.muted.has(key) }) },
        this.muted.has(key) ? "Unmute" : "Mute")) : null);
  }

  typed() {
    const now = Date.now();
    if (!this.player) return; // only players show that they type
    if (now - this.lastTyped < 2000) return;
    this.lastTyped = now;
    this.live.write({ type: "chat_typing" });
  }
}
