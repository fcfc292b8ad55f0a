// The WebSocket client of one room (docs/protocol.md): welcome and snapshot, events in seq
// order without duplicates, recovery with ?since=&epoch=, reconnects with backoff and jitter;
// an event link is renewed on a timer and before each reconnect (token.js), and its renewal used.
// The pages use it, and so may any page or overlay tool on another origin, importing it from
// this server's /static/js/live.js with whole URLs of this server (docs/clients.md).

import { ApiError } from "./api.js";
import { CLOSE, LIMITED, TOKEN_REFUSED, reconnects } from "./closecodes.js";
import { keepRenewed, renewIfDue, tokenEvents } from "./token.js";

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

/**
 * `new LiveRoom("/ws/match/m_1", token, handlers)`, then `start()`; the path may be a whole URL of
 * another server (http(s):// or ws(s)://), for a page served elsewhere. Handlers, all optional:
 * onSnapshot(welcomeData): redraw everything (a fresh snapshot: recovered is false).
 * onEvent(frame): the next event, exactly once, in seq order.
 * onState(state, detail): "connecting" | "connected" | "reconnecting" | "offline".
 * onAuthFailed(message, reason): the token was refused (the room stays offline); `reason` is the
 *   refusal's reason when it has one (token_revoked: the organizer revoked this link; the message says so).
 * `start()` also keeps the page's event link renewed (token.js keepRenewed).
 * onGone(frame): the tournament was deleted (`tournament_deleted`, after onEvent): the room stops.
 * onPresence(data), onStoreStatus(data), onFrame(frame): those frames as they come.
 */
export class LiveRoom {
  constructor(path, token, handlers = {}) {
    this.path = path;
    this.token = token;
    this.handlers = handlers;
    this.state = "connecting";
    this.detail = "";
    this.lastSeq = null; // the seq of the last event applied (or of the snapshot)
    this.epoch = null;
    this.welcome = null;
    this.ws = null;
    this.backoff = MIN_BACKOFF_MS;
    this.retryAfterMs = 0;
    this.timer = null;
    this.watchdog = null;
    this.lastFrameAt = 0;
    this.resyncing = false;
    this.stopped = false;
    this.tokenRefused = false; // closed for its token: another is needed
    this.reason = null; // the last refusal's reason (error frames with a close_code)
    this.opening = false; // a connect waiting for a renewal
    this.pending = new Map();
    this.nextId = 1;
    this.onOnline = () => this.retryNow();
    this.onOffline = () => this.ws?.close();
    this.onRenewed = (e) => {
      if (e.detail.previous === this.token) this.token = e.detail.token;
    };
    this.onRefused = (e) => {
      if (e.detail.previous === this.token) this.refuseToken(e.detail.message, e.detail.code);
    };
  }

  start() {
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
    tokenEvents.addEventListener("renewed", this.onRenewed);
    tokenEvents.addEventListener("refused", this.onRefused);
    keepRenewed();
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    tokenEvents.removeEventListener("renewed", this.onRenewed);
    tokenEvents.removeEventListener("refused", this.onRefused);
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    this.ws?.close(CLOSE.NORMAL);
  }

  retryNow() {
    if (this.stopped || this.tokenRefused || this.opening || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  url() {
    const base = new URL(this.path, location.href); // a path of this page's server, or a whole URL
    base.protocol = base.protocol === "https:" || base.protocol === "wss:" ? "wss:" : "ws:";
    base.searchParams.set("token", this.token);
    if (this.lastSeq !== null) {
      base.searchParams.set("since", String(this.lastSeq));
      if (this.epoch) base.searchParams.set("epoch", this.epoch);
    }
    return base.href;
  }

  async connect() {
    this.setState(this.welcome ? "reconnecting" : "connecting", this.welcome ? "connecting…" : "");
    if (this.welcome) {
      // A reconnect (a night asleep, a dropped link): a link near its end is renewed first.
      this.opening = true;
      await renewIfDue();
      this.opening = false;
    }
    if (this.stopped || this.tokenRefused) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.handlers.onFrame?.(frame);
      this.frame(frame);
    };
    ws.onclose = (close) => {
      if (this.ws === ws) this.closed(close.code);
    };
  }

  frame(f) {
    switch (f.type) {
      case "connection_established":
      case "subscribed":
        return this.welcomed(f.data);
      case "ping":
        return this.write({ type: "pong", timestamp: f.timestamp });
      case "ack":
        return this.settle(f.id, f.data, null);
      case "error":
        if (f.retry_after_ms) this.retryAfterMs = f.retry_after_ms;
        if (f.id !== undefined) this.settle(f.id, null, new ApiError(0, f.code, f.message, f));
        else if (f.close_code) {
          this.detail = f.message;
          this.reason = f.reason ?? f.code;
        }
        return;
      case "presence":
        return this.handlers.onPresence?.(f.data);
      case "store_status":
        return this.handlers.onStoreStatus?.(f.data);
      default:
        if (typeof f.seq === "number") this.event(f);
    }
  }

  welcomed(data) {
    this.epoch = data.epoch;
    this.welcome = data;
    this.resyncing = false;
    this.backoff = MIN_BACKOFF_MS;
    this.retryAfterMs = 0;
    this.reason = null;
    if (!data.recovered) {
      this.lastSeq = data.seq;
      this.handlers.onSnapshot?.(data);
    } // recovered: state and lastSeq stand; the missed events follow in order
    this.startWatchdog(data.heartbeat_interval);
    this.setState("connected");
  }

  event(f) {
    if (this.lastSeq !== null && f.seq <= this.lastSeq) return; // already applied
    if (this.lastSeq !== null && f.seq > this.lastSeq + 1) {
      // A gap: ask to be caught up; the missed frames (this one included) are replayed.
      if (!this.resyncing) {
        this.resyncing = true;
        this.write({ type: "subscribe", data: { since: this.lastSeq, epoch: this.epoch } });
      }
      return;
    }
    this.lastSeq = f.seq;
    this.handlers.onEvent?.(f);
    if (f.type === "tournament_deleted") {
      this.stop();
      this.setState("offline", "the tournament was deleted");
      this.handlers.onGone?.(f);
    }
  }

  closed(code) {
    this.ws = null;
    clearInterval(this.watchdog);
    for (const { reject } of this.pending.values()) {
      reject(new ApiError(0, "connection_lost", "The connection was lost; check the state before retrying."));
    }
    this.pending.clear();
    if (this.stopped || this.tokenRefused) return;
    if (TOKEN_REFUSED.has(code)) {
      this.refuseToken(this.detail, this.reason);
      return;
    }
    if (!reconnects(code)) {
      this.setState("offline", this.detail || `refused (${code})`);
      return;
    }
    let wait = this.backoff;
    const refusal = LIMITED.has(code) ? `${this.detail}; ` : "";
    if (refusal) wait = Math.max(wait, this.retryAfterMs);
    this.backoff = Math.min(2 * this.backoff, MAX_BACKOFF_MS);
    const delay = Math.round(wait / 2 + (Math.random() * wait) / 2); // "equal jitter"
    if (!navigator.onLine) {
      this.setState("offline", "no network; waiting for it");
      return; // the online event reconnects
    }
    this.setState("reconnecting", `${refusal}retrying in ${Math.ceil(delay / 1000)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** The token cannot be used again (refused at the socket, or its renewal was): offline for
   * good, and the page is told once why. */
  refuseToken(message, reason) {
    if (this.tokenRefused) return;
    this.tokenRefused = true;
    clearTimeout(this.timer);
    this.ws?.close(CLOSE.NORMAL); // its close finds the room refused: no reconnect
    this.setState("offline", "the access token was refused");
    this.handlers.onAuthFailed?.(message || "the token was refused", reason);
  }

  startWatchdog(intervalMs) {
    // A silent server (a dead link the browser has not noticed) is dropped after 2.5 intervals.
    clearInterval(this.watchdog);
    const limit = 2.5 * (intervalMs || 25000);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastFrameAt > limit) this.ws?.close();
    }, limit / 5);
  }

  setState(state, detail = "") {
    this.state = state;
    this.detail = detail;
    this.handlers.onState?.(state, detail);
  }

  write(frame) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** A command (ready_up, report_score, ...): resolves with the ack's data, rejects with an ApiError. */
  send(type, data = {}) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      if (!this.write({ type, id, data })) {
        reject(new ApiError(0, "not_connected", "Not connected; try again when the connection is back."));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  settle(id, data, error) {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    if (error) waiting.reject(error);
    else waiting.resolve(data);
  }
}
