// One match kept live for a page: its socket, its participants' names, newest version wins.

import { get } from "./api.js";
import { LiveRoom } from "./live.js";
import { Names } from "./matches.js";

/**
 * `watchMatch(id, token, {onUpdate, onEvent, onWelcome, onFrame, onAuthFailed})`: onUpdate(match,
 * previous, frame) runs on the snapshot and on every event that brings a newer match; onEvent(frame)
 * on every event; onFrame(frame) on every frame (a chat's typing indicators are not events).
 * Returns the LiveRoom (not started) and the names, filled in before onUpdate.
 */
export function watchMatch(matchId, token, { onUpdate, onAuthFailed, onWelcome, onEvent, onFrame }) {
  const names = new Names();
  let match = null;
  let namesFor = null;

  async function ensureNames(m) {
    const missing = m.participant_ids.some((id) => id && !names.has(id));
    if (namesFor === m.tournament_id && !missing) return;
    namesFor = m.tournament_id;
    try {
      names.set((await get(`/api/tournaments/${m.tournament_id}/participants`)).participants);
    } catch {
      /* ids stand in for names */
    }
  }

  async function show(next, frame) {
    const previous = match;
    if (previous && previous.version >= next.version && frame) return;
    match = next;
    await ensureNames(next);
    if (match === next) onUpdate(next, previous, frame);
  }

  const live = new LiveRoom(`/ws/match/${matchId}`, token, {
    onSnapshot: (data) => {
      onWelcome?.(data);
      match = null; // a fresh snapshot replaces whatever was shown
      show(data.match, null);
    },
    onEvent: (frame) => {
      onEvent?.(frame);
      if (frame.data?.match) show(frame.data.match, frame);
    },
    onFrame,
    onAuthFailed,
  });
  return { live, names, current: () => match };
}
