// The viewer's access token: read from ?token= once, kept in sessionStorage, removed from the URL.

const KEY = "livebracket.token";
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

/** The token: a `?token=` in the address wins (and leaves the address), else the kept one. */
export function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    saveToken(fromUrl);
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  return load();
}

export function currentToken() {
  return load();
}

/** The token's claims, unverified: only to choose what to show (the server decides). */
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
    };
  } catch {
    return { sub: null, name: null, role: "spectator", exp: null };
  }
}

const RANKS = { spectator: 0, player: 1, organizer: 2, admin: 3 };

export function isOrganizer(token = load()) {
  return RANKS[claims(token).role] >= RANKS.organizer;
}
