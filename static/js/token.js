// The viewer's access token: read from ?token= once, kept in sessionStorage, removed from the URL;
// an event link (a token of one tournament) renewed before it runs out.

const KEY = "livebracket.token";
const RENEW_CHECK_MS = 60_000; // how often a page looks at its link's expiry
const RENEW_LEFT = 1 / 3; // renewed once less than this part of its lifetime is left
let memory = null; // when sessionStorage is unavailable (some embedded browsers)

function load() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return memory;
  }
}

export function saveToken(token) {
  memory = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    /* kept in memory only */
  }
}

export function forgetToken() {
  memory = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing kept */
  }
}

/** The token: a `?token=` in the address wins (and leaves the address), else the kept one. A
 * kept renewal of the address's link wins over it: a screen reloaded from its first address
 * (OBS does) keeps the link it renewed since. */
export function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    const kept = load();
    if (!kept || !renews(kept, fromUrl)) saveToken(fromUrl);
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  return load();
}

export function currentToken() {
  return load();
}

/** The token's claims, unverified: only to choose what to show (the server decides). `tid` is
 * the tournament of an event link (null for other tokens), `lg` its link generation. */
export function claims(token = load()) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      [...atob(part)].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    const data = JSON.parse(json);
    return {
      sub: data.sub ?? data.user_id ?? null,
      name: data.username ?? data.name ?? data.sub ?? null,
      role: data.role === "participant" ? "player" : data.role ?? "spectator",
      exp: data.exp ?? null,
      iat: data.iat ?? null,
      tid: data.tid ?? null,
      lg: data.lg ?? null,
      af: data.af ?? null, // a team member's link: the team (participant id) it plays for
    };
  } catch {
    return { sub: null, name: null, role: "spectator", exp: null, iat: null, tid: null, lg: null };
  }
}

const RANKS = { spectator: 0, player: 1, organizer: 2, admin: 3 };

export function isOrganizer(token = load()) {
  return RANKS[claims(token).role] >= RANKS.organizer;
}

/** Whether `kept` is the same event link as `given` (subject, tournament, generation), running longer. */
function renews(kept, given) {
  const a = claims(kept);
  const b = claims(given);
  return Boolean(a.tid) && a.tid === b.tid && a.sub === b.sub && JSON.stringify(a.lg) === JSON.stringify(b.lg)
    && a.exp > b.exp;
}

// -- renewing an event link ---------------------------------------------------------------------

/** Where a page hears of its token: "renewed" {previous, token}, "refused" {previous, code, message}
 * (the link was revoked or ended: renewing it again cannot succeed). */
export const tokenEvents = new EventTarget();

let renewing = null; // the renewal under way
let keeper = null; // the timer of keepRenewed
let givenUp = false; // refused once: not asked again

/** Whether `token` is an event link with less than a third of its lifetime left at `nowMs`. */
export function renewalDue(token, nowMs = Date.now()) {
  const { tid, iat, exp } = claims(token);
  if (!tid || typeof iat !== "number" || typeof exp !== "number" || exp <= iat) return false;
  return exp * 1000 - nowMs < (exp - iat) * 1000 * RENEW_LEFT;
}

/** Renew the kept token if it is due at `nowMs` (POST /api/tokens/renew), keep the new one and
 * tell `tokenEvents`. Resolves true when it was renewed; never rejects (a network failure is
 * tried again at the next check). */
export function renewIfDue(nowMs = Date.now()) {
  const token = load();
  if (givenUp || !token || !renewalDue(token, nowMs)) return Promise.resolve(false);
  renewing ??= renew(token).finally(() => {
    renewing = null;
  });
  return renewing;
}

async function renew(token) {
  let response;
  let data = null;
  try {
    response = await fetch("/api/tokens/renew", {
      method: "POST", cache: "no-store", body: "{}",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    });
    data = await response.json().catch(() => null);
  } catch {
    return false; // offline: the next check tries again
  }
  if (response.ok && typeof data?.token === "string") {
    if (load() === token) saveToken(data.token); // unless another token was given meanwhile
    tokenEvents.dispatchEvent(new CustomEvent("renewed", { detail: { previous: token, token: data.token } }));
    return true;
  }
  if (response.status === 401 || response.status === 422) {
    givenUp = true;
    clearInterval(keeper);
    const error = data?.error ?? {};
    tokenEvents.dispatchEvent(new CustomEvent("refused", { detail: { previous: token,
      code: error.code ?? `http_${response.status}`, message: error.message ?? "the link cannot be renewed" } }));
  }
  return false; // 429, 5xx: tried again at the next check
}

/** Check every `intervalMs` whether the page's event link is due for renewal (once per page;
 * tokens that are not event links are left alone). */
export function keepRenewed(intervalMs = RENEW_CHECK_MS) {
  if (keeper !== null || !claims().tid) return;
  keeper = setInterval(() => renewIfDue(), intervalMs);
  renewIfDue();
}
