// Matches as the pages hold them: the newest version wins; names, states and scores in words.

import { get } from "./api.js";

export const STATE_LABELS = {
  scheduled: "Scheduled",
  check_in: "Check-in",
  ready: "Ready",
  live: "Live",
  pending_result: "Result pending",
  completed: "Completed",
  disputed: "Disputed",
  forfeit: "Forfeit",
  cancelled: "Cancelled",
};

/** Tournament formats and how to say them, in the order a form offers them. */
export const FORMATS = {
  single_elimination: "Single elimination",
  double_elimination: "Double elimination",
  round_robin: "Round robin",
  swiss: "Swiss",
  groups_playoffs: "Groups, then playoffs",
};
/** The formats whose tournament page shows tables (a group stage: one per group). */
export const TABLED = new Set(["round_robin", "swiss", "groups_playoffs"]);

/** The tiebreaks of round robin and Swiss tables (tournament/tiebreaks.py CRITERIA, in order; a test checks). */
export const TIEBREAKS = {
  wins: "Wins",
  points: "Points",
  head_to_head: "Head-to-head",
  score_difference: "Score difference",
  score_for: "Scores for",
  buchholz: "Buchholz",
  median_buchholz: "Median Buchholz",
  sonneborn_berger: "Sonneborn-Berger",
  seed: "Seed",
};
export const DEFAULT_TIEBREAKS = { round_robin: ["wins", "head_to_head", "score_difference"], swiss: ["wins", "buchholz"],
  groups_playoffs: ["wins", "head_to_head", "score_difference"] };

export const FINAL_STATES = new Set(["completed", "forfeit", "cancelled"]);
export const IN_PLAY = new Set(["check_in", "ready", "live", "pending_result", "disputed"]);

export function stateLabel(match) {
  if (match.bracket?.walkover) return match.participant_ids.some((p) => p) ? "Bye" : "Not played";
  return STATE_LABELS[match.state] ?? match.state;
}

/** Every match of a room by id; a match is replaced only by a newer version of itself. */
export class MatchBook {
  constructor() {
    this.byId = new Map();
  }

  reset(matches) {
    this.byId = new Map(matches.map((m) => [m.id, m]));
  }

  /** Keep `match` if it is newer than the one held; whether it was. */
  merge(match) {
    const held = this.byId.get(match.id);
    if (held && held.version >= match.version) return false;
    this.byId.set(match.id, match);
    return true;
  }

  /** Apply a `scores_updated` entry (a live score: `scores`, in a series `game`) to the match
   * held, if the entry is newer; whether it was. */
  score(update) {
    const held = this.byId.get(update.match_id);
    if (!held || held.version >= update.version) return false;
    const series = update.game != null;
    const games = series
      ? held.games.map((g) => (g.number === update.game ? { ...g, scores: update.scores } : g))
      : held.games;
    this.byId.set(held.id, { ...held, version: update.version, seq: update.match_seq, updated_at: update.updated_at,
      scores: series ? held.scores : update.scores, games });
    return true;
  }

  get(id) {
    return this.byId.get(id);
  }

  all() {
    return [...this.byId.values()];
  }
}

/** Every match of a tournament over REST, a page at a time, into `book` (newer versions win). */
export async function loadMatches(book, tournamentId) {
  let after = null;
  do {
    const query = after ? `?limit=1000&after=${encodeURIComponent(after)}` : "?limit=1000";
    const page = await get(`/api/tournaments/${tournamentId}/matches${query}`);
    page.matches.forEach((m) => book.merge(m));
    after = page.next;
  } while (after);
}

/**
 * Take a tournament welcome's matches into `book`: all of them (a reset), or, for a bracket too
 * big to send whole (`matches_complete: false`), the ones in play, then the rest over REST.
 * Resolves when `book` holds every match.
 */
export async function takeSnapshot(book, tournamentId, data) {
  if (data.matches_complete !== false) {
    book.reset(data.matches);
    return;
  }
  data.matches.forEach((m) => book.merge(m));
  await loadMatches(book, tournamentId);
}

/** Whether an event announced a bracket too big to carry: then `loadMatches` reads it. */
export const bracketLeftOut = (frame) => frame.data?.bracket === null && frame.data?.bracket_matches > 0;

/**
 * Apply a tournament socket's event to `book`: the match it carries, the matches of a
 * scores_updated (a window's live scores), the bracket a bracket_generated/bracket_updated
 * carries, a reset. Returns the tournament, newer if the event had one.
 */
export function applyTournamentEvent(book, tournament, frame) {
  const data = frame.data ?? {};
  if (data.reset && !data.match) book.reset([]);
  for (const round of data.bracket?.rounds ?? []) round.matches.forEach((m) => book.merge(m));
  if (data.match) book.merge(data.match);
  for (const update of frame.type === "scores_updated" ? data.updates ?? [] : []) {
    book.score(update);
  }
  const newer = data.tournament && (!tournament || data.tournament.version >= tournament.version);
  return newer ? { ...tournament, ...data.tournament } : tournament;
}

/** The events that name a participant (`data.participant`): a page's Names take them. */
export const NAMING = new Set(["participant_added", "participant_updated"]);

/** `participants` after a tournament room's participant event (added, updated, removed,
 * reseeded); the same list for any other frame. An add already in the list (a page's own,
 * announced back) changes nothing. */
export function applyParticipantEvent(participants, frame) {
  const data = frame.data ?? {};
  switch (frame.type) {
    case "participant_added":
      return participants.some((p) => p.id === data.participant.id) ? participants : [...participants, data.participant];
    case "participant_updated":
      return participants.map((p) => (p.id === data.participant.id ? data.participant : p));
    case "participant_removed":
      return participants.filter((p) => p.id !== data.participant_id);
    case "participants_reseeded": {
      const seeded = new Map(data.participants.map((p) => [p.id, p]));
      return participants.map((p) => seeded.get(p.id) ?? p);
    }
    default:
      return participants;
  }
}

/** Participant names by id; an unknown id shows as itself. */
export class Names {
  constructor(participants = []) {
    this.set(participants);
  }

  set(participants) {
    this.byId = new Map(participants.map((p) => [p.id, p.name]));
  }

  add(participant) {
    this.byId.set(participant.id, participant.name);
  }

  has(id) {
    return this.byId.has(id);
  }

  of(id) {
    return id ? this.byId.get(id) ?? id : null;
  }

  /** Read the tournament's participants again (one a match names is not known yet); true once
   * read, false when it failed (ids stand in for names meanwhile). */
  async reload(tournamentId) {
    try {
      this.set((await get(`/api/tournaments/${tournamentId}/participants`)).participants);
      return true;
    } catch {
      return false;
    }
  }
}

/** Who plays in slot 0 or 1: a name, or where they will come from. */
export function slotLabel(match, slot, names) {
  const id = match.participant_ids[slot];
  if (id) return { name: names.of(id), known: true };
  if (match.bracket?.byes?.[slot]) return { name: "Bye", known: false };
  const feed = match.bracket?.feeds?.[slot];
  return { name: feed ? feed.charAt(0).toUpperCase() + feed.slice(1) : "To be decided", known: false };
}

const PLAYED = new Set(["live", "pending_result", "disputed", "completed", "forfeit"]);

/** Whether the match has begun, so its scores mean something. */
export function started(match) {
  return PLAYED.has(match.state) || Boolean(match.result);
}

/** "Alice 3 – 1 Bob" once started, "Alice vs Bob" before. */
export function versus(match, names) {
  const [a, b] = match.participant_ids;
  const scored = started(match) && [a, b].every((id) => typeof scoreOf(match, id) === "number");
  return scored ? `${names.of(a)} ${scoreOf(match, a)} – ${scoreOf(match, b)} ${names.of(b)}`
    : `${names.of(a)} vs ${names.of(b)}`;
}

/** A player's score to show: the result when decided, else the live score, else "–". */
export function scoreOf(match, id) {
  const scores = match.result?.scores ?? match.scores ?? {};
  return id && scores[id] !== undefined ? scores[id] : "–";
}

export function matchTitle(match) {
  const group = match.bracket?.group;
  if (group && match.label) return `Group ${group} ${match.label.slice(group.length + 1)}`; // "Group B R2-1"
  return match.label || (match.round ? `Round ${match.round}` : "Match");
}

/** "Alice 3, Bob 1" for screen readers and announcements. */
export function scoreLine(match, names) {
  return match.participant_ids
    .map((id, slot) => `${slotLabel(match, slot, names).name} ${scoreOf(match, id)}`)
    .join(", ");
}
